import assert from "node:assert/strict";
import { test } from "node:test";

import { IncidentFoxClient, IncidentFoxError, WaitTimeoutError, pollDelays } from "../src/index.js";
import { BASE, ID, TOKEN, accepted, fakeFetch, fakeSleep, statusBody } from "./support/fake-fetch.js";

function client(fetch, sleep) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep });
}

test("the poll delays are 1, 2, 4, 8 s and then 10 s for ever", () => {
  const delays = pollDelays();
  const first = Array.from({ length: 8 }, () => delays.next().value);
  assert.deepEqual(first, [1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
});

test("investigate with wait sleeps 1, 2, 4, 8, 10, 10 s between polls until the run completes", async () => {
  const running = { body: statusBody("running") };
  const fetch = fakeFetch(accepted(), running, running, running, running, running, { body: statusBody("completed") });
  const sleep = fakeSleep();
  const inv = await client(fetch, sleep).investigate({ message: "m" });
  assert.equal(inv.status, "completed");
  assert.deepEqual(sleep.sleeps, [1000, 2000, 4000, 8000, 10000, 10000]);
  assert.equal(fetch.calls.length, 7, "one POST and six status polls");
  for (const call of fetch.calls.slice(1)) {
    assert.equal(call.method, "GET");
    assert.equal(call.url.pathname, `/api/v1/agents/status/${ID}`);
  }
});

test("investigations.wait polls at once, then backs off, and stops at failed and cancelled too", async () => {
  for (const terminal of ["failed", "cancelled"]) {
    const running = { body: statusBody("running") };
    const fetch = fakeFetch(running, running, running, { body: statusBody(terminal) });
    const sleep = fakeSleep();
    const inv = await client(fetch, sleep).investigations.wait(ID);
    assert.equal(inv.status, terminal);
    assert.deepEqual(sleep.sleeps, [1000, 2000, 4000]);
    assert.equal(inv.summary, null);
  }
});

test("a run already finished when accepted is fetched once, without sleeping", async () => {
  const fetch = fakeFetch(accepted("completed"), { body: statusBody("completed") });
  const sleep = fakeSleep();
  const inv = await client(fetch, sleep).investigate({ message: "m" });
  assert.equal(inv.summary, "Connection pool exhaustion on payments-db");
  assert.deepEqual(sleep.sleeps, []);
  assert.equal(fetch.calls.length, 2);
});

test("wait with timeoutMs rejects with WaitTimeoutError, a plain Error, once that time has been waited", async () => {
  const fetch = fakeFetch({ body: statusBody("running") });
  const sleep = fakeSleep();
  const error = await client(fetch, sleep)
    .investigations.wait(ID, { timeoutMs: 5000 })
    .then(
      () => assert.fail("resolved"),
      (e) => e,
    );
  assert.ok(error instanceof WaitTimeoutError);
  assert.ok(error instanceof Error);
  assert.ok(!(error instanceof IncidentFoxError));
  assert.equal(error.investigationId, ID);
  assert.equal(error.investigation.status, "running");
  assert.deepEqual(sleep.sleeps, [1000, 2000, 2000], "the last sleep is cut to what is left, then one last poll");
  assert.equal(fetch.calls.length, 4);
});

test("investigate passes waitTimeoutMs on to the wait", async () => {
  const fetch = fakeFetch(accepted(), { body: statusBody("running") });
  const sleep = fakeSleep();
  await assert.rejects(client(fetch, sleep).investigate({ message: "m", waitTimeoutMs: 1500 }), WaitTimeoutError);
  assert.deepEqual(sleep.sleeps, [1000, 500]);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { IncidentFoxClient, NetworkError, RateLimitError, RequestTimeoutError } from "../src/index.js";
import { BASE, ID, TOKEN, accepted, apiError, fakeFetch, fakeSleep, statusBody } from "./support/fake-fetch.js";

function client(fetch, sleep, options = {}) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep, ...options });
}

function limited(retryAfter, message = "Too many requests") {
  const response = apiError(429, "rate_limited", message, { retry_after: retryAfter });
  response.headers["Retry-After"] = String(retryAfter);
  return response;
}

test("a 429 waits Retry-After seconds through sleep and retries, then succeeds", async () => {
  const fetch = fakeFetch(limited(7), limited(2), { body: statusBody("running") });
  const sleep = fakeSleep();
  const inv = await client(fetch, sleep).investigations.get(ID);
  assert.equal(inv.status, "running");
  assert.deepEqual(sleep.sleeps, [7000, 2000]);
  assert.equal(fetch.calls.length, 3);
});

test("the Retry-After header is honoured when the body is not JSON", async () => {
  const fetch = fakeFetch({ status: 429, raw: "slow down", headers: { "Retry-After": "5" } }, { body: {} });
  const sleep = fakeSleep();
  await client(fetch, sleep).config.getEffective();
  assert.deepEqual(sleep.sleeps, [5000]);
});

test("after maxRetries retries the 429 rejects with RateLimitError carrying retryAfter", async () => {
  const fetch = fakeFetch(limited(42, "Too many investigation requests"));
  const sleep = fakeSleep();
  const error = await client(fetch, sleep, { maxRetries: 3 })
    .investigate({ message: "m" })
    .then(
      () => assert.fail("resolved"),
      (e) => e,
    );
  assert.ok(error instanceof RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.retryAfter, 42);
  assert.equal(error.message, "Too many investigation requests");
  assert.equal(error.requestId, "req_jD6w5IPpcumagJpbMZEe");
  assert.equal(fetch.calls.length, 4, "the first try and three retries");
  assert.deepEqual(sleep.sleeps, [42000, 42000, 42000]);
});

test("maxRetries 0 rejects on the first 429 without sleeping", async () => {
  const fetch = fakeFetch(limited(3));
  const sleep = fakeSleep();
  await assert.rejects(client(fetch, sleep, { maxRetries: 0 }).investigations.list(), RateLimitError);
  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(sleep.sleeps, []);
});

test("a retried POST resends the same body and headers", async () => {
  const fetch = fakeFetch(limited(1), accepted());
  const sleep = fakeSleep();
  await client(fetch, sleep).investigate({ message: "m", wait: false, idempotencyKey: "k1" });
  assert.equal(fetch.calls.length, 2);
  assert.deepEqual(fetch.calls[0].body, fetch.calls[1].body);
  assert.equal(fetch.calls[1].headers["idempotency-key"], "k1");
});

test("a network failure of a GET is retried", async () => {
  const fetch = fakeFetch(new TypeError("fetch failed"), { body: statusBody("running") });
  const sleep = fakeSleep();
  const inv = await client(fetch, sleep).investigations.get(ID);
  assert.equal(inv.status, "running");
  assert.equal(fetch.calls.length, 2);
  assert.equal(sleep.sleeps.length, 1);
});

test("a network failure of a POST without an idempotency key is not retried", async () => {
  const fetch = fakeFetch(new TypeError("fetch failed"), { body: statusBody("cancelled") });
  const sleep = fakeSleep();
  const error = await client(fetch, sleep)
    .investigations.cancel(ID)
    .then(
      () => assert.fail("resolved"),
      (e) => e,
    );
  assert.ok(error instanceof NetworkError);
  assert.equal(error.code, "network_error");
  assert.equal(error.status, null);
  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(sleep.sleeps, []);
});

test("no answer within timeoutMs rejects with RequestTimeoutError", async () => {
  const hang = (call) =>
    new Promise((_, reject) => call.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  const fetch = fakeFetch(hang);
  const error = await client(fetch, fakeSleep(), { timeoutMs: 20, maxRetries: 0 })
    .config.update({ slack_channel: "#x" })
    .then(
      () => assert.fail("resolved"),
      (e) => e,
    );
  assert.ok(error instanceof RequestTimeoutError);
  assert.ok(error instanceof NetworkError);
  assert.equal(error.code, "request_timeout");
});

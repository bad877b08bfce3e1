import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ConflictError,
  IncidentFoxClient,
  NetworkError,
  RequestAbortedError,
  ServerError,
  backoffMs,
} from "../src/index.js";
import { BASE, ID, TOKEN, accepted, apiError, fakeFetch, fakeSleep, statusBody } from "./support/fake-fetch.js";

function client(fetch, sleep, options = {}) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep, ...options });
}

const serverError = (status = 503, headers = {}) => ({ ...apiError(status, "server_error", "Internal server error"), headers });

async function rejection(promise) {
  return promise.then(
    () => assert.fail("resolved"),
    (error) => error,
  );
}

test("backoff doubles from 500 ms with jitter between half and all of the step, capped at 8 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, () => 1)), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, () => 0)), [250, 500, 1000, 2000, 4000, 4000]);
  const drawn = Array.from({ length: 200 }, () => backoffMs(2));
  assert.ok(drawn.every((ms) => ms >= 1000 && ms <= 2000));
  assert.ok(new Set(drawn).size > 100, "really jittered");
});

test("a 5xx on a GET is retried with jittered backoff, then succeeds", async () => {
  const fetch = fakeFetch(serverError(503), serverError(500), { body: statusBody("running") });
  const sleep = fakeSleep();
  const inv = await client(fetch, sleep).investigations.get(ID);
  assert.equal(inv.status, "running");
  assert.equal(fetch.calls.length, 3);
  assert.ok(sleep.sleeps[0] >= 250 && sleep.sleeps[0] <= 500, String(sleep.sleeps));
  assert.ok(sleep.sleeps[1] >= 500 && sleep.sleeps[1] <= 1000, String(sleep.sleeps));
});

test("a 5xx with Retry-After waits that long; PUT and DELETE are retried too", async () => {
  const fetch = fakeFetch(serverError(503, { "Retry-After": "4" }), { body: { version: 2 } });
  const sleep = fakeSleep();
  await client(fetch, sleep).config.update({ alerts: { disabled: [] } });
  assert.deepEqual(sleep.sleeps, [4000]);
  assert.deepEqual(fetch.calls.map((c) => c.method), ["PUT", "PUT"]);
  const deleting = fakeFetch(serverError(502), { status: 204, raw: null });
  await client(deleting, fakeSleep()).knowledge.delete("doc_1");
  assert.deepEqual(deleting.calls.map((c) => c.method), ["DELETE", "DELETE"]);
});

test("a 5xx on a POST without an idempotency key is not retried; after maxRetries the ServerError rejects", async () => {
  const fetch = fakeFetch(serverError(500));
  const sleep = fakeSleep();
  assert.ok((await rejection(client(fetch, sleep).investigations.cancel(ID))) instanceof ServerError);
  assert.equal(fetch.calls.length, 1);
  const again = fakeFetch(serverError(500));
  assert.ok((await rejection(client(again, fakeSleep(), { maxRetries: 2 }).me())) instanceof ServerError);
  assert.equal(again.calls.length, 3);
  const conflict = fakeFetch(apiError(409, "conflict", "Investigation is already completed"));
  assert.ok((await rejection(client(conflict, fakeSleep()).investigations.cancel(ID))) instanceof ConflictError);
  assert.equal(conflict.calls.length, 1, "a 4xx is never retried");
});

test("investigate always sends an Idempotency-Key, so its network failure is retried with the same key", async () => {
  const fetch = fakeFetch(new TypeError("fetch failed"), serverError(502), accepted());
  const sleep = fakeSleep();
  await client(fetch, sleep).investigate({ message: "checkout is down", wait: false });
  assert.equal(fetch.calls.length, 3);
  const keys = new Set(fetch.calls.map((c) => c.headers["idempotency-key"]));
  assert.equal(keys.size, 1);
  assert.match([...keys][0], /^ifjs_[0-9a-f]{32}$/);
  assert.deepEqual(fetch.calls[0].body, fetch.calls[2].body);
});

test("lastResponse exposes the request id, rate-limit headers and attempts", async () => {
  const headers = {
    "X-Request-ID": "req_abc",
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "95",
    "X-RateLimit-Reset": "1705318260",
  };
  const fetch = fakeFetch(serverError(503), { body: statusBody("running"), headers });
  const c = client(fetch, fakeSleep());
  assert.equal(c.lastResponse, null);
  await c.investigations.get(ID);
  assert.equal(c.lastResponse.requestId, "req_abc");
  assert.deepEqual(c.lastResponse.rateLimit, { limit: 100, remaining: 95, reset: 1705318260 });
  assert.equal(c.lastResponse.attempts, 2);
  assert.equal(c.lastResponse.status, 200);
});

test("per-call timeoutMs and headers apply to that call only", async () => {
  const fetch = fakeFetch({ body: statusBody("running") });
  const c = client(fetch, fakeSleep());
  await c.investigations.get(ID, { headers: { "X-Request-ID": "mine-1" } });
  await c.investigations.get(ID);
  assert.equal(fetch.calls[0].headers["x-request-id"], "mine-1");
  assert.equal(fetch.calls[1].headers["x-request-id"], undefined);
});

// -- AbortSignal ----------------------------------------------------------------------------------------------------

test("an already aborted signal rejects with RequestAbortedError without sending", async () => {
  const fetch = fakeFetch({ body: {} });
  const error = await rejection(client(fetch, fakeSleep()).config.getEffective({ signal: AbortSignal.abort("stop") }));
  assert.ok(error instanceof RequestAbortedError);
  assert.equal(error.code, "aborted");
  assert.equal(error.cause, "stop");
  assert.equal(fetch.calls.length, 0);
});

test("aborting during the request rejects at once, is not retried and reaches fetch's signal", async () => {
  const controller = new AbortController();
  const hang = (call) =>
    new Promise((_, reject) => call.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  const fetch = fakeFetch(hang);
  const pending = client(fetch, fakeSleep()).investigations.get(ID, { signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  const error = await rejection(pending);
  assert.ok(error instanceof RequestAbortedError);
  assert.ok(!(error instanceof NetworkError));
  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0].signal.aborted, true);
});

test("aborting during the wait between retries stops the retries", async () => {
  const controller = new AbortController();
  const fetch = fakeFetch(serverError(503, { "Retry-After": "30" }));
  const neverEnding = () => new Promise(() => {});
  const pending = client(fetch, neverEnding).investigations.get(ID, { signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  assert.ok((await rejection(pending)) instanceof RequestAbortedError);
  assert.equal(fetch.calls.length, 1);
});

test("aborting investigate's polling stops the wait", async () => {
  const controller = new AbortController();
  const fetch = fakeFetch(accepted(), { body: statusBody("running") });
  let polls = 0;
  const sleep = async () => {
    polls += 1;
    if (polls === 3) controller.abort();
  };
  const error = await rejection(client(fetch, sleep).investigate({ message: "m", signal: controller.signal }));
  assert.ok(error instanceof RequestAbortedError);
  assert.equal(fetch.calls.filter((c) => c.method === "GET").length, 2);
});

// -- paging and the newer endpoints -------------------------------------------------------------------------------------

function pagedInvestigations(total) {
  return (call) => {
    const offset = Number(call.url.searchParams.get("offset"));
    const limit = Number(call.url.searchParams.get("limit"));
    const investigations = [];
    for (let n = offset; n < Math.min(offset + limit, total); n++) investigations.push({ investigation_id: `inv_${n}` });
    return { body: { investigations, pagination: { total, limit, offset } } };
  };
}

test("iterate walks every page by offset and stops at the total", async () => {
  const fetch = fakeFetch(pagedInvestigations(5));
  const ids = [];
  for await (const inv of client(fetch, fakeSleep()).investigations.iterate({ status: ["failed"], pageSize: 2 })) {
    ids.push(inv.investigation_id);
  }
  assert.deepEqual(ids, ["inv_0", "inv_1", "inv_2", "inv_3", "inv_4"]);
  assert.deepEqual(
    fetch.calls.map((c) => [c.url.searchParams.get("offset"), c.url.searchParams.get("status")]),
    [["0", "failed"], ["2", "failed"], ["4", "failed"]],
  );
});

test("config audit and pending, webhooks and alert deliveries call their documented paths", async () => {
  const fetch = fakeFetch((call) => {
    const path = call.url.pathname.replace("/api/v1", "");
    const bodies = {
      "/config/me/audit": { history: [{ version: 3 }] },
      "/config/me/pending": { changes: [{ change_request_id: "cr_1" }] },
      "/webhooks/secret": { secret: "whsec_x" },
      "/webhooks/secret/rotate": { secret: "whsec_y" },
      "/webhooks/test": { success: true },
      "/webhooks/deliveries": { deliveries: [], pagination: { total: 0, limit: 50, offset: 0 } },
      "/integrations/deliveries": { deliveries: [{ provider: "alertmanager" }], pagination: { total: 1, limit: 100, offset: 0 } },
    };
    return { body: bodies[path] };
  });
  const c = client(fetch, fakeSleep());
  assert.deepEqual(await c.config.audit({ limit: 5, includeFull: false }), [{ version: 3 }]);
  assert.deepEqual(await c.config.pending({ status: "all" }), [{ change_request_id: "cr_1" }]);
  assert.equal((await c.webhooks.secret()).secret, "whsec_x");
  assert.equal((await c.webhooks.rotateSecret()).secret, "whsec_y");
  assert.equal((await c.webhooks.test({ url: "https://hooks.example.com/x" })).success, true);
  assert.equal((await c.webhooks.deliveries({ outcome: "success", investigationId: ID })).pagination.total, 0);
  const alerts = [];
  for await (const d of c.integrations.iterateDeliveries({ provider: "alertmanager" })) alerts.push(d.provider);
  assert.deepEqual(alerts, ["alertmanager"]);
  assert.deepEqual(
    fetch.calls.map((call) => `${call.method} ${call.url.pathname.replace("/api/v1", "")}${call.url.search}`),
    [
      "GET /config/me/audit?limit=5&include_full=false",
      "GET /config/me/pending?status=all",
      "GET /webhooks/secret",
      "POST /webhooks/secret/rotate",
      "POST /webhooks/test",
      `GET /webhooks/deliveries?investigation_id=${ID}&outcome=success`,
      "GET /integrations/deliveries?provider=alertmanager&limit=100&offset=0",
    ],
  );
  assert.deepEqual(fetch.calls[4].body, { url: "https://hooks.example.com/x" });
});

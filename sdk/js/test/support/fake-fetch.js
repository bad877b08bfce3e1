// A scripted stand-in for `fetch` and `sleep`: no network, no real waiting. (node --test also loads this file as a
// test module because it sits under test/; it defines no tests.)

/**
 * `fakeFetch(step, step, …)`: each call to the returned `fetch` consumes the next step. A step is
 * `{status, body, headers, raw}` (body is JSON-encoded unless `raw` is given; `raw: null` answers without a body,
 * as a 204 does), an Error to reject with, or a
 * function `(call) => step`. The last step repeats when the script runs out. `fetch.calls` records each request.
 */
export function fakeFetch(...steps) {
  const calls = [];
  async function fetch(url, init = {}) {
    const headers = new Headers(init.headers);
    const call = {
      url: new URL(url),
      method: init.method ?? "GET",
      headers: Object.fromEntries(headers.entries()),
      body: init.body === undefined ? undefined : JSON.parse(init.body),
      signal: init.signal,
    };
    calls.push(call);
    let step = steps[Math.min(calls.length - 1, steps.length - 1)];
    if (typeof step === "function") step = await step(call);
    if (step instanceof Error) throw step;
    const { status = 200, body = {}, headers: responseHeaders = {}, raw } = step;
    return new Response(raw === null ? null : (raw ?? JSON.stringify(body)), {
      status,
      headers: { "Content-Type": raw === undefined ? "application/json" : "text/html", ...responseHeaders },
    });
  }
  fetch.calls = calls;
  return fetch;
}

/** A `sleep` that returns at once and records the milliseconds asked for. */
export function fakeSleep() {
  const sleeps = [];
  const sleep = async (ms) => {
    sleeps.push(ms);
  };
  sleep.sleeps = sleeps;
  return sleep;
}

export const TOKEN = "ift_OcRJ7tG7gp5B.2VYubcccwRaKclOi00iG1tyw26gQ7NGhLW59xdYx";
export const BASE = "https://incidentfox.test/api/v1";
export const ID = "inv_WvGvOGX2m7biqW8BKzh9";

export function statusBody(status, extra = {}) {
  const body = {
    investigation_id: ID,
    status,
    agent: "planner",
    message: "High error rate in checkout",
    trigger_source: "api",
    created_at: "2024-01-15T14:44:59Z",
  };
  if (status === "completed") {
    body.result = {
      summary: "Connection pool exhaustion on payments-db",
      root_cause: { description: "v2.14.0 leaks connections", confidence: 92, evidence: [] },
      timeline: [{ timestamp: "2024-01-15T14:29:00Z", event: "payments-api v2.14.0 deployed" }],
      affected_systems: ["payments-api", "payments-db"],
      recommendations: [{ priority: "high", action: "Roll back payments-api to v2.13.2" }],
    };
    body.tools_used = ["get_cloudwatch_metrics"];
  }
  return { ...body, ...extra };
}

export function accepted(status = "pending") {
  return {
    status: 202,
    body: { investigation_id: ID, status, poll_url: `/api/v1/agents/status/${ID}`, created_at: "2024-01-15T14:44:59Z" },
  };
}

export function apiError(status, code, message, extra = {}) {
  return {
    status,
    body: { error: { code, message, request_id: "req_jD6w5IPpcumagJpbMZEe", ...extra } },
    headers: { "X-Request-ID": "req_jD6w5IPpcumagJpbMZEe" },
  };
}

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { IncidentFoxClient, Investigation, VERSION } from "../src/index.js";
import { BASE, ID, TOKEN, accepted, fakeFetch, fakeSleep, statusBody } from "./support/fake-fetch.js";

function client(fetch, options = {}) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep: fakeSleep(), ...options });
}

describe("requests", () => {
  test("every request sends the bearer token, Accept and the SDK header, and no team header by default", async () => {
    const fetch = fakeFetch({ body: statusBody("running") });
    await client(fetch).investigations.get(ID);
    const [call] = fetch.calls;
    assert.equal(call.method, "GET");
    assert.equal(call.url.href, `${BASE}/agents/status/${ID}`);
    assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(call.headers.accept, "application/json");
    assert.equal(call.headers["x-incidentfox-sdk"], `js/${VERSION}`);
    assert.equal(VERSION, JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version);
    assert.equal(call.headers["content-type"], undefined, "no body, no Content-Type");
    assert.equal(call.headers["x-team-id"], undefined);
  });

  test("teamId is sent as X-Team-Id on every request", async () => {
    const fetch = fakeFetch(accepted(), { body: statusBody("completed") });
    const api = client(fetch, { teamId: "team-platform" });
    await api.investigate({ message: "m" });
    assert.equal(fetch.calls.length, 2);
    for (const call of fetch.calls) assert.equal(call.headers["x-team-id"], "team-platform");
  });

  test("a trailing slash on baseUrl is dropped", async () => {
    const fetch = fakeFetch({ body: {} });
    await client(fetch, { baseUrl: `${BASE}/` }).config.getEffective();
    assert.equal(fetch.calls[0].url.href, `${BASE}/config/me/effective`);
  });

  test("the constructor refuses a missing token", () => {
    const saved = [process.env.INCIDENTFOX_API_KEY, process.env.INCIDENTFOX_TOKEN];
    delete process.env.INCIDENTFOX_API_KEY;
    delete process.env.INCIDENTFOX_TOKEN;
    try {
      assert.throws(() => new IncidentFoxClient({}), TypeError);
    } finally {
      if (saved[0] !== undefined) process.env.INCIDENTFOX_API_KEY = saved[0];
      if (saved[1] !== undefined) process.env.INCIDENTFOX_TOKEN = saved[1];
    }
  });

  test("token and baseUrl default to INCIDENTFOX_API_KEY (or INCIDENTFOX_TOKEN) and INCIDENTFOX_BASE_URL", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.INCIDENTFOX_API_KEY;
      process.env.INCIDENTFOX_TOKEN = "ift_from_token_var";
      process.env.INCIDENTFOX_BASE_URL = `${BASE}/`;
      const fetch = fakeFetch({ body: {} }, { body: {} });
      await new IncidentFoxClient({ fetch, sleep: fakeSleep() }).config.getEffective();
      assert.equal(fetch.calls[0].headers.authorization, "Bearer ift_from_token_var");
      assert.equal(fetch.calls[0].url.href, `${BASE}/config/me/effective`);
      process.env.INCIDENTFOX_API_KEY = "ift_from_api_key_var";
      await new IncidentFoxClient({ fetch, sleep: fakeSleep() }).config.getEffective();
      assert.equal(fetch.calls[1].headers.authorization, "Bearer ift_from_api_key_var", "the API key wins");
    } finally {
      for (const name of ["INCIDENTFOX_API_KEY", "INCIDENTFOX_TOKEN", "INCIDENTFOX_BASE_URL"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  test("the token is not an enumerable field, so logging the client does not print it", () => {
    const api = client(fakeFetch({}));
    assert.ok(!JSON.stringify(Object.keys(api)).includes("token"));
  });
});

describe("investigate", () => {
  test("posts agent_name, message, context, timeout and async: true with a JSON content type", async () => {
    const fetch = fakeFetch(accepted());
    const inv = await client(fetch).investigate({
      message: "High error rate in checkout",
      agent: "k8s_agent",
      context: { service: "checkout", severity: "high" },
      timeout: 120,
      maxTurns: 10,
      idempotencyKey: "deploy-42",
      wait: false,
    });
    const [call] = fetch.calls;
    assert.equal(call.method, "POST");
    assert.equal(call.url.href, `${BASE}/agents/run`);
    assert.equal(call.headers["content-type"], "application/json");
    assert.equal(call.headers["idempotency-key"], "deploy-42");
    assert.deepEqual(call.body, {
      agent_name: "k8s_agent",
      message: "High error rate in checkout",
      context: { service: "checkout", severity: "high" },
      timeout: 120,
      max_turns: 10,
      async: true,
    });
    assert.ok(inv instanceof Investigation);
    assert.equal(inv.investigation_id, ID);
    assert.equal(inv.status, "pending");
    assert.equal(inv.poll_url, `/api/v1/agents/status/${ID}`);
    assert.equal(inv.summary, null);
  });

  test("defaults to the planner and leaves out context and timeout when not given", async () => {
    const fetch = fakeFetch(accepted());
    await client(fetch).investigate({ message: "m", wait: false });
    assert.deepEqual(fetch.calls[0].body, { agent_name: "planner", message: "m", async: true });
  });

  test("accepts the message as a plain string", async () => {
    const fetch = fakeFetch(accepted());
    await client(fetch).investigate("Disk full on db-1", { wait: false });
    assert.equal(fetch.calls[0].body.message, "Disk full on db-1");
  });

  test("with wait, resolves the final status body with getters that read the result", async () => {
    const fetch = fakeFetch(accepted(), { body: statusBody("running") }, { body: statusBody("completed") });
    const inv = await client(fetch).investigate({ message: "m" });
    assert.equal(inv.status, "completed");
    assert.equal(inv.id, ID);
    assert.equal(inv.done, true);
    assert.equal(inv.summary, "Connection pool exhaustion on payments-db");
    assert.equal(inv.rootCause.confidence, 92);
    assert.equal(inv.recommendations[0].priority, "high");
    assert.equal(inv.timeline[0].event, "payments-api v2.14.0 deployed");
    assert.deepEqual(inv.affectedSystems, ["payments-api", "payments-db"]);
    assert.deepEqual(inv.tools_used, ["get_cloudwatch_metrics"], "raw snake_case fields are kept");
    assert.deepEqual(JSON.parse(JSON.stringify(inv)), statusBody("completed"), "JSON gives the raw body back");
  });
});

describe("investigations", () => {
  test("list builds the query string from the given filters only", async () => {
    const page = { investigations: [], pagination: { total: 0, limit: 5, offset: 10 } };
    const fetch = fakeFetch({ body: page });
    const result = await client(fetch).investigations.list({
      limit: 5,
      offset: 10,
      status: ["completed", "failed"],
      agent: "planner",
      since: new Date("2024-01-15T00:00:00Z"),
      until: "2024-01-16",
      q: "payments & checkout",
    });
    assert.deepEqual(result, page);
    const { url } = fetch.calls[0];
    assert.equal(url.pathname, "/api/v1/agents/investigations");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      limit: "5",
      offset: "10",
      status: "completed,failed",
      agent: "planner",
      since: "2024-01-15T00:00:00.000Z",
      until: "2024-01-16",
      q: "payments & checkout",
    });
  });

  test("list with no filters sends no query string, and offset 0 is kept", async () => {
    const fetch = fakeFetch({ body: { investigations: [], pagination: {} } });
    const api = client(fetch);
    await api.investigations.list();
    await api.investigations.list({ offset: 0, status: "running", agent: undefined, q: null });
    assert.equal(fetch.calls[0].url.search, "");
    assert.equal(fetch.calls[1].url.search, "?offset=0&status=running");
  });

  test("cancel posts to the cancel route with no body and resolves an Investigation", async () => {
    const fetch = fakeFetch({ body: statusBody("cancelled", { cancelled_at: "2024-01-15T14:45:02Z" }) });
    const inv = await client(fetch).investigations.cancel(ID);
    const [call] = fetch.calls;
    assert.equal(call.method, "POST");
    assert.equal(call.url.pathname, `/api/v1/agents/status/${ID}/cancel`);
    assert.equal(call.body, undefined);
    assert.equal(call.headers["content-type"], undefined);
    assert.ok(inv instanceof Investigation);
    assert.equal(inv.status, "cancelled");
    assert.equal(inv.rootCause, null);
  });

  test("ids are escaped in the path", async () => {
    const fetch = fakeFetch({ body: statusBody("running") });
    await client(fetch).investigations.get("inv_../../admin");
    assert.equal(fetch.calls[0].url.pathname, "/api/v1/agents/status/inv_..%2F..%2Fadmin");
  });
});

describe("config", () => {
  test("getEffective reads the merged config", async () => {
    const fetch = fakeFetch({ body: { team_name: "Platform", mcp_servers: ["grafana"] } });
    const cfg = await client(fetch).config.getEffective();
    assert.equal(fetch.calls[0].url.pathname, "/api/v1/config/me/effective");
    assert.deepEqual(cfg.mcp_servers, ["grafana"]);
  });

  test("update PUTs the patch and resolves the 200 applied body as-is", async () => {
    const applied = { message: "Configuration updated successfully", version: 7, changed_fields: ["mcp_servers"] };
    const fetch = fakeFetch({ body: applied });
    const result = await client(fetch).config.update({ mcp_servers: ["grafana"], slack_channel: null });
    const [call] = fetch.calls;
    assert.equal(call.method, "PUT");
    assert.equal(call.url.pathname, "/api/v1/config/me");
    assert.equal(call.headers["content-type"], "application/json");
    assert.deepEqual(call.body, { mcp_servers: ["grafana"], slack_channel: null });
    assert.deepEqual(result, applied);
  });

  test("update resolves the 202 pending-approval body as-is", async () => {
    const pending = {
      message: "Configuration change submitted for approval",
      change_request_id: "cr_wg7xRE40eRa7NuJO",
      status: "pending_approval",
      approvers: ["admin@acme.com"],
      changes: { mcp_servers: { old: [], new: ["grafana"] } },
    };
    const fetch = fakeFetch({ status: 202, body: pending });
    assert.deepEqual(await client(fetch).config.update({ mcp_servers: ["grafana"] }), pending);
  });
});

// The package loads with require() (CommonJS, Node 18) and with import, through its "exports" map, as one copy.
const assert = require("node:assert/strict");
const { test } = require("node:test");

test("require() of the package name resolves the CommonJS entry with every export", () => {
  const sdk = require("@incidentfox/sdk");
  assert.equal(require.resolve("@incidentfox/sdk"), require.resolve("../src/index.cjs"));
  assert.equal(typeof sdk.IncidentFoxClient, "function");
  assert.equal(typeof sdk.NotFoundError, "function");
  assert.equal(sdk.VERSION, require("@incidentfox/sdk/package.json").version);
  const client = new sdk.IncidentFoxClient({ token: "ift_x", baseUrl: "http://127.0.0.1:9/api/v1" });
  assert.ok(client.investigations && client.config && client.webhooks && client.knowledge && client.integrations);
});

test("import() and require() share the same classes, so instanceof works across both", async () => {
  const esm = await import("@incidentfox/sdk");
  const cjs = require("@incidentfox/sdk");
  assert.equal(esm.IncidentFoxClient, cjs.IncidentFoxClient);
  assert.equal(esm.RateLimitError, cjs.RateLimitError);
  assert.equal(esm.default, cjs);
  const errors = await import("../src/errors.js");
  assert.equal(errors.IncidentFoxError, cjs.IncidentFoxError);
});

test("a CommonJS caller gets typed errors from a real request", async () => {
  const { IncidentFoxClient, NotFoundError } = require("@incidentfox/sdk");
  const fetch = async () =>
    new Response(JSON.stringify({ error: { code: "not_found", message: "Not found", request_id: "req_cjs" } }), {
      status: 404,
      headers: { "Content-Type": "application/json" },
    });
  const client = new IncidentFoxClient({ token: "ift_x", baseUrl: "http://api.test/api/v1", fetch });
  await assert.rejects(client.investigations.get("inv_x"), (error) => error instanceof NotFoundError && error.requestId === "req_cjs");
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { IncidentFoxClient } from "../src/index.js";
import { BASE, ID, TOKEN, fakeFetch, fakeSleep } from "./support/fake-fetch.js";

function client(fetch) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep: fakeSleep() });
}

describe("knowledge", () => {
  test("teach posts the document with snake_case fields and drops the ones not given", async () => {
    const fetch = fakeFetch({ status: 201, body: { document_id: "kb_x", version: 1 } });
    const taught = await client(fetch).knowledge.teach({ content: "# Runbook", service: "checkout", nodeId: "eng" });
    const [call] = fetch.calls;
    assert.equal(call.method, "POST");
    assert.equal(call.url.href, `${BASE}/kb/teach`);
    assert.deepEqual(call.body, { content: "# Runbook", type: "runbook", service: "checkout", node_id: "eng" });
    assert.equal(taught.document_id, "kb_x");
  });

  test("retrieve and answer send top_k and include_sources", async () => {
    const fetch = fakeFetch({ body: { query_id: "kbq_1", results: [] } }, { body: { query_id: "kbq_2", answer: "a" } });
    const api = client(fetch);
    await api.knowledge.retrieve({ query: "pod restarts", topK: 3 });
    await api.knowledge.answer({ question: "why?", includeSources: false });
    assert.deepEqual(fetch.calls[0].body, { query: "pod restarts", top_k: 3 });
    assert.deepEqual(fetch.calls[1].body, { question: "why?", include_sources: false });
    assert.equal(fetch.calls[1].url.pathname.endsWith("/kb/answer"), true);
  });

  test("feedback resolves undefined on the 204 answer", async () => {
    const fetch = fakeFetch({ status: 204, raw: null });
    const result = await client(fetch).knowledge.feedback({ queryId: "kbq_1", helpful: true });
    assert.equal(result, undefined);
    assert.deepEqual(fetch.calls[0].body, { query_id: "kbq_1", helpful: true });
  });

  test("documents, get, delete, treeStats and status use their paths", async () => {
    const fetch = fakeFetch({ body: {} }, { body: {} }, { status: 204, raw: null }, { body: {} }, { body: {} });
    const api = client(fetch);
    await api.knowledge.documents({ type: "note", limit: 5 });
    await api.knowledge.get("kb_1");
    await api.knowledge.delete("kb_1");
    await api.knowledge.treeStats();
    await api.knowledge.status();
    assert.deepEqual(
      fetch.calls.map((call) => `${call.method} ${call.url.pathname}${call.url.search}`),
      [
        "GET /api/v1/kb/documents?limit=5&type=note",
        "GET /api/v1/kb/documents/kb_1",
        "DELETE /api/v1/kb/documents/kb_1",
        "GET /api/v1/kb/tree/stats",
        "GET /api/v1/kb/status",
      ],
    );
  });

  test("postmortem sends save=true and the edited markdown", async () => {
    const fetch = fakeFetch({ body: { investigation_id: ID, markdown: "# PM", document_id: "kb_9" } });
    const written = await client(fetch).investigations.postmortem(ID, { save: true, markdown: "# PM" });
    const [call] = fetch.calls;
    assert.equal(call.url.pathname, `/api/v1/agents/status/${ID}/postmortem`);
    assert.equal(call.url.searchParams.get("save"), "true");
    assert.deepEqual(call.body, { markdown: "# PM" });
    assert.equal(written.document_id, "kb_9");
  });
});

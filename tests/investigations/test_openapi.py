"""The OpenAPI schema documents the Agent API, including the run endpoint served by the async wrapper."""

import json


def test_the_schema_documents_the_run_endpoint_with_its_body_and_both_answers(anonymous):
    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    run = schema["paths"]["/api/v1/agents/run/"]["post"]
    body = run["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][body]["properties"]
    assert {"agent_name", "message", "context", "async", "timeout", "max_turns"} <= set(fields)
    assert {"200", "202", "400", "401", "413", "429"} <= set(run["responses"])
    status = schema["paths"]["/api/v1/agents/status/{investigation_id}/"]["get"]["responses"]["200"]
    assert status["content"]["application/json"]["schema"]["$ref"].endswith("/StatusBody")

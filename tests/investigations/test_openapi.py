"""The OpenAPI schema documents the Agent API, including the run endpoint served by the async wrapper."""

import json

from teamconfig.schema import SYSTEM_DEFAULTS


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


def test_the_schema_documents_the_config_write_bodies_with_every_top_level_key(anonymous):
    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    components = schema["components"]["schemas"]

    def body_fields(path, method):
        operation = next(ops[method] for name, ops in schema["paths"].items() if name.rstrip("/") == path)
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]["properties"]

    for method in ("put", "patch"):
        team = body_fields("/api/v1/config/me", method)
        admin = body_fields("/api/v1/admin/teams/{node_id}/config", method)
        assert set(team) == set(SYSTEM_DEFAULTS)
        assert set(admin) == {*SYSTEM_DEFAULTS, "team_name"}
        assert admin["team_name"]["maxLength"] == 200
        assert team["agents"]["type"] == "object"
        assert team["mcp_servers"]["type"] == "array"

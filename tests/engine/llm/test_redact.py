"""Credentials in what the model would be shown are masked; the text that names the failure stays."""

from __future__ import annotations

import pytest

from engine.llm.redact import redact

CASES = [
    (
        "FATAL could not connect to postgres://payments:Sup3rS3cret!@payments-db:5432/pay",
        "postgres://payments:[REDACTED:url_password]@payments-db:5432/pay",
        "Sup3rS3cret!",
    ),
    ("env DB_PASSWORD=hunter2hunter2 set", "DB_PASSWORD=[REDACTED:secret]", "hunter2hunter2"),
    ('{"api_key": "abcd1234efgh5678"}', '"api_key": "[REDACTED:secret]"', "abcd1234efgh5678"),
    ("Authorization: Bearer abcdefghijklmnop.qrstuv", "Bearer [REDACTED:bearer]", "abcdefghijklmnop"),
    ("key AKIAIOSFODNN7EXAMPLE used", "[REDACTED:aws_access_key_id]", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "[REDACTED:secret]", "wJalrXUtnFEMI"),
    ("token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB leaked", "[REDACTED:github_token]", "ghp_0123456789"),
    ("slack xoxb-123456789012-abcdefghijkl", "[REDACTED:slack_token]", "xoxb-1234"),
    ("sk-proj-abcdefghijklmnopqrstuvwxyz012345 in env", "[REDACTED:api_key]", "abcdefghijklmnopqrstuvwxyz"),
    (
        "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
        "jwt [REDACTED:jwt]",
        "eyJzdWIiOiJhbGljZSJ9",
    ),
    ("team token ift_abcdefghijkl.0123456789012345678901234567890123456789", "[REDACTED:incidentfox_token]", "ift_"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "[REDACTED:private_key]",
        "MIIEpAIBAAKCAQEA",
    ),
]


@pytest.mark.parametrize(("text", "shown", "hidden"), CASES, ids=[case[1][:30] for case in CASES])
def test_each_kind_of_credential_is_masked_and_its_context_kept(text: str, shown: str, hidden: str) -> None:
    redacted = redact(text)
    assert shown in redacted
    assert hidden not in redacted


def test_ordinary_incident_text_is_left_alone() -> None:
    text = (
        "2024-01-15T10:00:01Z FATAL environment variable API_TOKEN is not set\n"
        'Warning  Failed  kubelet  Error: secret "payments-db" not found\n'
        "HikariPool-1 - Connection is not available, request timed out after 30000ms\n"
        "OOMKilled exit code 137; memory limit 512Mi"
    )
    assert redact(text) == text

"""The run's known secrets are masked in whatever a tool returned, in the encodings they travel in."""

from __future__ import annotations

import base64
from urllib.parse import quote

from engine.masking import MASK, SecretMasker

SECRET = "glsa_9f8e7d6c5b4a/3+2=1"


def test_a_secret_is_masked_raw_base64_urlsafe_base64_and_url_encoded() -> None:
    masker = SecretMasker([SECRET])
    raw = SECRET.encode()
    for form, expected in (
        (SECRET, MASK),
        (f"Bearer {SECRET}", f"Bearer {MASK}"),
        (base64.b64encode(raw).decode(), MASK),
        (base64.urlsafe_b64encode(raw).decode().rstrip("="), MASK),
        (quote(SECRET, safe=""), MASK),
    ):
        assert masker.text(f"upstream said: {form} (rejected)") == f"upstream said: {expected} (rejected)"


def test_structured_output_is_masked_in_keys_and_values_and_keeps_its_shape() -> None:
    masker = SecretMasker([SECRET])
    data = {"query": f"up{{token='{SECRET}'}}", SECRET: [SECRET, 3, None], "n": 1}
    assert masker.data(data) == {"query": f"up{{token='{MASK}'}}", MASK: [MASK, 3, None], "n": 1}


def test_values_too_short_to_be_credentials_and_no_secrets_leave_text_alone() -> None:
    assert SecretMasker(["ab", ""]).text("ab cd") == "ab cd"
    assert not SecretMasker([])
    assert SecretMasker([]).text("anything") == "anything"

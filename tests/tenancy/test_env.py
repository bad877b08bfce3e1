"""Settings parsers: strict, clear errors naming the variable; secrets from NAME or NAME_FILE."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from incidentfox_web import env


def test_booleans_accept_only_clear_values(monkeypatch):
    monkeypatch.setenv("FLAG", "true")
    assert env.env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "0")
    assert env.env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env.env_bool("FLAG", False)


def test_integers_are_range_checked(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env.env_int("N", 1, minimum=0, maximum=20) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env.env_int("N", 1)
    monkeypatch.setenv("N", "99")
    with pytest.raises(ImproperlyConfigured, match="between"):
        env.env_int("N", 1, minimum=0, maximum=20)


def test_secrets_come_from_the_variable_or_a_file_but_not_both(monkeypatch, tmp_path):
    monkeypatch.delenv("API_SECRET", raising=False)
    monkeypatch.delenv("API_SECRET_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="API_SECRET"):
        env.env_secret("API_SECRET")
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("API_SECRET_FILE", str(secret_file))
    assert env.env_secret("API_SECRET") == "from-a-file"
    monkeypatch.setenv("API_SECRET", "direct")
    with pytest.raises(ImproperlyConfigured, match="only one"):
        env.env_secret("API_SECRET")


def test_a_secret_file_that_is_missing_fails_without_echoing_anything(monkeypatch, tmp_path):
    monkeypatch.delenv("API_SECRET", raising=False)
    monkeypatch.setenv("API_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="unreadable"):
        env.env_secret("API_SECRET")


@pytest.mark.parametrize("raw", ["", "[]", '{"x": "0123456789abcdefgh"}', '{"1": "short"}', "not json"])
def test_versioned_secret_maps_are_validated(monkeypatch, raw):
    monkeypatch.setenv("PEPPERS", raw)
    with pytest.raises(ImproperlyConfigured):
        env.env_secret_map("PEPPERS")


def test_a_valid_versioned_secret_map_is_returned(monkeypatch):
    monkeypatch.setenv("PEPPERS", '{"2": "0123456789abcdef-new", "1": "0123456789abcdef-old"}')
    assert env.env_secret_map("PEPPERS") == {"2": "0123456789abcdef-new", "1": "0123456789abcdef-old"}


def _python(args: list[str], *, without: tuple[str, ...], **extra: str) -> subprocess.CompletedProcess[str]:
    """A fresh Python process with this environment minus ``without`` plus ``extra``: settings are read at start."""
    environment = {key: value for key, value in os.environ.items() if key not in without}
    return subprocess.run(
        [sys.executable, *args], env={**environment, **extra}, capture_output=True, text=True, timeout=60
    )


def test_the_server_does_not_start_without_a_token_pepper(tmp_path):
    result = _python(
        ["manage.py", "check"],
        without=("TOKEN_PEPPERS", "TOKEN_PEPPERS_FILE"),
        INCIDENTFOX_ENV_FILE=str(tmp_path / "none.env"),
        SECRET_KEY="x" * 50,
        CONFIG_ENCRYPTION_KEYS='{"1": "0123456789abcdef0123"}',
    )
    assert result.returncode != 0
    assert "TOKEN_PEPPERS" in result.stderr


def test_links_point_where_make_run_serves_unless_a_public_url_is_set():
    code = "import django; django.setup(); from django.conf import settings; print(settings.PUBLIC_BASE_URL)"

    def public_url(**extra: str) -> str:
        settings = {"DJANGO_SETTINGS_MODULE": "incidentfox_web.settings", **extra}
        return _python(["-c", code], without=("PUBLIC_BASE_URL", "PORT"), **settings).stdout.strip()

    assert public_url() == "http://127.0.0.1:8000"
    assert public_url(PORT="8765") == "http://127.0.0.1:8765"
    assert public_url(PORT="8765", PUBLIC_BASE_URL="https://fox.acme.com/") == "https://fox.acme.com"

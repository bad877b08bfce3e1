"""``.env.example`` lists every setting ``incidentfox_web/settings.py`` reads from the environment."""

from __future__ import annotations

import re

from tests.support.servers import ROOT

READ = re.compile(r"""env_(?:str|bool|int|list|optional_str|secret|secret_map)\(\s*["']([A-Z0-9_]+)["']""")
LISTED = re.compile(r"^(?:#\s*(?:\(secret\)\s*)?)?([A-Z0-9_]+)=", re.MULTILINE)


def test_env_example_lists_every_setting_that_settings_reads():
    read = set(READ.findall((ROOT / "incidentfox_web" / "settings.py").read_text(encoding="utf-8")))
    listed = set(LISTED.findall((ROOT / ".env.example").read_text(encoding="utf-8")))

    assert len(read) > 40
    assert read - listed == set()

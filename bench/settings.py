"""Settings of the servers the benches start: a base settings module (``BENCH_BASE_SETTINGS``, default
``incidentfox_web.settings``) plus the bench routes of ``bench.urls``. Nothing else differs from that base."""

import importlib
import os

_base = importlib.import_module(os.environ.get("BENCH_BASE_SETTINGS", "incidentfox_web.settings"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

ROOT_URLCONF = "bench.urls"

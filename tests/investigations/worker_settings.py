"""Settings for worker and server subprocesses started by the real-process tests (and bench/api_bench.py)."""

from incidentfox_web.settings import *  # noqa: F403

INVESTIGATIONS_ENGINE_FUNCTION = "tests.investigations.paced_engine.investigate"
INVESTIGATIONS_LEASE_SECONDS = 2
INVESTIGATIONS_HEARTBEAT_SECONDS = 0.5  # type: ignore[assignment]  # the runner reads it as a float
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

"""Settings for the stack ``scripts/serve.sh`` starts in the supervisor test: the real-process test settings with a
lease long enough for a killed worker to be restarted (back-off plus start-up on a loaded machine) before its run
is re-queued, so the re-queued attempt meets a live worker instead of being swept as lost a second time."""

from tests.investigations.worker_settings import *  # noqa: F403

INVESTIGATIONS_LEASE_SECONDS = 8

"""ASGI entry point, served by uvicorn (``scripts/serve.sh``): Django's own ASGI handler, behind the request-body
limit (``body_limit``). Synchronous views run on a thread per request, as Django runs them under ASGI; the views
that wait (the sync mode of ``POST /api/v1/agents/run``) are async and hold no thread while they wait.

Each web process loads its URLconf (and so every view module) here rather than on its first request, then moves
everything loaded so far into the garbage collector's permanent generation (``gc.freeze()``, the standard
library's call for long-lived server processes). A full collection then walks only what was made since: about
2 ms instead of about 200 ms, a stall every request queued behind it would wait out.
"""

from __future__ import annotations

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.asgi import get_asgi_application

from incidentfox_web.body_limit import RequestBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")

application = RequestBodyLimit(get_asgi_application(), max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
import_module(settings.ROOT_URLCONF)
gc.freeze()

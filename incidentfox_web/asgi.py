"""ASGI entry point, served by uvicorn (``scripts/serve.sh``): Django's own ASGI handler, behind the request-body
limit (``body_limit``). Synchronous views run on a thread per request, as Django runs them under ASGI; the views
that wait (the sync mode of ``POST /api/v1/agents/run``) are async and hold no thread while they wait."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from incidentfox_web.body_limit import RequestBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")

application = RequestBodyLimit(get_asgi_application(), max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

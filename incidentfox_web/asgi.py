"""ASGI entry point (uvicorn): one process serves two kinds of request.

Most requests are short and synchronous (DRF views, pages). Django's own ASGI handler runs those with a new
thread-sensitive executor and a dozen thread hops per request, which costs several milliseconds each; so they go to
Django's WSGI handler on a fixed pool of ``WEB_THREADS`` threads instead, one hop out and one back per request
(``wsgi_bridge``). Only routes that *wait* — the synchronous mode of ``POST /api/v1/agents/run`` — go through
Django's ASGI handler, where the wait is an ``await`` on the event loop and holds no thread, so ten waiting runs do
not delay anyone's status polls.

A serving process also claims one CPU of its own at start-up (``WEB_CPU_AFFINITY``, see ``cpu_affinity``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from incidentfox_web.cpu_affinity import affinity_mode, claim_cpu
from incidentfox_web.wsgi_bridge import ThreadedWsgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")

WAITING_ROUTES = re.compile(r"^/api/v1/agents/run/?$")
SYNC_THREADS = int(os.environ.get("WEB_THREADS", "16"))
CPU_AFFINITY = affinity_mode(os.environ.get("WEB_CPU_AFFINITY"))

django_asgi = get_asgi_application()
django_wsgi = ThreadedWsgi(get_wsgi_application(), threads=SYNC_THREADS)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                claim_cpu(CPU_AFFINITY)  # at start-up of a serving process, not on import
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and WAITING_ROUTES.match(scope.get("path", "")):
        await django_asgi(scope, receive, send)
    else:
        await django_wsgi(scope, receive, send)

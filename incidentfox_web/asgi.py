"""ASGI entry point: the API serves sync runs under ASGI so waiting requests do not hold a worker thread."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
application = get_asgi_application()

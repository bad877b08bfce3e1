"""IncidentFox settings. Everything deployment-specific is read from the environment through ``env.py``.

See README.md ("Configuration") for every variable. For local development ``make run`` writes generated
secrets to ``var/dev.env``, which is loaded here without overriding real environment variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from incidentfox_web.env import (
    env_bool,
    env_int,
    env_list,
    env_optional_str,
    env_secret,
    env_secret_map,
    env_str,
    load_env_file,
)
from ops.queues import TASK_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(Path(os.environ.get("INCIDENTFOX_ENV_FILE", str(BASE_DIR / "var" / "dev.env"))))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL of the web app, used for links in webhooks and e-mails. Unset, it is where `make run` serves
# (PORT, as scripts/serve.sh reads it).
_LOCAL_URL = f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1, maximum=65535)}"
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", _LOCAL_URL).rstrip("/")

# --- API tokens -----------------------------------------------------------------------------------------
# Versioned HMAC peppers for API token digests, kept apart from SECRET_KEY so either can rotate alone.
TOKEN_PEPPERS: dict[str, str] = env_secret_map("TOKEN_PEPPERS")
# Keys encrypting team-config secrets at rest; the highest version encrypts, every version decrypts.
CONFIG_ENCRYPTION_KEYS: dict[str, str] = env_secret_map("CONFIG_ENCRYPTION_KEYS")

# --- Applications ---------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # full-text search of the knowledge base on PostgreSQL; inert on SQLite
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks_db",
    "tenancy",
    "teamconfig",
    "investigations",
    "webhooks",
    "alerts",
    "knowledge",
    "mozilla_django_oidc",
    "web",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.OperatorEndpointHost",  # /health, /ready, /metrics answer probes that address the pod by IP
    "incidentfox_web.api.middleware.RequestIdMiddleware",
    "ops.middleware.AccessLogMiddleware",  # one access line per request, with its request id (uvicorn's is off)
    # Django's own middleware, subclassed to run its hooks on the event loop under ASGI (incidentfox_web.middleware)
    "incidentfox_web.middleware.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",  # async-only: the whole stack stays async down to the view
    "incidentfox_web.middleware.ContentSecurityPolicyMiddleware",
    "incidentfox_web.middleware.SessionMiddleware",
    "incidentfox_web.middleware.CommonMiddleware",
    "incidentfox_web.middleware.CsrfViewMiddleware",
    "incidentfox_web.middleware.AuthenticationMiddleware",
    "incidentfox_web.middleware.MessageMiddleware",
    "incidentfox_web.middleware.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "incidentfox_web.oidc.HtmxSessionRefresh",  # Web SSO: re-authenticates when the ID token is due (HTMX-aware)
]
# Django finds its security, CSRF and clickjacking middleware by dotted path; ours are subclasses of them, so
# ops/checks.py checks the same protections (and the settings Django then skips) under ids ops.W001-W022.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "incidentfox_web.urls"
WSGI_APPLICATION = "incidentfox_web.wsgi.application"
ASGI_APPLICATION = "incidentfox_web.asgi.application"
APPEND_SLASH = False  # the API never redirects; its routes accept an optional trailing slash themselves

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores ----------------------------------------------------------------------------------------
_database_url = env_optional_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's psycopg connection pool, one per process: requests borrow a connection for their duration
        # (under ASGI each request runs its sync code on a thread of its own, so per-thread persistent
        # connections would not be reused).
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0, maximum=100),
            "max_size": env_int("DATABASE_POOL_MAX", 20, minimum=1, maximum=500),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1, maximum=120),
        }
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "var" / "incidentfox.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file (not shared-cache memory, whose table locks break the live-server + worker-thread tests),
            # unique per test run so that concurrent runs on one machine never share it.
            "TEST": {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_optional_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate-limit counters live in a store shared by every process: Redis when REDIS_URL is set, else the database.
RATE_LIMIT_STORE = "redis" if REDIS_URL else "database"
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0 = socket peer).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)

# --- Secret references in team configuration (teamconfig/references.py, README "Security model") -----------------
VAULT_ADDR = env_optional_str("VAULT_ADDR")  # HashiCorp Vault for vault:// references; unset = such references fail
VAULT_TOKEN = env_secret("VAULT_TOKEN", required=False)
VAULT_KV_MOUNT = env_str("VAULT_KV_MOUNT", "secret")
# vault:// paths an org's config may name: under this prefix, {org_id} filled in; "" turns vault:// off.
VAULT_ORG_PATH_TEMPLATE = env_str("VAULT_ORG_PATH_TEMPLATE", "incidentfox/{org_id}/")
# Per-org Vault tokens, a JSON object {"org_id": "token"}; an org without one reads with VAULT_TOKEN.
try:
    VAULT_ORG_TOKENS: dict[str, str] = json.loads(env_secret("VAULT_ORG_TOKENS", required=False) or "{}")
except json.JSONDecodeError:
    raise ImproperlyConfigured("VAULT_ORG_TOKENS must be a JSON object of org ids to Vault tokens.") from None
if not isinstance(VAULT_ORG_TOKENS, dict) or not all(isinstance(v, str) for v in VAULT_ORG_TOKENS.values()):
    raise ImproperlyConfigured("VAULT_ORG_TOKENS must be a JSON object of org ids to Vault tokens.")
# env:// names a config may use start with this prefix ("" turns env:// off); never the deployment's own settings.
TEAM_SECRET_ENV_PREFIX = env_str("TEAM_SECRET_ENV_PREFIX", "INCIDENTFOX_TEAM_SECRET_")
# Who may write vault:// and env:// references: org_admins (default) or teams too.
SECRET_REFERENCE_WRITERS = env_str("SECRET_REFERENCE_WRITERS", "org_admins")
if SECRET_REFERENCE_WRITERS not in ("org_admins", "teams"):
    raise ImproperlyConfigured("SECRET_REFERENCE_WRITERS must be org_admins or teams.")

# --- Egress: every outbound call to a URL a tenant chose (incidentfox_web/egress.py) -------------------------
# CIDRs or host names. ALLOWED, when set, is the only place private addresses may be reached (and may name
# loopback or one of the deployment's own addresses explicitly); DENIED is never reached, whatever else says.
EGRESS_ALLOWED_NETWORKS = env_list("EGRESS_ALLOWED_NETWORKS")
EGRESS_DENIED_NETWORKS = env_list("EGRESS_DENIED_NETWORKS")
# The deployment's own addresses besides those its host name resolves to (a load balancer's, a NAT's).
EGRESS_DEPLOYMENT_ADDRESSES = env_list("EGRESS_DEPLOYMENT_ADDRESSES")
# Tests and single-machine development only: let tenant URLs reach loopback (127.0.0.0/8, ::1).
EGRESS_ALLOW_LOOPBACK = env_bool("EGRESS_ALLOW_LOOPBACK", False)
# Outbound webhooks reach public addresses only unless this lets them reach private ranges too (closed networks).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
# Slack Web API base: Slack's own, not configurable by tenants or the environment (tests point it at a loopback server).
SLACK_API_BASE_URL = "https://slack.com/api/"
# Single-tenant installs only: a team without explicit credentials runs Kubernetes with the server's in-cluster
# service account and AWS with boto3's default chain (the server's own identity).
ALLOW_AMBIENT_CLOUD_CREDENTIALS = env_bool("ALLOW_AMBIENT_CLOUD_CREDENTIALS", False)

# --- Background tasks -----------------------------------------------------------------------------------
# A worker renews its lease on a running investigation every HEARTBEAT seconds; the sweeper re-queues (once) or
# fails a run whose lease is LEASE seconds old.
INVESTIGATIONS_LEASE_SECONDS = env_int("INVESTIGATIONS_LEASE_SECONDS", 30, minimum=5, maximum=3600)
INVESTIGATIONS_HEARTBEAT_SECONDS = env_int("INVESTIGATIONS_HEARTBEAT_SECONDS", 5, minimum=1, maximum=600)
TASKS_BACKEND_NAME = env_str("TASKS_BACKEND", "database")
# Investigations and webhook deliveries run on queues of their own (ops/queues.py), each with its own workers.
_TASK_QUEUES = list(TASK_QUEUES)
if TASKS_BACKEND_NAME == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": _TASK_QUEUES}}
    RQ_QUEUES = {queue: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600} for queue in _TASK_QUEUES}
elif TASKS_BACKEND_NAME == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": _TASK_QUEUES}}
elif TASKS_BACKEND_NAME == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": _TASK_QUEUES}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be one of database, rq, immediate.")

# --- Security -------------------------------------------------------------------------------------------
# HTTPS=false is for local development over plain http only (make run sets it in var/dev.env).
HTTPS = env_bool("HTTPS", True)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
# The API answers over TLS at the proxy and never redirects; probes and scrapes reach the pod over plain http.
SECURE_REDIRECT_EXEMPT = [r"^api/", r"^health$", r"^ready$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# No request body beyond this is read: larger ones are refused with 413 from their Content-Length, chunked ones as
# they reach it (incidentfox_web/body_limit.py). The API enforces its own per-endpoint limits below this.
DATA_UPLOAD_MAX_MEMORY_SIZE = (
    24 * 1024 * 1024
)  # the largest per-endpoint limit: POST /agents/run (investigations/api.py)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A local username/password login for development and the Django admin; switch off where SSO is mandatory.
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", True)

# --- Web SSO (mozilla-django-oidc) -------------------------------------------------------------------------
# One identity provider for browser sign-in, enabled by OIDC_RP_CLIENT_ID. Endpoints come from the environment
# (the library does no discovery). Users are matched on (issuer, subject); the org is the one whose OIDC issuer
# is OIDC_OP_ISSUER. Claims → memberships: see incidentfox_web/oidc.py.
OIDC_RP_CLIENT_ID = env_optional_str("OIDC_RP_CLIENT_ID") or ""
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = (env_secret("OIDC_RP_CLIENT_SECRET") if OIDC_ENABLED else None) or ""
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER") if OIDC_ENABLED else ""
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT") if OIDC_ENABLED else ""
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT") if OIDC_ENABLED else ""
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT") if OIDC_ENABLED else ""
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT") if OIDC_ENABLED else ""
OIDC_OP_LOGOUT_ENDPOINT = env_optional_str("OIDC_OP_LOGOUT_ENDPOINT") or ""  # RP-initiated logout, optional
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # sent as id_token_hint on logout
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1, maximum=60)
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", 900, minimum=60)
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# JSON: group → ["<node id>:<role>", ...], e.g. {"sre": ["team-platform:operator"], "sre-leads": ["sre:admin"]}.
# Its shape is checked at start-up by the system check web.E001.
try:
    OIDC_GROUP_ROLES = json.loads(env_str("OIDC_GROUP_ROLES", "{}"))
except json.JSONDecodeError:
    raise ImproperlyConfigured("OIDC_GROUP_ROLES must be a JSON object.") from None
OIDC_EXEMPT_URLS = ["web:login", "web:logout"]
AUTHENTICATION_BACKENDS = ["incidentfox_web.oidc.SsoBackend", "incidentfox_web.oidc.LocalLoginBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGIN_REDIRECT_URL_FAILURE = "web:login"
LOGOUT_REDIRECT_URL = "web:login"
if OIDC_OP_LOGOUT_ENDPOINT:
    # Sign-out is a POST to us that redirects to the provider; CSP form-action also governs that redirect.
    _logout = urlsplit(OIDC_OP_LOGOUT_ENDPOINT)
    SECURE_CSP = {**SECURE_CSP, "form-action": [CSP.SELF, f"{_logout.scheme}://{_logout.netloc}"]}

# --- I18N, static ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidentfox_web.api.authentication.TeamTokenAuthentication",
        "incidentfox_web.api.authentication.AdminTokenAuthentication",
        "incidentfox_web.api.authentication.OidcJwtAuthentication",
        "incidentfox_web.api.authentication.RejectUnrecognisedCredential",
        "incidentfox_web.api.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["incidentfox_web.api.permissions.TeamAccess"],
    "DEFAULT_RENDERER_CLASSES": [
        "incidentfox_web.api.renderers.ApiJSONRenderer",
        "incidentfox_web.api.renderers.ApiBrowsableRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["incidentfox_web.api.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "incidentfox_web.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["incidentfox_web.api.throttling.SharedRateThrottle"],
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IncidentFox API",
    "DESCRIPTION": (
        "Investigate production incidents: trigger investigations, poll their status, manage team configuration. "
        "Bodies are bare JSON; add `?envelope=true` for `{data, meta}`. Errors always use the `Error` body."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVERS": [{"url": "/"}],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InvestigationStatusEnum": "investigations.schemas.STATUSES",
        "AcceptedStatusEnum": "investigations.schemas.ACCEPTED_STATUSES",
        "PriorityEnum": "investigations.schemas.PRIORITIES",
    },
    "AUTHENTICATION_WHITELIST": [
        "incidentfox_web.api.authentication.TeamTokenAuthentication",
        "incidentfox_web.api.authentication.AdminTokenAuthentication",
        "incidentfox_web.api.authentication.OidcJwtAuthentication",
        "incidentfox_web.api.authentication.BrowserSessionAuthentication",
    ],
}

# --- Logging: one line per record, tagged with the request id ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "incidentfox_web.api.middleware.RequestIdLogFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # its request lines would log customer webhook URLs (tokens in queries)
    },
}

# --- Operations: workers, per-org fairness, readiness, metrics, log format (ops/) -------------------------------
# Tasks one `manage.py run_worker` process runs at once: threads (database backend) or forked workers (RQ).
INVESTIGATION_WORKER_CONCURRENCY = env_int(
    "INVESTIGATION_WORKER_CONCURRENCY", min(32, max(4, 2 * (os.cpu_count() or 1))), minimum=1, maximum=256
)
WEBHOOK_WORKER_CONCURRENCY = env_int("WEBHOOK_WORKER_CONCURRENCY", 4, minimum=1, maximum=256)
# A running task holds up to two pooled connections (its thread and its lease heartbeat), and the worker's own
# heartbeat one more: the PostgreSQL pool is never smaller than the busiest worker process needs.
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    _pool = DATABASES["default"]["OPTIONS"]["pool"]
    _pool["max_size"] = max(
        _pool["max_size"], 2 * max(INVESTIGATION_WORKER_CONCURRENCY, WEBHOOK_WORKER_CONCURRENCY) + 2
    )
# Investigations one org may have running at once, across every worker; further starts wait on the queue (re-tried
# every INVESTIGATIONS_ORG_CAP_RETRY_SECONDS). Keep it below the total slots (workers x concurrency).
INVESTIGATIONS_MAX_RUNNING_PER_ORG = env_int(
    "INVESTIGATIONS_MAX_RUNNING_PER_ORG", max(1, INVESTIGATION_WORKER_CONCURRENCY // 2), minimum=1, maximum=10000
)
INVESTIGATIONS_ORG_CAP_RETRY_SECONDS = env_int("INVESTIGATIONS_ORG_CAP_RETRY_SECONDS", 1, minimum=1, maximum=60)
# A worker process beats every WORKER_HEARTBEAT_SECONDS; one silent for WORKER_HEARTBEAT_MAX_AGE_SECONDS is gone
# (readiness fails without a live worker per queue; the maintenance loop fails the task rows it left running).
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1, maximum=300)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env_int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 30, minimum=2, maximum=3600)
# /ready requires a live worker for each queue; switch off where the web tier must stay in service without them.
READY_REQUIRES_WORKERS = env_bool("READY_REQUIRES_WORKERS", True)
# /metrics on the web port answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers 404 there.
METRICS_TOKEN = env_secret("METRICS_TOKEN", required=False)
# A worker process also serves its host's metrics on this port (0 = off): for pods without a web server.
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0, minimum=0, maximum=65535)
# text: one line per record; json: one JSON object per record (python-json-logger), request id included.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
LOGGING["formatters"]["json"] = {  # type: ignore[index]
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "line"  # type: ignore[index]
# uvicorn's own records go through the same handler (its start-up lines before Django loads keep uvicorn's format);
# its access log is replaced by ops.middleware.AccessLogMiddleware, which knows the request id.
LOGGING["loggers"].update(  # type: ignore[attr-defined]
    {
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
    }
)

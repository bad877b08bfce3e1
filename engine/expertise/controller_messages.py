"""More documented messages: what the CronJob controller, the API server's validation and RBAC escalation
check, the dynamic loader, language runtimes and PostgreSQL print when a workload cannot run.

Rules are plain tuples ``(kind, role, weight, title, action, pattern, family)`` so this module imports nothing
from ``engine.expertise.messages`` (which appends them to its ``RULES``); ``PREFILTER`` holds the words a line
must contain for any of them to match (``engine.analyzers.text_signals`` scans only such lines).
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

PREFILTER = (
    r"timeZone|unparseable schedule|when `immutable` is set|shared libraries|EACCES|bind: permission denied"
    r"|Permission denied\)|environment variable|shared memory segment|unknown variable|placeholder|locate revision"
    r"|not resolved locally|token has expired|credentials? (?:have|has) expired|Missed scheduled time|too big header"
)

_PRIVILEGED_PORT = r"(?P<port>[1-9]\d{0,2}|10[01]\d|102[0-3])\b"

CONTROLLER_RULES: tuple[tuple[str, str, int, str, str, str, str], ...] = (
    (
        "cronjob_missed_schedule",
        "cause",
        88,
        "the CronJob controller missed the run scheduled at {when} (MissSchedule): it could not start the Job within the CronJob's startingDeadlineSeconds (a short deadline, a busy or restarting controller, or a previous run still active under concurrencyPolicy Forbid)",
        "Raise or unset spec.startingDeadlineSeconds (seconds of lateness a run may start with), and check that no previous Job of the CronJob is still active",
        r"Missed scheduled time to start a job: (?P<when>\S+)",
        "",
    ),
    (
        "image_pull_token_expired",
        "cause",
        94,
        "image {image} cannot be pulled: the registry credential in the pull secret has expired ({detail}); registry tokens such as ECR's last 12 hours, so a pull secret created once stops working",
        "Refresh the pull secret from a credential helper (ECR: a node IAM role or a CronJob that recreates the secret with aws ecr get-login-password) instead of a static token",
        r"(?:Failed to pull image|pulling image)\s*\\?\"(?P<image>[^\"\\\s]+)\\?\"[^\n]*?(?P<detail>(?:your )?authorization token has expired|credentials? (?:have|has) expired|token (?:is )?expired)",
        "",
    ),
    (
        "config_unknown_variable",
        "cause",
        90,
        "the configuration file sets unknown variable {var} (a misspelt or unsupported setting), so the server refuses to boot",
        "Fix the setting's name in the configuration (ConfigMap / the operator's additionalConfig) to one the server's documentation lists",
        r"Conf file attempted to set unknown variable: (?P<var>[\w.-]+)",
        "",
    ),
    (
        "unresolved_placeholder",
        "cause",
        90,
        "the configuration references ${{{var}}}, which is set neither as a property nor as an environment variable (Could not resolve placeholder '{var}'), so the application cannot start",
        "Set {var} in the container's env (or fix the property to the variable that is set) and restart",
        r"Could not resolve placeholder '(?P<var>[^']+)'",
        "",
    ),
    (
        "migration_revision_unknown",
        "cause",
        90,
        "the database is at migration revision {rev}, which this image's migrations do not contain: a newer release migrated the schema, and a rollback of the image does not downgrade the database",
        "Run the newer release again, or downgrade the schema with the newer release's migrations (alembic downgrade / flyway undo) before rolling back the image",
        r"Can't locate revision identified by '(?P<rev>[\w.-]+)'|Detected applied migration not resolved locally: (?P<rev2>[\w.-]+)",
        "",
    ),
    (
        "cronjob_bad_timezone",
        "cause",
        90,
        'the CronJob\'s spec.timeZone "{tz}" is not a valid IANA time zone (UnknownTimeZone), so the CronJob controller schedules no Job at all',
        'Set spec.timeZone to a valid IANA name with no stray characters (e.g. "Europe/Paris", "America/New_York"); kubectl get cronjob -o jsonpath={{.spec.timeZone}}',
        r"invalid timeZone: \\?\"(?P<tz>[^\"\\]*)\\?\"",
        "",
    ),
    (
        "cronjob_bad_schedule",
        "cause",
        90,
        'the CronJob\'s schedule "{schedule}" cannot be parsed ({detail}), so the CronJob controller never creates a Job',
        "Fix spec.schedule to a standard 5-field cron expression (minute hour day-of-month month day-of-week)",
        r"unparseable schedule: \\?\"(?P<schedule>[^\"\\]+)\\?\"\s*:\s*(?P<detail>[^\n]{1,160})",
        "",
    ),
    (
        "immutable_data",
        "cause",
        90,
        "the {kind} {name} is immutable (immutable: true), so the API server refuses any change to its data (field is immutable when `immutable` is set)",
        "Delete and recreate {kind} {name} (or create it under a new name and point the workload at it); immutable ConfigMaps and Secrets can never be edited",
        r"(?P<kind>ConfigMap|Secret) \\?\"(?P<name>[\w.-]+)\\?\" is invalid: [^\n]*?field is immutable when .immutable. is set",
        "invalid_object",
    ),
    (
        "shared_library_missing",
        "cause",
        91,
        "{binary} cannot start: the shared library {lib} is not in the image (error while loading shared libraries), so the process exits with 127 before it runs",
        "Install {lib} in the image (the runtime base image lacks it, e.g. a distroless/alpine base without the package) or build the binary statically",
        r"(?P<binary>[\w./-]+): error while loading shared libraries: (?P<lib>[\w.+-]+): cannot open shared object file",
        "",
    ),
    (
        "privileged_port_denied",
        "cause",
        91,
        "the process cannot bind port {port}: ports below 1024 need root or the NET_BIND_SERVICE capability, and the container runs as a non-root user (permission denied)",
        "Listen on an unprivileged port (>= 1024, e.g. 8080) and map the Service's port 80 to it, or add the NET_BIND_SERVICE capability to the container's securityContext",
        r"(?:listen EACCES: permission denied [\w.:\[\]]*:|listen tcp [\w.:\[\]]*:|bind\(\) to [\w.:\[\]]*:)"
        + _PRIVILEGED_PORT
        + r"(?:: bind: permission denied| failed \(13: Permission denied\))?",
        "",
    ),
    (
        "env_var_missing",
        "cause",
        89,
        "the application requires environment variable {var}, which is not set in the container (it exits at startup)",
        "Add {var} to the container's env (from its ConfigMap/Secret) and check the deployment's env/envFrom for a missing or misspelt key",
        r"(?:could not fetch )?environment variable \\?\"?(?P<var>[A-Z][A-Z0-9_]{2,})\\?\"?(?: is missing| because it is not set| is not set| not set| must be set| is required)",
        "",
    ),
    (
        "dev_shm_full",
        "cause",
        92,
        "PostgreSQL cannot allocate dynamic shared memory: /dev/shm is full (could not resize shared memory segment: No space left on device); a container's /dev/shm is only 64M by default, whatever the data volume's free space",
        "Mount an emptyDir with medium: Memory (and a sizeLimit) at /dev/shm in the pod, or lower max_parallel_workers_per_gather / work_mem",
        r"could not resize shared memory segment \\?\"?(?P<segment>[^\"\\\s]+)\\?\"? to \d+ bytes: No space left on device",
        "",
    ),
    (
        "ingress_header_too_big_for_host",
        "cause",
        86,
        "{host}: ingress-nginx answers 502 for {host} because its backend {upstream} sends response headers (cookies, tokens) larger than the proxy buffer ('upstream sent too big header')",
        'Raise nginx.ingress.kubernetes.io/proxy-buffer-size on the Ingress of {host} (e.g. "16k"), or make {upstream}\'s response headers smaller',
        r"upstream sent too big header while reading response header from upstream[^\n]*?upstream: \\?\"(?P<upstream>[^\"\\]+)\\?\"[^\n]*?host: \\?\"(?P<host>[^\"\\]+)",
        "",
    ),
)

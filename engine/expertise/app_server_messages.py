"""What application servers behind a proxy print when every worker is busy: PHP-FPM's pool limit, uWSGI's full
listen queue and its harakiri kills. The proxy in front only sees timeouts (nginx "upstream timed out", 504) or
refusals (502); these lines say why: the pool's size (pm.max_children, processes) is reached, and new requests
wait in the socket backlog until the proxy gives up.

Rules are plain tuples ``(kind, role, weight, title, action, pattern, family)``, appended to
``engine.expertise.messages.RULES``; ``PREFILTER`` holds the words a line must contain for any of them to match.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

PREFILTER = r"max_children|listen queue|HARAKIRI"

APP_SERVER_RULES: tuple[tuple[str, str, int, str, str, str, str], ...] = (
    (
        "phpfpm_max_children",
        "cause",
        88,
        "PHP-FPM pool {pool} reached pm.max_children ({limit}): every PHP worker is busy, so new requests wait in the FastCGI backlog until the proxy in front times out (504)",
        "Raise pm.max_children of pool {pool} (sized to the container's memory / the average PHP process size) or find the slow requests that hold the workers (slowlog, request_slowlog_timeout)",
        r"\[pool (?P<pool>[\w.-]+)\] (?:server )?reached (?:the )?(?:pm\.)?max_children setting \((?P<limit>\d+)\)",
        "",
    ),
    (
        "uwsgi_listen_queue_full",
        "cause",
        88,
        "uWSGI's listen queue of socket {socket} is full ({used}/{size}): all its workers are busy, so new connections wait in or overflow the backlog and the proxy in front times out or gets refused (502/504)",
        "Find the slow requests that hold every uWSGI worker (harakiri lines name them), add workers/processes, or raise the listen backlog (--listen, with net.core.somaxconn)",
        r"uWSGI listen queue of socket \\?\"?(?P<socket>[^\s\"\\]+)\\?\"? \(fd: \d+\) full !!! \((?P<used>\d+)/(?P<size>\d+)\)",
        "",
    ),
    (
        "uwsgi_harakiri",
        "cause",
        84,
        "uWSGI kills a worker stuck on one request past its harakiri timeout: {request}",
        "Make {request} faster (paginate, stream or move it to a background job) or give it its own worker pool; until then it holds the workers other requests need",
        r"HARAKIRI \[core \d+\] \S+ - (?P<request>(?:GET|POST|PUT|PATCH|DELETE|HEAD) \S+)",
        "",
    ),
)

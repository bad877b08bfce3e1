"""How the container's main process is launched, when that launch line is the failure.

- ``args`` in a pod spec replace the image's whole ``CMD`` (``command`` replaces ``ENTRYPOINT``). An image whose
  ENTRYPOINT is a CLI and whose CMD is its subcommand (``["serve"]``) loses the subcommand when someone adds
  ``args: [--concurrency=8]``: the CLI then exits with its usage error (argparse: ``the following arguments are
  required``, exit code 2; cobra/click: ``missing command``). The image's CMD, printed by ``crane config`` /
  ``docker inspect``, names what was dropped.
- The main process of a container must stay in the foreground. A server told to daemonize (gunicorn ``--daemon``,
  uWSGI ``--daemonize``, ``redis-server --daemonize yes``, php-fpm ``--daemonize``, nginx without ``daemon off``)
  forks into the background and the process the runtime started exits with 0: the container is Completed and,
  under ``restartPolicy: Always``, restarted into CrashLoopBackOff with no error in its log.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import failing_workload
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_USAGE_ERROR = re.compile(
    r"error: the following arguments are required: (?P<what>[\w, -]+)"
    r"|error: (?:a |missing |no )?(?:sub-?)?command (?:is )?(?:required|missing|given)"
    r"|(?:requires|expects|missing) (?:a |the )?(?:sub-?)?command\b"
    r"|Error: Missing command\b",
    re.IGNORECASE,
)
# the image config as crane/docker/skopeo print it: "Cmd": ["serve"] (one line or a JSON list over lines), Cmd: [serve]
_CMD_INLINE = re.compile(r"""^\s*"?Cmd"?\s*[:=]\s*\[(?P<items>[^\]]*)\]""", re.IGNORECASE)
_CMD_OPEN = re.compile(r"""^\s*"?Cmd"?\s*:\s*\[\s*$""", re.IGNORECASE)
_ARGS = re.compile(r"""^\s*[+]?\s*(?:"args"\s*:\s*\[|args:\s*(?:\[|$)|Args:\s*\S?)""")
_COMMAND_SET = re.compile(r"""^\s*[+]?\s*(?:"command"\s*:\s*\[|command:\s*(?:\[|$)|Command:\s*\S?)""")
_CMD_ITEM = re.compile(r"""["']?([^"',\s\]]+)["']?""")

# a server started in the background: flags and directives that daemonize it
_DAEMONIZE = re.compile(
    r"(?:^|\s)(?P<flag>--daemon(?:ize)?\b(?!\s*(?:=\s*)?(?:no|false|off)\b)(?:\s+yes\b)?"
    r"|(?:gunicorn|php-fpm\S*)\b[^\n]*?\s-D\b"  # their -D daemonizes (sshd's -D is the opposite)
    r"|daemonize\s+(?:yes|true)\b"
    r"|daemon\s*=\s*True\b)",
    re.IGNORECASE,
)
_EXIT_ZERO = re.compile(
    r'"exitCode"\s*:\s*0\b|exitCode:\s*0\b|Exit Code:\s*0\b|\bexit(?:ed)?(?: with)?(?: code| status)?[ =:]+0\b|\bCompleted\b',
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    who = _subject(obs, ctx)
    found = _args_replace_cmd(obs, who)
    daemon = _daemonized(obs, ctx, who)
    return [f for f in (found, daemon) if f is not None]


def _subject(obs: Observations, ctx: AnalysisContext) -> str | None:
    failing = failing_workload(obs)
    if failing:
        return failing
    if ctx.focus is not None and ctx.focus.owner():
        return ctx.focus.owner()
    if ctx.service:
        return workload_of(ctx.service)
    backing_off = sorted({e.object_name for e in obs.events if e.reason == "BackOff" and e.object_name})
    if len(backing_off) == 1:  # a pod seen only in its events
        return workload_of(backing_off[0])
    return ctx.question.named if ctx.question and ctx.question.named else None


def _image_cmd(obs: Observations) -> tuple[list[str], str] | None:
    """The image's CMD as an image config prints it, with the line to cite."""
    for text_label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for index, line in enumerate(lines):
            inline = _CMD_INLINE.match(line)
            if inline:
                items = _CMD_ITEM.findall(inline.group("items"))
                if items:
                    return items, f"{text_label} {excerpt(line.strip())}"
            if _CMD_OPEN.match(line):
                items = []
                for item in lines[index + 1 : index + 8]:
                    if item.strip().startswith("]"):
                        break
                    items.extend(_CMD_ITEM.findall(item))
                if items:
                    return items, f"{text_label} {excerpt(line.strip())} {' '.join(items)}"
    return None


def _args_replace_cmd(obs: Observations, who: str | None) -> Finding | None:
    usage = next(((label, line, m) for label, line in lines_of(obs) if (m := _USAGE_ERROR.search(line))), None)
    if usage is None:
        return None
    cmd = _image_cmd(obs)
    if cmd is None:
        return None
    lines = [line for _, line in lines_of(obs)]
    args_line = next((line for line in lines if _ARGS.match(line)), None)
    if args_line is None or any(_COMMAND_SET.match(line) and "null" not in line for line in lines):
        return None
    items, cmd_cite = cmd
    label, line, _ = usage
    shown = " ".join(items)
    title = (
        f"the pod spec's args replace the image's whole CMD [{shown}], so the subcommand {items[0]} is no longer passed "
        f"and the program exits with its usage error: {line.strip()[:200]}"
    )
    return Finding(
        kind="args_replace_image_cmd",
        subject=f"{who or 'application'}:args_replace_image_cmd",
        role="cause",
        title=f"{who}: {title}" if who else title[:1].upper() + title[1:],
        weight=90,
        evidence=[f"{label} {excerpt(line.strip())}", cmd_cite],
        workload=who,
        recommendations=[
            rec(
                "high",
                f"Put the subcommand back in front of the extra flags (args: [{items[0]}, ...]): args override the image's CMD as a whole, command overrides its ENTRYPOINT",
            )
        ],
        affected=[who] if who else [],
    )


def _joined(lines: list[str]) -> list[str]:
    """Shell lines with their backslash continuations joined into one command."""
    out: list[str] = []
    pending = ""
    for line in lines:
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        out.append(pending + stripped)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _daemonized(obs: Observations, ctx: AnalysisContext, who: str | None) -> Finding | None:
    exit_zero = any(
        c.last_exit_code == 0 or c.last_reason == "Completed" for pod in obs.pods for c in pod.containers
    ) or any(_EXIT_ZERO.search(line) for _, line in lines_of(obs))
    message = ctx.question.message if ctx.question else ""
    if not exit_zero and not re.search(
        r"exit(?:s|ed)?(?: with)?(?: code| status)? ?0\b|\bCompleted\b", message, re.IGNORECASE
    ):
        return None
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in docs:
        for line in _joined(lines):
            match = _DAEMONIZE.search(line)
            if match is None or line.lstrip().startswith("#"):
                continue
            flag = match.group("flag").strip()
            title = (
                f"the main process is started with {flag}, so it forks into the background and the process the container runs exits with 0; "
                "a container lives only as long as its PID 1, so it ends Completed and restartPolicy Always restarts it into CrashLoopBackOff (no error is logged)"
            )
            return Finding(
                kind="daemonized_main_process",
                subject=f"{who or 'application'}:daemonized_main_process",
                role="cause",
                title=f"{who}: {title}" if who else title[:1].upper() + title[1:],
                weight=90,
                evidence=[f"{label} {excerpt(line.strip(), around=flag)}"],
                workload=who,
                recommendations=[
                    rec(
                        "high",
                        f"Drop {flag} and run the server in the foreground (exec it as the script's last command so it is PID 1 and gets SIGTERM)",
                    )
                ],
                affected=[who] if who else [],
            )
    return None

"""``incidentfox``: start an investigation and read its result from a shell.

    $ export INCIDENTFOX_API_KEY=ift_… INCIDENTFOX_BASE_URL=https://incidentfox.example.com/api/v1
    $ incidentfox investigate "Checkout returns 502s since the deploy" --service checkout --wait
    $ incidentfox status inv_WvGvOGX2m7biqW8BKzh9 --json

Progress goes to stderr, the result to stdout (``--json``: the status body as the API sent it). Exit status:
0 completed (or started, without ``--wait``), 1 failed or cancelled, 2 bad usage, 3 an API or connection error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from incidentfox._core import __version__
from incidentfox.client import IncidentFoxClient
from incidentfox.errors import IncidentFoxError
from incidentfox.models import Investigation

SPINNER = "|/-\\"


class Progress:
    """One status line on stderr: redrawn in place on a terminal, one line per change otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.ticks = 0
        self.last = ""

    def __call__(self, inv: Investigation) -> None:
        line = describe_progress(inv)
        if self.tty:
            self.ticks += 1
            mark = "done" if inv.done else SPINNER[self.ticks % len(SPINNER)]
            self.stream.write(f"\r\033[K{mark} {line}")
            if inv.done:
                self.stream.write("\n")
        elif line != self.last:
            self.stream.write(line + "\n")
        self.last = line
        self.stream.flush()


def describe_progress(inv: Investigation) -> str:
    text = f"{inv.investigation_id} {inv.status}"
    if inv.progress is not None:
        text += f" {inv.progress.steps_completed}/{inv.progress.steps_total}"
        if inv.progress.current_step:
            text += f" {inv.progress.current_step}"
    if inv.elapsed_seconds is not None:
        text += f" ({inv.elapsed_seconds}s)"
    if inv.cancel_requested:
        text += " (cancel requested)"
    return text


def render(inv: Investigation) -> str:
    """The investigation as a short report for a terminal."""
    took = f" in {inv.duration_seconds}s" if inv.duration_seconds is not None else ""
    lines = [f"{inv.investigation_id}: {inv.status}{took}"]
    if inv.error is not None:
        lines.append(f"Error ({inv.error.code}): {inv.error.message}")
    result = inv.result
    if result is not None:
        lines += ["", result.summary, "", f"Root cause ({result.root_cause.confidence}% confidence):"]
        lines.append(f"  {result.root_cause.description}")
        lines += [f"  - {evidence}" for evidence in result.root_cause.evidence]
        if result.recommendations:
            lines += ["", "Recommendations:"]
            lines += [f"  [{r.priority}] {r.action}" for r in result.recommendations]
        if result.affected_systems:
            lines += ["", "Affected: " + ", ".join(result.affected_systems)]
    return "\n".join(lines)


def _context(args: argparse.Namespace) -> dict[str, Any] | None:
    context: dict[str, Any] = {}
    for item in args.context or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"incidentfox: --context wants key=value, got {item!r}")
        context[name] = value
    for name in ("service", "namespace", "environment", "severity", "time_window"):
        value = getattr(args, name)
        if value is not None:
            context[name] = value
    attachments = []
    for path in args.attach or []:
        with open(path, encoding="utf-8", errors="replace") as handle:
            attachments.append({"name": path.rsplit("/", 1)[-1], "content": handle.read()})
    if attachments:
        context["attachments"] = attachments
    return context or None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="incidentfox", description="IncidentFox from the command line.")
    root.add_argument("--version", action="version", version=f"incidentfox {__version__}")
    root.add_argument("--token", help="API token (default: $INCIDENTFOX_API_KEY or $INCIDENTFOX_TOKEN)")
    root.add_argument("--base-url", help="API base URL (default: $INCIDENTFOX_BASE_URL)")
    root.add_argument("--team-id", help="team to act for (org-admin tokens, multi-team users)")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("investigate", help="start an investigation")
    run.add_argument("message", help="what is wrong, in plain words")
    run.add_argument("--agent", default="planner")
    run.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True, help="wait for the result")
    run.add_argument("--json", action="store_true", help="print the status body as JSON")
    run.add_argument("--timeout", type=int, help="server-side deadline in seconds (10-1800)")
    run.add_argument("--wait-timeout", type=float, help="give up waiting after this many seconds")
    run.add_argument("--context", action="append", metavar="KEY=VALUE", help="a context field (repeatable)")
    run.add_argument("--attach", action="append", metavar="FILE", help="attach a log or output file (repeatable)")
    for name in ("service", "namespace", "environment", "severity", "time_window"):
        run.add_argument(f"--{name.replace('_', '-')}", dest=name)
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")

    status = commands.add_parser("status", help="show one investigation")
    status.add_argument("investigation_id")
    status.add_argument("--json", action="store_true")

    listing = commands.add_parser("list", help="list the team's investigations, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--status", help="comma-separated statuses")
    listing.add_argument("--json", action="store_true")
    return root


def _exit_code(inv: Investigation) -> int:
    return 1 if inv.status in ("failed", "cancelled") else 0


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parser().parse_args(argv)
    try:
        with IncidentFoxClient(args.token, args.base_url, team_id=args.team_id) as client:
            if args.command == "investigate":
                progress = None if args.quiet else Progress(err)
                inv = client.investigate(
                    args.message,
                    args.agent,
                    _context(args),
                    wait=args.wait,
                    timeout=args.timeout,
                    wait_timeout=args.wait_timeout,
                    on_progress=progress,
                )
                if progress is not None and not args.wait:
                    progress(inv)
            elif args.command == "status":
                inv = client.investigations.get(args.investigation_id)
            else:
                page = client.investigations.list(args.limit, status=args.status)
                if args.json:
                    out.write(json.dumps(page.to_dict(), indent=2) + "\n")
                else:
                    for item in page.investigations:
                        out.write(f"{item.investigation_id}  {item.status:<9}  {item.created_at}  {item.message}\n")
                return 0
    except IncidentFoxError as error:
        err.write(f"incidentfox: {error}\n")
        return 3
    out.write((json.dumps(inv.to_dict(), indent=2) if args.json else render(inv)) + "\n")
    return _exit_code(inv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

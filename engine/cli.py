"""Command-line entry point for local use and for the web side's tests."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from engine.errors import EngineError
from engine.llm.settings import PROVIDERS
from engine.models import Attachment, InvestigationContext, InvestigationRequest, Report, format_timestamp

MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="IncidentFox investigation engine")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("investigate", help="investigate an incident and print the report")
    run.add_argument("message")
    run.add_argument("--agent", default="planner")
    run.add_argument("--attach", action="append", default=[], metavar="FILE")
    run.add_argument("--namespace")
    run.add_argument("--service")
    run.add_argument("--kubeconfig")
    run.add_argument("--context", dest="kube_context")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument(
        "--demo",
        nargs="?",
        const="",
        metavar="INCIDENT",
        help="investigate the recorded demo shop (optionally one incident, e.g. bad-deploy)",
    )
    run.add_argument("--prometheus-url")
    run.add_argument("--loki-url")
    run.add_argument(
        "--llm",
        choices=PROVIDERS,
        help="LLM mode with this provider; the key is read from INCIDENTFOX_LLM_API_KEY",
    )
    run.add_argument("--llm-model", help="the model (Azure: the deployment name)")
    run.add_argument(
        "--llm-base-url", help="the provider's API base URL (required for azure_openai, openai_compatible)"
    )
    return parser


def _attachment(path: str) -> Attachment:
    raw = Path(path).read_bytes()[:MAX_ATTACHMENT_BYTES]
    return Attachment(name=Path(path).name, content=raw.decode("utf-8", errors="replace"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        attachments = [_attachment(path) for path in args.attach]
    except OSError as exc:
        print(f"error: cannot read attachment: {exc.strerror}", file=sys.stderr)
        return 2
    sources = {}
    if args.kubeconfig:
        try:
            kubeconfig = Path(args.kubeconfig).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            print(f"error: cannot read kubeconfig: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 2
        sources["kubernetes"] = {
            "kubeconfig": kubeconfig,
            "default_namespace": args.namespace,
            "default_context": args.kube_context,
            "ambient_credentials": True,  # the operator's own machine: exec plugins and cert files are theirs
        }
    if args.demo is not None:
        sources["demo"] = {"scenario": args.demo} if args.demo else {}
    if args.prometheus_url:
        sources["prometheus"] = {"url": args.prometheus_url}
    if args.loki_url:
        sources["loki"] = {"url": args.loki_url}
    llm = None
    if args.llm:
        llm = {"provider": args.llm, "model": args.llm_model, "base_url": args.llm_base_url}
        llm["api_key"] = os.environ.get("INCIDENTFOX_LLM_API_KEY")  # never a flag: it would show in `ps`
    request = InvestigationRequest(
        agent=args.agent,
        message=args.message,
        context=InvestigationContext(namespace=args.namespace, service=args.service, attachments=attachments),
        data_sources=sources,
        llm=llm,
    )
    from engine.runner import investigate

    try:
        report = investigate(request)
    except EngineError as exc:
        print(f"error ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=False))
    else:
        print(render_text(report))
    return 0


def render_text(report: Report) -> str:
    lines = [
        f"Summary: {report.summary}",
        "",
        f"Root cause ({report.root_cause.confidence}% confidence): {report.root_cause.description}",
    ]
    lines += [f"  - {line}" for line in report.root_cause.evidence]
    if report.timeline:
        lines += ["", "Timeline:"] + [f"  {format_timestamp(e.timestamp)}  {e.event}" for e in report.timeline]
    if report.affected_systems:
        lines += ["", "Affected: " + ", ".join(report.affected_systems)]
    if report.recommendations:
        lines += ["", "Recommendations:"] + [f"  [{r.priority}] {r.action}" for r in report.recommendations]
    if report.hypotheses:
        lines += ["", "Hypotheses:"] + [
            f"  {h.status:<12} {h.confidence:>3}%  {h.description}" for h in report.hypotheses
        ]
    if report.skipped_attachments:
        lines += ["", "Skipped attachments:"] + [f"  {s['name']}: {s['reason']}" for s in report.skipped_attachments]
    lines += ["", "Tools used: " + (", ".join(report.tools_used) or "none")]
    return "\n".join(lines)

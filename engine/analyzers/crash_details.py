"""Crash messages printed over several lines, where the decisive part is not on the line that says "crash".

- Rust (1.73+) prints ``thread 'main' panicked at src/main.rs:38:61:`` and the panic message on the next line.
- Redis prints ``*** FATAL CONFIG FILE ERROR ***``, the line number, ``>>> 'directive value'`` and the reason.
- CPython's faulthandler prints ``Fatal Python error: Segmentation fault`` and then the stack of the thread that
  crashed (``Current thread ... (most recent call first):``): its innermost frame in ``site-packages/<package>``
  is the native extension that crashed (exit code 139).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import LogDoc, Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_RUST_PANIC = re.compile(r"thread '(?P<thread>[^']+)' panicked at (?P<where>\S+?):\s*$")
_REDIS_FATAL = re.compile(r"\*\*\* FATAL CONFIG FILE ERROR")
_REDIS_DIRECTIVE = re.compile(r"^\s*>>> '(?P<directive>.+)'\s*$")
_REDIS_LINE = re.compile(r"at line (?P<line>\d+)")
_PY_FATAL = re.compile(r"Fatal Python error: (?P<what>Segmentation fault|Bus error|Aborted|Floating point exception)")
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_SITE_PACKAGE = re.compile(r"(?:site|dist)-packages/(?P<package>[A-Za-z_][\w]*)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    names = observed_names(obs)
    findings: list[Finding] = []
    for doc in obs.logs:
        lines = doc.lines[-400:]
        source = doc_source(doc, ctx, names)
        who = workload_of(source) if source else None
        for index in range(len(lines)):
            finding = _rust(doc, lines, index, who) or _redis(doc, lines, index, who) or _python(doc, lines, index, who)
            if finding is not None:
                findings.append(finding)
                break
    return findings


def _finding(kind: str, who: str | None, title: str, weight: int, evidence: list[str], fix: str) -> Finding:
    return Finding(
        kind=kind,
        subject=f"{who or 'application'}:{kind}",
        role="cause",
        title=f"{who}: {title}" if who else title[:1].upper() + title[1:],
        weight=weight,
        evidence=evidence,
        workload=who,
        recommendations=[rec("high", fix)],
        affected=[who] if who else [],
    )


def _rust(doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    match = _RUST_PANIC.search(lines[index])
    if match is None or index + 1 >= len(lines) or not lines[index + 1].strip():
        return None
    message = lines[index + 1].strip()
    return _finding(
        "rust_panic",
        who,
        f"the process panics at {match.group('where')}: {message[:220]}",
        80,
        [f"{doc.label} {excerpt(lines[index].strip())}", f"{doc.label} {excerpt(message)}"],
        "Fix what the panic message reports (a missing file, a bad value); an unwrap() on an Err means the error was not handled",
    )


def _redis(doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    if not _REDIS_FATAL.search(lines[index]):
        return None
    window = lines[index + 1 : index + 5]
    directive = next((m for line in window if (m := _REDIS_DIRECTIVE.match(line))), None)
    if directive is None:
        return None
    at = next((m.group("line") for line in window if (m := _REDIS_LINE.search(line))), None)
    after = window[next(i for i, line in enumerate(window) if _REDIS_DIRECTIVE.match(line)) + 1 :]
    reason = next((line.strip() for line in after if line.strip()), "")
    where = f" (line {at})" if at else ""
    return _finding(
        "redis_config_rejected",
        who,
        f"Redis refuses its configuration file{where}: '{directive.group('directive')}'"
        + (f": {reason[:200]}" if reason else ""),
        91,
        [f"{doc.label} {excerpt(lines[index].strip())}", f"{doc.label} {excerpt(directive.group(0).strip())}"],
        "Fix that directive in redis.conf (the ConfigMap or the chart's values) to a value Redis accepts",
    )


def _python(doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    match = _PY_FATAL.search(lines[index])
    if match is None:
        return None
    frames: list[tuple[str, str, str]] = []  # (file, line, source line) of the crashing thread, innermost first
    current = False
    for line in lines[index + 1 : index + 80]:
        if line.startswith(("Current thread", "Thread ")):
            current = line.startswith("Current thread")
            continue
        frame = _PY_FRAME.match(line)
        if frame and current:
            frames.append((frame.group("file"), frame.group("line"), line.strip()))
    packaged = next(((f, n, s, p.group("package")) for f, n, s in frames if (p := _SITE_PACKAGE.search(f))), None)
    if packaged is None:
        return None
    file, number, source, package = packaged
    return _finding(
        "native_extension_crash",
        who,
        f"the Python process dies with {match.group('what').lower()} (exit code 139) inside the native extension of package {package} ({file}, line {number}): a C extension crashed, not the Python code",
        88,
        [f"{doc.label} {excerpt(lines[index].strip())}", f"{doc.label} {excerpt(source)}"],
        f"Pin {package} back to the last version that worked (check a recent dependency upgrade) or upgrade it to a fixed release",
    )

"""Crash messages printed over several lines, where the decisive part is not on the line that says "crash".

- Rust (1.73+) prints ``thread 'main' panicked at src/main.rs:38:61:`` and the panic message on the next line.
- Redis prints ``*** FATAL CONFIG FILE ERROR ***``, the line number, ``>>> 'directive value'`` and the reason.
- CPython's faulthandler prints ``Fatal Python error: Segmentation fault`` and then the stack of the thread that
  crashed (``Current thread ... (most recent call first):``): its innermost frame in ``site-packages/<package>``
  is the native extension that crashed (exit code 139).
- The dynamic loader names the library and the symbol it cannot resolve before the process dies (often with a
  segmentation fault right after): musl prints ``Error relocating <lib>: <symbol>: symbol not found``, glibc
  ``symbol lookup error: <binary>: undefined symbol: <symbol>`` or ``version `GLIBC_2.34' not found``. The binary was
  built against another C library or a newer glibc than the image carries (a glibc build on Alpine's musl).
- Schema-migration tools refuse to start when an already-applied migration was edited: Flyway prints the generic
  ``Validate failed: Migrations have failed validation`` and, on the next line, ``Migration checksum mismatch for
  migration version 42`` (or ``Detected applied migration not resolved locally``); Liquibase prints ``Validation
  Failed: 1 changesets check sum`` and ``<file>::<id>::<author> was: ... but is now: ...``. The detail line is the
  cause; the fix is to revert the edit (ship a new migration) or run ``flyway repair`` / ``clearCheckSums``.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, rec
from engine.analyzers.log_signatures import doc_source, failing_workload
from engine.analyzers.scheduling_detail import lines_of
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
_LOADER = re.compile(
    r"Error relocating (?P<lib>[^:\s]+): (?P<sym>[^:\s]+): symbol not found"
    r"|symbol lookup error: (?P<lib2>[^:\s]+): undefined symbol: (?P<sym2>\S+)"
    r"|(?P<lib3>[^:\s]{1,300}): version `(?P<sym3>GLIBC[^']{0,40})' not found"
)

# the kernel's line for a process killed by SIGSEGV (dmesg/journalctl -k): the object the faulting instruction is in
_KERNEL_SEGFAULT = re.compile(
    r"(?P<comm>[\w.-]+)\[\d+\]: segfault at \S+ ip \S+ sp \S+ error \d+ in (?P<object>[^\[\s]+)\["
)
_MIGRATION_DETAIL = re.compile(
    r"(?P<what>Migration checksum mismatch for migration version \S+"
    r"|Detected resolved migration not applied to database: ?\S*"
    r"|(?<![^\s:])[^\s:]{1,300}::[^\s:]{1,200}::[^\s:]{1,200} was: \S+ but is now: \S+"
    r"|\d+ change ?sets? check ?sums?)",
    re.IGNORECASE,
)
_MUSL = re.compile(
    r"\bmusl\b|linuxmusl|^\+?\s*FROM\s+\S*alpine\S*|\balpine[:\d.-]*\d",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    names = observed_names(obs)
    findings: list[Finding] = []
    for doc in obs.logs:
        lines = doc.lines[-400:]
        source = doc_source(doc, ctx, names)
        who = workload_of(source) if source else None
        for index in range(len(lines)):
            finding = (
                _rust(doc, lines, index, who)
                or _redis(doc, lines, index, who)
                or _python(doc, lines, index, who)
                or _loader(doc, lines, index, who)
                or _migration(doc, lines, index, who)
                or _segfault(obs, doc, lines, index, failing_workload(obs) or who)
            )
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


def _migration(doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    line = lines[index]
    if len(line) > 4000 or not ("igration" in line or "::" in line or "check" in line.lower()):
        return None
    match = _MIGRATION_DETAIL.search(line)
    if match is None:
        return None
    window = lines[max(0, index - 3) : index + 1]
    if (
        not any(re.search(r"validat|check ?sum", line, re.IGNORECASE) for line in window[:-1])
        and "checksum" not in match.group("what").lower()
    ):
        return None
    what = match.group("what").strip()
    # a Liquibase "N changesets check sum" header: the changeset line that follows names the edited one
    if re.match(r"\d+ change", what, re.IGNORECASE):
        following = next(
            (
                m.group("what")
                for line in lines[index + 1 : index + 4]
                if (m := _MIGRATION_DETAIL.search(line)) and "::" in m.group("what")
            ),
            None,
        )
        what = f"{what}: {following}" if following else what
    return _finding(
        "migration_validation_failed",
        who,
        f"the schema migration tool refuses to run because an applied migration no longer matches its file: {what[:200]} (validation failed)",
        91,
        [f"{doc.label} {excerpt(line.strip())}" for line in window if line.strip()][-2:],
        "An already-applied migration file was edited: revert that edit and put the change in a new migration, or, if the edit is intended (only whitespace/comments), run flyway repair (Liquibase: clear-checksums) to update the schema history",
    )


def _loader(doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    line = lines[index]
    if "symbol" not in line and "GLIBC" not in line:  # a cheap test first: the loader's lines are rare
        return None
    match = _LOADER.search(line)
    if match is None:
        return None
    library = match.group("lib") or match.group("lib2") or match.group("lib3")
    symbol = match.group("sym") or match.group("sym2") or match.group("sym3")
    if match.group("lib") is not None:
        why = "it was built against glibc and the image's C library is musl (Alpine)"
    elif match.group("lib2") is not None:
        why = "a library it links against is another version than the one it was built with"
    else:
        why = "it was built against a newer glibc than the image carries"
    crashed = any("Segmentation fault" in line or "SIGSEGV" in line for line in lines[index : index + 20])
    return _finding(
        "dynamic_loader_error",
        who,
        f"the dynamic loader cannot resolve symbol {symbol} in {library} ({why})"
        + (", and the process then dies with a segmentation fault (exit code 139)" if crashed else ""),
        86,
        [f"{doc.label} {excerpt(lines[index].strip())}"],
        f"Rebuild the image so {library} and what it links against come from one build (the same base image and package versions; a glibc base such as Debian slim for glibc builds, not Alpine)",
    )


def _segfault(obs: Observations, doc: LogDoc, lines: list[str], index: int, who: str | None) -> Finding | None:
    """``node[2311]: segfault at 0 ip ... error 4 in libvips-cpp.so.42[...]``: the process died of SIGSEGV (exit
    code 139) in that shared object. A native library in a musl (Alpine) image is most often a glibc build
    (prebuilt binaries, a node_modules/site-packages copied from a glibc build stage)."""
    line = lines[index]
    if "segfault at" not in line:
        return None
    match = _KERNEL_SEGFAULT.search(line)
    if match is None:
        return None
    comm, shared = match.group("comm"), match.group("object")
    shown = [(label, text, m) for label, text in lines_of(obs) if (m := _MUSL.search(text))]
    musl = min(shown, key=lambda item: "FROM" not in item[2].group(0).upper(), default=None)  # a FROM line first
    why = ""
    native = ".so" in shared or shared.endswith(".node")  # a shared object; Node.js addons are .node files
    if musl is not None and native and not shared.startswith(("ld-musl", "libc.")):
        text, found = musl[1], musl[2]
        quoted = text[max(0, found.start() - 12) : found.end() + 24].strip().lstrip("+").strip()
        why = (
            f"; the image is musl-based (Alpine: '{quoted}'), "
            f"and a native library like {shared} built for glibc (prebuilt binaries, or node_modules/site-packages copied from a glibc build) crashes on musl"
        )
    evidence = [f"{doc.label} {excerpt(line.strip(), around='segfault')}"]
    if musl is not None and why:
        evidence.append(f"{musl[0]} {excerpt(musl[1].strip())}")
    return _finding(
        "native_library_segfault",
        who,
        f"the process ({comm}) dies with a segmentation fault (SIGSEGV, exit code 139) inside the native library {shared}, as the kernel log shows{why}",
        89,
        evidence,
        f"Rebuild so {shared} matches the image's C library and versions (install the native module inside the final image, e.g. npm ci / pip install in the same base image, or use a glibc base such as Debian slim)",
    )

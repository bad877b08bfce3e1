"""A shell script with Windows (CRLF) line endings, named as the cause of the shell's own error.

A script saved or checked out on Windows ends every line with ``\\r\\n``. The kernel then looks for the
interpreter ``/bin/sh\\r`` (``exec /entrypoint.sh: no such file or directory`` for a file that exists, ``bad
interpreter``), and the shell reads ``fi\\r``/``done\\r`` as words, not keywords (dash: ``Syntax error: end of file
unexpected (expecting "fi")``; bash: ``syntax error: unexpected end of file``, ``$'\\r': command not found``,
``set: Illegal option -``). The error names the script, not the carriage return: what shows it is the file's
bytes (``od -c`` prints ``\\r  \\n``, ``cat -A`` prints ``^M$``, ``file`` says ``with CRLF line terminators``).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, workload_cause, workload_name
from engine.analyzers.log_signatures import doc_source
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

# what shows the carriage returns: file(1), od -c, cat -A / cat -v, a shell or env(1) naming the word with its \r
_CRLF_SHOWN = re.compile(
    r"with CRLF(?:, \w+)* line terminators"
    r"|(?:^|\s)\\r\s+\\n(?:\s|$)"
    r"|\^M\$?\s*$"
    r"|\$'\\r'"
    r"|['‘\"][\w/.-]*\\r['’\"]"
    r"|\^M: bad interpreter"
)
# a shell (or the kernel's exec of a script) failing the way a carriage return makes it fail
_SHELL_FAILURE = re.compile(
    r"exec(?: user process caused:)? ['\"]?/[\w./-]+['\"]?:? ?no such file or directory"
    r"|\b(?:sh|bash|dash|ash|ksh|zsh|/[\w./-]+\.sh)(?:: line)?:? \d+: [Ss]yntax error"
    r"|syntax error(?: near unexpected token|: unexpected end of file)"
    r"|\$'\\r': command not found"
    r"|set: Illegal option -"
    r"|: bad interpreter"
    r"|env: ['‘\"][\w/.-]+\\r['’\"]"
)
_EXPECTING = re.compile(r"expecting \"?(?P<word>\w+)\"?")
_EXEC_FAILED = re.compile(r"^\s*exec|: bad interpreter|env: ")
_SHEBANG = re.compile(r"#!\s*(?P<interp>/[\w./-]+)")
_MARKED_LINE = re.compile(r"^\s*(?P<text>.*?)\s*\^M\$?\s*$")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    shown = next(((label, line) for label, line in lines_of(obs) if _CRLF_SHOWN.search(line)), None)
    if shown is None:
        return []
    names = observed_names(obs)
    for doc in obs.logs:
        failure = next((line for line in doc.lines[-40:] if _SHELL_FAILURE.search(line)), None)
        if failure is None:
            continue
        pod = next((p for p in obs.pods if p.name == doc.pod), None)
        source = doc_source(doc, ctx, names)
        owner = workload_name(pod) if pod else (workload_of(source) if source else None)
        expecting = _EXPECTING.search(failure)
        marked = [m.group("text") for _, line in lines_of(obs) if (m := _MARKED_LINE.match(line))]
        keyword = next((t for t in marked if expecting and t.strip() == expecting.group("word")), None)
        interpreter = _interpreter(obs) if _EXEC_FAILED.search(failure) else None
        if keyword:
            how = f"its line '{keyword}' ends with a carriage return (^M), so the shell reads '{keyword}\\r' as a plain word, not the keyword {keyword}"
        elif interpreter:
            how = f"its first line #!{interpreter} ends with a carriage return, so the kernel looks for an interpreter named '{interpreter}\\r', which does not exist"
        else:
            how = "the kernel and the shell read the carriage return (\\r) as part of the interpreter's name and of each word"
        return [
            workload_cause(
                "script_crlf_line_endings",
                owner=owner,
                fallback="container",
                title=f"{owner + ': ' if owner else ''}the container's shell script has Windows (CRLF) line endings: {how}; that is why it fails with '{excerpt(failure.strip())}'",
                weight=94,
                evidence=[f"{doc.label} {excerpt(failure.strip())}", f"{shown[0]} {excerpt(shown[1].strip())}"],
                fix="Convert the script to LF line endings (dos2unix, or `* text eol=lf` in .gitattributes for scripts built on Windows) and rebuild/redeploy",
            )
        ]
    return []


def _interpreter(obs: Observations) -> str | None:
    """The interpreter a script's first line names, from its bytes as ``od -c`` prints them (``#   !   /   b   i
    n   /   s   h  \\r``), ``cat -A`` (``#!/bin/sh^M$``) or ``head -1``."""
    for _, line in lines_of(obs):
        tokens = line.split()
        if len(tokens) > 3 and tokens[0].isdigit() and tokens[1:3] == ["#", "!"]:  # od -c: offset, then bytes
            name = "".join(tokens[3 : tokens.index("\\r")] if "\\r" in tokens else tokens[3:])
            found = _SHEBANG.match("#!" + name)
            if found:
                return found.group("interp")
        found = _SHEBANG.match(line.strip())
        if found:
            return found.group("interp")
    return None

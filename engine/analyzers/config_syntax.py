"""A configuration file the application cannot parse, named with the line it stumbles on and what is wrong there.

Parsers name a line: System.Text.Json ``LineNumber: 13 | BytePositionInLine: 4`` (counted from 0), Python's json
``Expecting ',' delimiter: line 14 column 5``, Node's ``... in JSON at position 412 (line 14 column 5)``, go-yaml
``yaml: line 14: found character that cannot start any token``, Psych/SnakeYAML ``at line 3 column 1``, TOML
``parse error at line 5``. When the file itself was pasted (the ConfigMap key named like the file, or a ``cat`` of
it), the line is quoted and the usual mistake said: JSON needs a comma between members (an error "expecting ','"
at a line means the line before it ends without one), and YAML forbids tabs for indentation.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, workload_cause
from engine.analyzers.log_signatures import doc_source, failing_workload
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

# (pattern, whether its line number counts from 0)
_LINE_NUMBER: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"LineNumber: (?P<line>\d+) \| BytePositionInLine"), True),
    (
        re.compile(
            r"\b(?:yaml|toml|json)?[: ]*(?:parse error )?(?:at )?line (?P<line>\d+)(?:[:,]| column)", re.IGNORECASE
        ),
        False,
    ),
)
_PARSE_FAILURE = re.compile(
    r"Could not parse the JSON|JsonReaderException|JSONDecodeError|Expecting ',' delimiter|in JSON at position|yaml: line \d+|"
    r"found character that cannot start any token|mapping values are not allowed|did not find expected|while parsing|"
    r"TOML parse error|invalid (?:JSON|YAML|TOML)|Failed to load configuration from file|failed to (?:load|parse|read) config",
    re.IGNORECASE,
)
_FILE = re.compile(r"(?P<path>(?:/[\w.@-]+)+\.(?P<ext>json|ya?ml|toml|conf|ini))\b", re.IGNORECASE)
_WANTS_COMMA = re.compile(
    r"Expected either ','|Expecting ',' delimiter|Expected ',' or|after a value|after (?:object key:value pair|array element)",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for doc in obs.logs:
        window = doc.lines[-200:]
        if not any(_PARSE_FAILURE.search(line) for line in window):
            continue
        number: int | None = None
        said = ""
        for line in window:
            for pattern, from_zero in _LINE_NUMBER:
                found = pattern.search(line)
                if found and (from_zero or _PARSE_FAILURE.search(line)):
                    number = int(found.group("line")) + (1 if from_zero else 0)
                    said = line.strip()
                    break
            if number is not None:
                break
        path = next((m for line in window if (m := _FILE.search(line))), None)
        if number is None or path is None:
            continue
        content = _file_content(obs, path.group("path").rsplit("/", 1)[-1])
        if content is None or not 0 < number <= len(content[1]):
            continue
        label, lines = content
        at = lines[number - 1]
        what = f"line {number} of {path.group('path')} reads '{at.strip()}'"
        before = next((lines[i] for i in range(number - 2, -1, -1) if lines[i].strip()), None)
        if _WANTS_COMMA.search(said) and before is not None and not before.rstrip().endswith((",", "{", "[")):
            what += f", and the line before it ('{before.strip()}') ends without the comma JSON needs between members"
        elif "\t" in at[: len(at) - len(at.lstrip())]:
            what += ", indented with a tab, which YAML does not allow for indentation"
        source = doc_source(doc, ctx, observed_names(obs))
        owner = failing_workload(obs) or (workload_of(source) if source else None)
        return [
            workload_cause(
                "config_file_syntax",
                owner=owner,
                fallback="application",
                title=f"{owner + ': ' if owner else ''}the application cannot parse its configuration file {path.group('path')} ({excerpt(said)}): {what}",
                weight=92,
                evidence=[f"{doc.label} {excerpt(said)}", f"{label} {excerpt(at.strip())}"],
                fix=f"Fix the syntax at line {number} of {path.group('path')} in the ConfigMap that provides it (validate it with a JSON/YAML linter before applying), then restart the pods",
            )
        ]
    return []


def _file_content(obs: Observations, name: str) -> tuple[str, list[str]] | None:
    """The pasted content of the file called ``name``: a ConfigMap's data key, or a ``cat``/jsonpath of it."""
    for resource in obs.resources:
        data = resource.raw.get("data") if resource.kind in ("ConfigMap", "Secret") else None
        if isinstance(data, dict) and isinstance(data.get(name), str):
            return resource.label, data[name].splitlines()
    escaped = name.replace(".", "\\.")
    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in sources:
        if command and (name.lower() in command or escaped.lower() in command):
            if "cat -a" in command:  # cat -A marks line ends with $ and tabs with ^I
                lines = [re.sub(r"\$$", "", line).replace("^I", "\t") for line in lines]
            return label, lines
    return None

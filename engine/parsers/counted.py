"""Counted listings: what ``... | sort | uniq -c`` prints, with the column each counted field came from.

An SRE reads ``27241 Z 418822 convert`` by the command that produced it: ``ps -eo stat,ppid,comm`` (maybe
through ``awk '{print $1, $2}'``) makes the fields a process state, a parent PID and a command name, while the
same digits after ``ps -eLf | awk '{print $2}'`` are a PID counted once per thread. The command's ``ps`` column
list and ``awk`` print statements are followed when they are pasted; otherwise each field is read by its
shape (a ``ps`` state code, a number, a name).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

_PROMPT = re.compile(r"^\s*(?:\[?[\w.-]+@[\w.-]+(?::\S*|\s+[^\]\s]*\])\s*[#$%]|[#$%>])\s+(?P<command>\S.*)$")
_ROW = re.compile(r"^\s*(?P<count>\d+)\s+(?P<rest>\S.*?)\s*$")
_ZOMBIE_FILTER = re.compile(r"""~\s*/\^?Z|==\s*["']Z|\bgrep\b[^|]*\bZ\b|defunct""", re.I)  # awk '$1 ~ /^Z/', grep -w Z
_PS_START = re.compile(r"""(?:^|[|'"]|\s--\s)\s*(?:sudo\s+)?(?P<pipeline>ps\s.*)$""")
_STATE = re.compile(r"^[DRSTtWXZIP][<NLsl+]*$")  # ps STAT/S codes: Z zombie, D uninterruptible, Ss, Sl+ ...

# ps's fixed formats and what their columns are
_FORMATS = {
    "f": ("user", "pid", "ppid", "c", "stime", "tty", "time", "comm"),
    "Lf": ("user", "pid", "ppid", "lwp", "c", "nlwp", "stime", "tty", "time", "comm"),
    "u": ("user", "pid", "%cpu", "%mem", "vsz", "rss", "tty", "stat", "start", "time", "comm"),
    "l": ("f", "stat", "uid", "pid", "ppid", "c", "pri", "ni", "addr", "sz", "wchan", "tty", "time", "comm"),
}
_ALIASES = {
    "s": "stat",
    "state": "stat",
    "stat": "stat",
    "pid": "pid",
    "tgid": "pid",
    "ppid": "ppid",
    "lwp": "lwp",
    "tid": "lwp",
    "spid": "lwp",
    "comm": "comm",
    "ucomm": "comm",
    "ucmd": "comm",
    "cmd": "comm",
    "command": "comm",
    "args": "comm",
    "exe": "comm",
}


@dataclass(frozen=True)
class CountedRow:
    count: int
    fields: tuple[str, ...]
    columns: tuple[str, ...]  # one per field: stat, pid, ppid, lwp, comm or another ps column name
    label: str
    line: str
    command: str  # the pipeline that printed it ("" when only its output was pasted)

    @property
    def from_ps(self) -> bool:
        """Counted from a ``ps`` listing (or pasted without its command)."""
        return not self.command or bool(_PS_START.search(self.command))

    def get(self, column: str) -> str:
        return next((f for f, c in zip(self.fields, self.columns, strict=True) if c == column), "")

    @property
    def zombie(self) -> bool:
        """A count of zombies: by its state, its ``<defunct>`` name, or a pipeline that kept only zombies."""
        return self.get("stat").startswith("Z") or "defunct" in self.line or bool(_ZOMBIE_FILTER.search(self.command))


def counted_rows(docs: Iterable[tuple[str, str, list[str]]]) -> list[CountedRow]:
    """Every row of a counted listing in (label, command, lines) documents, in order; ``command`` is the command
    line a document was printed by (a paste split at its prompts), prompts left inside the lines start new ones."""
    rows: list[CountedRow] = []
    for label, first_command, lines in docs:
        block: list[str] = []
        command = first_command
        for line in [*lines, None]:
            prompt = _PROMPT.match(line) if line is not None else None
            if prompt or line is None:
                rows.extend(_block_rows(block, command, label))
                block = []
                command = prompt.group("command") if prompt else ""
            else:
                block.append(line)
    return rows


def _block_rows(block: list[str], command: str, label: str) -> list[CountedRow]:
    matches = [(line, m) for line in block if (m := _ROW.match(line))]
    if not matches:
        return []
    if command and "uniq -c" not in command:
        return []
    counts = [int(m.group("count")) for _, m in matches]
    if not command and (len(matches) < 2 or counts != sorted(counts, reverse=True)):
        return []  # without the command, only a descending run of counts reads as a counted listing
    columns = _pipeline_columns(command)
    rows = []
    for line, m in matches:
        fields = _fields(m.group("rest"))
        named = columns if columns and len(columns) == len(fields) else tuple(_shape(f) for f in fields)
        rows.append(CountedRow(int(m.group("count")), fields, named, label, line, command))
    return rows


def _fields(rest: str) -> tuple[str, ...]:
    """The counted fields; a trailing ``<defunct>`` stays with the command name before it."""
    words = rest.split()
    if len(words) >= 2 and words[-1] == "<defunct>":
        words = [*words[:-2], f"{words[-2]} <defunct>"]
    return tuple(words)


def _shape(field: str) -> str:
    if _STATE.match(field):
        return "stat"
    if field.isdigit():
        return "pid?"  # a PID, a parent PID or a thread's process: the command would tell
    return "comm"


def _pipeline_columns(command: str) -> tuple[str, ...]:
    """The columns a ``ps ... | awk ... | sort | uniq -c`` pipeline counts, or () when it cannot be followed."""
    columns: tuple[str, ...] = ()
    inner = _PS_START.search(command)  # `ssh node -- 'ps -eo ...'`, `kubectl debug node/x -- ps ...`
    command = inner.group("pipeline").rstrip("'\"") if inner else command
    for stage in command.split("|"):
        try:
            words = shlex.split(stage)
        except ValueError:
            return ()
        words = [w for w in words if w not in ("sudo",)]
        if not words:
            continue
        if words[0] == "ps":
            columns = _ps_columns(words[1:])
        elif words[0] in ("awk", "gawk", "mawk") and columns:
            program = next((w for w in words[1:] if "print" in w or "{" in w), "")
            printed = re.search(r"print\s+([^;}]*)", program)
            if printed:
                picks = [int(n) for n in re.findall(r"\$(\d+)", printed.group(1))]
                if not picks or any(n == 0 or n > len(columns) for n in picks):
                    return ()
                columns = tuple(columns[n - 1] for n in picks)
        elif words[0] in ("cut", "sed", "tr", "xargs"):
            return ()
    return columns


def _ps_columns(args: list[str]) -> tuple[str, ...]:
    specs: list[str] = []
    flags = ""
    take = False
    for arg in args:
        if take:
            specs.append(arg)
            take = False
            continue
        if arg.startswith("--"):
            if arg.startswith("--format") or arg == "-o":
                take = "=" not in arg
                if "=" in arg:
                    specs.append(arg.split("=", 1)[1])
            continue
        letters = arg.lstrip("-")
        if letters.endswith("o") or letters == "o":
            flags += letters[:-1]
            take = True
        else:
            flags += letters
    if specs:
        names = [name.split("=", 1)[0].strip().lower() for spec in specs for name in spec.split(",") if name.strip()]
        return tuple(_ALIASES.get(n, n) for n in names)
    if "f" in flags:
        return _FORMATS["Lf" if "L" in flags else "f"]
    if "u" in flags:
        return _FORMATS["u"]
    if "l" in flags:
        return _FORMATS["l"]
    return ()

"""Pure text handling for the knowledge base: chunking by headings, remediation steps and search terms.

No Django here: the same functions build the index, the search query and the engine's relevance checks
(``engine/knowledge.py`` has its own copy of the few it needs, since the engine never imports this app).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHUNK_CHARS = 1500
MAX_CHUNKS = 200
MAX_STEPS = 8
MAX_STEP_CHARS = 300
HEADING_SEPARATOR = " › "

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
_REMEDIATION_HEADING = re.compile(
    r"mitigat|remediat|resolut|resolv|\bfix|action|what to do|recover|workaround|\bsteps?\b|runbook|how to",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "up",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "after",
        "again",
        "all",
        "any",
        "because",
        "before",
        "being",
        "did",
        "doing",
        "during",
        "each",
        "few",
        "further",
        "had",
        "having",
        "he",
        "her",
        "here",
        "him",
        "his",
        "more",
        "most",
        "nor",
        "off",
        "once",
        "only",
        "other",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "some",
        "such",
        "them",
        "they",
        "those",
        "through",
        "too",
        "under",
        "until",
        "very",
        "were",
        "while",
    ]
)


@dataclass(frozen=True)
class Chunk:
    heading: str  # "Title › Section › Subsection"
    text: str


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]  # the heading path below the document title
    text: str


def document_title(content: str, fallback: str = "Untitled") -> str:
    """The first heading, else the first non-empty line, cut to 300 characters."""
    first_line = ""
    for line in content.splitlines():
        match = _HEADING.match(line)
        if match:
            return _plain(match.group(2))[:300]
        if line.strip() and not first_line:
            first_line = _plain(line.strip())
    return (first_line or fallback)[:300]


def sections(content: str) -> list[Section]:
    """Split Markdown at ATX headings (outside code fences); plain text is one section."""
    found: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            found.append(Section(path=tuple(title for _, title in stack), text=text))
        lines.clear()

    for line in content.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level = len(match.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, _plain(match.group(2))))
    flush()
    return found


def chunk_document(title: str, content: str) -> list[Chunk]:
    """One chunk per section (long sections split at paragraphs), each headed by its path from the title."""
    chunks: list[Chunk] = []
    for section in sections(content):
        path = [part for part in section.path if part != title]
        heading = HEADING_SEPARATOR.join([title, *path])
        for piece in _split_long(section.text):
            chunks.append(Chunk(heading=heading[:500], text=piece))
            if len(chunks) >= MAX_CHUNKS:
                return chunks
    return chunks or [Chunk(heading=title[:500], text=title)]


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_CHUNK_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        if current and len(current) + len(paragraph) + 2 > MAX_CHUNK_CHARS:
            pieces.append(current)
            current = ""
        while len(paragraph) > MAX_CHUNK_CHARS:
            pieces.append(paragraph[:MAX_CHUNK_CHARS])
            paragraph = paragraph[MAX_CHUNK_CHARS:]
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return pieces


def remediation_steps(content: str) -> list[str]:
    """The list items of the sections whose heading names a fix (Mitigation, Remediation, Resolution, ...)."""
    steps: list[str] = []
    for section in sections(content):
        if not section.path or not _REMEDIATION_HEADING.search(section.path[-1]):
            continue
        items = [_plain(match.group(1)) for line in section.text.splitlines() if (match := _LIST_ITEM.match(line))]
        if not items:
            first = re.split(r"\n\s*\n", section.text, maxsplit=1)[0]
            items = [_plain(" ".join(first.split()))]
        for item in items:
            step = item[:MAX_STEP_CHARS]
            if step and step not in steps:
                steps.append(step)
            if len(steps) >= MAX_STEPS:
                return steps
    return steps


def _plain(text: str) -> str:
    """Markdown emphasis, links and inline code reduced to their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_]{1,3}([^*_]+)[*_]{1,3}", r"\1", text)
    return " ".join(text.replace("`", "").split())


def expanded_words(text: str) -> list[str]:
    """Lower-case words, plus the parts of CamelCase and dotted/dashed names (``KubePodCrashLooping`` → kube, pod,
    crash, looping; ``payments-api`` → payments, api), so an alert name meets the words a runbook uses."""
    words: list[str] = []
    for raw in _WORD.findall(text):
        token = raw.strip("._-")
        if not token:
            continue
        words.append(token.lower())
        parts = [part for piece in re.split(r"[._-]+", token) for part in _CAMEL.findall(piece)]
        if len(parts) > 1:
            words.extend(part.lower() for part in parts)
    return words


def query_terms(text: str, *, limit: int = 32) -> list[str]:
    """Distinct search terms of a query: expanded words without stop words, alphanumeric only, in order."""
    terms: list[str] = []
    for word in expanded_words(text):
        term = re.sub(r"[^a-z0-9]", "", word)
        if len(term) < 2 or term in STOPWORDS or term in terms:
            continue
        terms.append(term)
        if len(terms) >= limit:
            break
    return terms


def stem(term: str) -> str:
    """A light suffix stripper, enough to match 'restarting' with 'restarts' when checking coverage."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s", "ly"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


def keywords_for(title: str, service: str, tags: list[str]) -> str:
    """The extra words indexed with every chunk of a document: its service, tags and split title names."""
    return " ".join([service, *tags, *expanded_words(title)])

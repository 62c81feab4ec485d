"""The support bot's knowledge base: the Python language reference that ships with every Python.

`pydoc_data.topics.topics` holds the reference topics that ``help("try")`` shows (79 on 3.11), as
plain text with reST-style underlined headings. We split each topic into its sections, and each
section into passages of about `TARGET_CHARS` characters on paragraph boundaries, so a hit points
at the paragraph that answers the question rather than at a 60 KB chapter.

Several topics are aggregates of others (``compound`` repeats ``if``, ``try``, ``with``...;
``specialnames`` repeats ``customization``, ``context-managers``...). Duplicated passages would
crowd the top hits with copies, so each passage text is kept once, under the most specific topic
(the shortest topic that contains it). Everything here is deterministic: the same Python gives the
same passages, ids and `corpus_hash`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "CATEGORIES",
    "FAST_TOPICS",
    "Passage",
    "category_of",
    "corpus_hash",
    "load_passages",
    "split_text",
]

TARGET_CHARS = 1000
MAX_CHARS = 1200
MIN_CHARS = 300

# topic key -> category, used as the `topic` tag for filtered (hybrid) search.
_CATEGORY_OF: dict[str, tuple[str, ...]] = {
    "statements": (
        "assert", "assignment", "augassign", "break", "class", "compound", "continue", "del",
        "else", "for", "function", "global", "if", "import", "nonlocal", "pass", "raise",
        "return", "try", "while", "with", "yield", "async",
    ),
    "expressions": (
        "atom-identifiers", "atom-literals", "attribute-references", "await", "binary",
        "bitwise", "booleans", "calls", "comparisons", "conversions", "dict", "exprlists", "in",
        "lambda", "lists", "operator-summary", "power", "shifting", "slicings", "subscriptions",
        "unary",
    ),
    "lexical": (
        "floating", "identifiers", "id-classes", "imaginary", "integers", "numbers", "strings",
    ),
    "datamodel": (
        "attribute-access", "callable-types", "context-managers", "customization",
        "numeric-types", "objects", "sequence-types", "specialattrs", "specialnames", "types",
    ),
    "execution": ("dynamic-features", "exceptions", "execmodel", "naming"),
    "builtins": (
        "bltin-code-objects", "bltin-ellipsis-object", "bltin-null-object",
        "bltin-type-objects", "formatstrings", "string-methods", "truth", "typesfunctions",
        "typesmapping", "typesmethods", "typesmodules", "typesseq", "typesseq-mutable",
    ),
    "tools": ("debugger",),
}  # fmt: skip
_CATEGORY = {key: cat for cat, keys in _CATEGORY_OF.items() for key in keys}
CATEGORIES: tuple[str, ...] = (*_CATEGORY_OF, "other")

# A small, fixed slice of the corpus for `--fast` runs (tests): the topics the demo questions are
# about plus some that compete with them, so retrieval still has to choose.
FAST_TOPICS: tuple[str, ...] = (
    "try", "with", "function", "calls", "raise", "exceptions", "for", "while", "if", "lambda",
    "return", "import", "context-managers", "formatstrings", "typesseq", "numeric-types",
)  # fmt: skip

_UNDERLINE = re.compile(r"^([*=\-~^])\1{2,}$")


@dataclass(frozen=True)
class Passage:
    """One retrievable unit: what is embedded and stored (`text`) and how it is shown / filtered."""

    id: str  # stable: "<topic key>:<n>"
    key: str  # the pydoc topic, as in help("try")
    title: str  # "try — The try statement"
    section: str  # "except clause" ("" for the topic's introduction)
    topic: str  # category, one of CATEGORIES: the filter field
    chunk: int  # position within the topic
    text: str  # heading breadcrumb + body: the text that is embedded

    @property
    def metadata(self) -> dict[str, str | int]:
        return {
            "key": self.key,
            "title": self.title,
            "section": self.section,
            "topic": self.topic,
            "chunk": self.chunk,
            "source": "pydoc_data.topics",
        }


def category_of(key: str, heading: str = "") -> str:
    """The filter category of a topic; unknown topics (newer Pythons add some) are guessed."""
    if key in _CATEGORY:
        return _CATEGORY[key]
    if heading.endswith("statement"):
        return "statements"
    if heading.endswith(("expression", "expressions", "operations", "operator")):
        return "expressions"
    return "other"


def _clean_heading(line: str) -> str:
    return line.replace('"', "").strip()


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(topic heading, [(section path, body)]) from one topic's reST-like text."""
    lines = text.split("\n")
    heading = ""
    levels: list[str] = []  # underline characters, outermost first
    path: list[str] = []
    sections: list[tuple[str, str]] = []
    current: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _UNDERLINE.match(nxt) and len(nxt) == len(line):
            sections.append((" › ".join(path), "\n".join(current)))
            current = []
            char, title = nxt[0], _clean_heading(line)
            if not heading:
                heading, levels, path = title, [char], []
            else:
                depth = levels.index(char) if char in levels else len(levels)
                levels = [*levels[:depth], char]
                path = [*path[: depth - 1], title]
            i += 2
            continue
        current.append(line)
        i += 1
    sections.append((" › ".join(path), "\n".join(current)))
    return heading, [(p, b.strip()) for p, b in sections if b.strip()]


def _hard_split(paragraph: str, limit: int) -> list[str]:
    """Split one over-long paragraph on lines, then on spaces, so no piece exceeds `limit`."""
    pieces: list[str] = []
    buf = ""
    for line in paragraph.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if buf:
                pieces.append(buf)
                buf = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        if buf and len(buf) + 1 + len(line) > limit:
            pieces.append(buf)
            buf = line
        else:
            buf = f"{buf}\n{line}" if buf else line
    if buf:
        pieces.append(buf)
    return pieces


def split_text(
    body: str,
    *,
    target: int = TARGET_CHARS,
    maximum: int = MAX_CHARS,
    minimum: int = MIN_CHARS,
) -> list[str]:
    """Greedy packing of whole paragraphs into chunks of about `target` characters.

    A chunk is closed once it reaches `target`, or when the next paragraph would push it past
    `maximum`; a paragraph longer than `maximum` is split on lines. A short tail is merged back
    into the previous chunk when the result stays within `maximum` + `minimum`.
    """
    paragraphs: list[str] = []
    for p in re.split(r"\n\s*\n", body):
        p = p.rstrip()
        if p.strip():
            paragraphs.extend(_hard_split(p, maximum) if len(p) > maximum else [p])
    chunks: list[str] = []
    buf = ""
    for p in paragraphs:
        if buf and len(buf) + 2 + len(p) > maximum:
            chunks.append(buf)
            buf = ""
        buf = f"{buf}\n\n{p}" if buf else p
        if len(buf) >= target:
            chunks.append(buf)
            buf = ""
    if buf:
        if chunks and len(buf) < minimum and len(chunks[-1]) + 2 + len(buf) <= maximum + minimum:
            chunks[-1] = f"{chunks[-1]}\n\n{buf}"
        else:
            chunks.append(buf)
    return chunks


def _normalize(text: str) -> str:
    return " ".join(text.split())


def load_passages(
    topics: Mapping[str, str] | None = None, *, only: Iterable[str] | None = None
) -> list[Passage]:
    """Split the language reference into passages, most specific topic first for duplicates.

    `topics` defaults to `pydoc_data.topics.topics`; `only` restricts to some topic keys (the
    `--fast` subset). Passages come back ordered by topic key, then position.
    """
    if topics is None:
        from pydoc_data.topics import topics as stdlib_topics

        topics = stdlib_topics
    wanted = set(only) if only is not None else None
    parsed = {key: _sections(text) for key, text in topics.items()}

    def specificity(key: str) -> tuple[int, bool, str]:
        # Shortest topic first; on a tie the topic whose heading names it ('if', not 'else').
        heading = parsed[key][0].lower()
        return (len(topics[key]), key not in heading, key)

    seen: set[str] = set()
    by_key: dict[str, list[Passage]] = {}
    for key in sorted(topics, key=specificity):
        heading, sections = parsed[key]
        passages: list[Passage] = []
        for section, body in sections:
            for piece in split_text(body):
                norm = _normalize(piece)
                if norm in seen:
                    continue
                seen.add(norm)
                crumb = f"{heading} › {section}" if section else heading
                passages.append(
                    Passage(
                        id=f"{key}:{len(passages)}",
                        key=key,
                        title=f"{key} — {heading}",
                        section=section,
                        topic=category_of(key, heading),
                        chunk=len(passages),
                        text=f"{crumb}\n\n{piece}",
                    )
                )
        by_key[key] = passages
    keys = sorted(k for k in by_key if wanted is None or k in wanted)
    return [p for k in keys for p in by_key[k]]


def corpus_hash(passages: Sequence[Passage]) -> str:
    """A short digest of ids, texts and metadata: any change to the corpus changes it."""
    h = hashlib.sha256()
    for p in passages:
        for part in (p.id, p.text, repr(sorted(p.metadata.items()))):
            h.update(part.encode())
            h.update(b"\0")
    return h.hexdigest()[:16]

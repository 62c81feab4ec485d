"""Read FT.* replies whatever protocol the connection speaks.

redis-py 8 defaults to RESP3, where FT.INFO is a map with bytes keys and typed numbers; with
``protocol=2`` the same reply is a flat list of alternating keys and values, numbers that are
doubles arrive as bytes, and an attribute's flags are mixed in among its key/value pairs. Code
that reads these replies goes through this module so it never has to care which one it got.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["normalize_info", "pairs", "to_str"]

# Flags an FT.INFO attribute can carry. In RESP2 they stand alone among key/value pairs, so a
# token here is a flag and any other token is a key followed by its value.
_ATTRIBUTE_FLAGS = frozenset(
    {
        "SORTABLE",
        "UNF",
        "NOSTEM",
        "NOINDEX",
        "CASESENSITIVE",
        "WITHSUFFIXTRIE",
        "INDEXEMPTY",
        "INDEXMISSING",
    }
)

# Attribute options that are doubles: RESP2 sends them as text, RESP3 as numbers.
_FLOAT_OPTIONS = frozenset({"WEIGHT", "EPSILON"})

# FT.INFO sections that RESP2 sends as flat key/value lists.
_PAIR_SECTIONS = frozenset(
    {"index_definition", "gc_stats", "cursor_stats", "dialect_stats", "Index Errors"}
)

# Values that are names or messages: never turned into numbers even when they look like one.
_TEXT_VALUES = frozenset(
    {
        "index_name",
        "key_type",
        "prefixes",
        "identifier",
        "attribute",
        "last indexing error",
        "last indexing error key",
    }
)


def to_str(x: Any) -> str:
    """Text of a reply element: bytes are UTF-8 (undecodable bytes are kept as escapes)."""
    if isinstance(x, bytes | bytearray | memoryview):
        return bytes(x).decode("utf-8", errors="backslashreplace")
    return str(x)


def pairs(reply: Any) -> dict[str, Any]:
    """A RESP3 map or a RESP2 flat ``[key, value, ...]`` list as a dict with str keys.

    Values are returned as they are: only the keys are decoded.
    """
    if isinstance(reply, Mapping):
        return {to_str(k): v for k, v in reply.items()}
    if isinstance(reply, list | tuple):
        if len(reply) % 2:
            raise ValueError(f"expected key/value pairs, got an odd-length reply: {reply!r}")
        return {to_str(reply[i]): reply[i + 1] for i in range(0, len(reply), 2)}
    raise TypeError(f"expected a map or a flat key/value list, got {type(reply).__name__}")


def _scalar(value: Any, key: str) -> Any:
    """Decode bytes; RESP2 sends doubles as text, so number-looking text becomes a float."""
    if not isinstance(value, bytes | bytearray | memoryview):
        return value
    text = to_str(value)
    if key in _TEXT_VALUES:
        return text
    try:
        return float(text)
    except ValueError:
        return text


def _normalize(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _normalize(v, k) for k, v in pairs(value).items()}
    if isinstance(value, list | tuple):
        if key in _PAIR_SECTIONS:
            return {k: _normalize(v, k) for k, v in pairs(value).items()}
        if key == "field statistics":
            return [_normalize(pairs(item), key) for item in value]
        return [_normalize(v, key) for v in value]
    return _scalar(value, key)


def _attribute(raw: Any) -> dict[str, Any]:
    """One FT.INFO attribute in RESP3's shape: keys and values as the server names them plus a
    ``flags`` list. Values are decoded text (or the server's number) and left for the caller to
    convert (a TAG separator such as ``"1"`` must stay text); only doubles become floats."""
    out: dict[str, Any] = {}
    flags: list[str] = []
    if isinstance(raw, Mapping):
        for k, v in raw.items():
            name = to_str(k)
            if name == "flags":
                flags.extend(to_str(f) for f in v)
            else:
                out[name] = to_str(v) if isinstance(v, bytes | bytearray | memoryview) else v
    else:
        tokens = list(raw)
        i = 0
        while i < len(tokens):
            name = to_str(tokens[i])
            if name.upper() in _ATTRIBUTE_FLAGS or i + 1 == len(tokens):
                flags.append(name)
                i += 1
                continue
            v = tokens[i + 1]
            out[name] = to_str(v) if isinstance(v, bytes | bytearray | memoryview) else v
            i += 2
    for name, value in out.items():
        if name.upper() in _FLOAT_OPTIONS and isinstance(value, str):
            out[name] = float(value)
    out["flags"] = flags
    return out


def normalize_info(reply: Any) -> dict[str, Any]:
    """An FT.INFO reply (RESP2 list, RESP3 map, or redis-py's ``ft().info()`` dict) as one shape.

    Keys are str; ``index_definition`` is a dict (``prefixes`` a list of str); ``attributes`` is a
    list of dicts, each with ``identifier``, ``attribute``, ``type``, the type's options as the
    server names them (``WEIGHT``, ``SEPARATOR``, ``algorithm``, ``dim``, ``M`` ...) and a
    ``flags`` list; statistics that RESP2 sends as text are floats, as in RESP3.
    """
    info = pairs(reply)
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key == "attributes":
            out[key] = [_attribute(a) for a in value]
        else:
            out[key] = _normalize(value, key)
    return out

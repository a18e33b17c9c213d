"""MCP tools as Oculi actions: their input schemas made checkable, their results made replies.

An MCP server describes each tool with any JSON schema; the agent checks arguments with
`validate_args`, which knows an object of string, integer, number, boolean and array properties
with enums. `action_schema` keeps exactly that much: a property it can check is checked, one it
cannot (nested objects, unions, references) is still offered and its value passed through as
given, for the server to check. A tool whose arguments are not named properties at all takes no
arguments here, because `validate_args` passes on only named properties.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from oculi.apps.sdk import Reply
from oculi.events import Card, CardRow

MAX_DESCRIPTION = 400
"""Characters of a tool's description offered to the language model."""
MAX_SPEECH = 400
"""Characters of a tool's text said aloud; the rest stays in the app."""
MAX_DATA_CHARS = 4000
"""Structured results larger than this (as JSON) are not kept for follow-ups."""
TITLE_CHARS = 28
ROW_CHARS = 36
ROWS = 5

_CHECKED: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}
_ANNOTATIONS = {"type", "enum", "const", "description", "default", "title", "examples", "$comment"}
"""Keywords that ask nothing `validate_args` leaves unchecked."""
_ARG_LINE = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")
_ERROR_PREFIX = re.compile(r"^Error executing tool \S+:\s*")


def describe_tool(description: str | None, fallback: str) -> tuple[str, dict[str, str]]:
    """The summary (first paragraph) of a tool's description, and its `Args:` lines by name.

    Servers written in Python put the docstring in the description, and the `Args:` section is
    where their arguments are described; the schema often carries no descriptions of its own.
    """
    text = (description or "").strip()
    body, _, rest = text.partition("Args:")
    summary = " ".join(body.split("\n\n", 1)[0].split()) or fallback
    docs = {}
    for line in rest.splitlines():
        match = _ARG_LINE.match(line)
        if match:
            docs[match.group(1)] = match.group(2).strip()
    return _clip(summary, MAX_DESCRIPTION), docs


def action_schema(
    input_schema: Any, docs: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], bool]:
    """The schema `validate_args` checks a tool's arguments with, and whether it checks all.

    `additionalProperties` is always false: the agent passes on only named properties, so an
    argument not named here is refused rather than silently dropped.
    """
    docs = docs or {}
    source = input_schema if isinstance(input_schema, Mapping) else {}
    raw = source.get("properties")
    complete = source.get("type", "object") == "object" and (
        isinstance(raw, Mapping) or source.get("additionalProperties") is False
    )
    properties: dict[str, Any] = {}
    for name, prop in (raw or {}).items() if isinstance(raw, Mapping) else ():
        checked, ok = _property(prop)
        if name in docs and "description" not in checked:
            checked["description"] = docs[name]
        properties[str(name)] = checked
        complete = complete and ok
    required = source.get("required")
    names = [n for n in required if n in properties] if isinstance(required, list) else []
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if names:
        schema["required"] = names
    schema["additionalProperties"] = False
    for key in ("$defs", "definitions"):  # what passed-through properties may refer to
        if isinstance(source.get(key), Mapping):
            schema[key] = dict(source[key])
    return schema, complete


def _property(prop: Any) -> tuple[dict[str, Any], bool]:
    """One property as `validate_args` can check it, and whether the check is the whole schema."""
    if not isinstance(prop, Mapping):
        return {}, prop is True
    outer = prop
    prop = _without_null(prop)
    kind = prop.get("type")
    found: dict[str, Any] = {}
    if kind in _CHECKED:
        found["type"] = kind
        ok = set(prop) <= _ANNOTATIONS
        enum = prop.get("enum", [prop["const"]] if "const" in prop else None)
        if enum is not None:
            if _fits(kind, enum):
                found["enum"] = list(enum)
            else:
                ok = False
    elif kind == "array":
        items, ok = _property(prop.get("items", {}))
        found = {"type": "array", "items": items}
    else:
        # Objects, unions, references: shown as declared, the value passed through unchecked.
        found = {k: v for k, v in prop.items() if k not in ("enum", "const", "title")}
        if isinstance(prop.get("enum"), list):
            found["enum"] = prop["enum"]
        ok = not found
    for key in ("description", "default"):
        value = outer.get(key, prop.get(key))
        if isinstance(value, str | int | float | bool) and key not in found:
            found[key] = value
    return found, ok


def _without_null(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    """`X | None` (pydantic's anyOf with null, or a type list) as X: null is never passed on."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) == 1:
            return {**prop, "type": kinds[0]}
    for key in ("anyOf", "oneOf"):
        options = prop.get(key)
        if isinstance(options, list):
            real = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
            if len(real) == 1 and len(real) < len(options) and isinstance(real[0], Mapping):
                rest = {k: v for k, v in prop.items() if k != key}
                return {**rest, **real[0]}
    return prop


def _fits(kind: str, values: Any) -> bool:
    """Enum values `validate_args` can compare with what it coerces (bools are not numbers)."""
    want = _CHECKED[kind]
    return (
        isinstance(values, list)
        and bool(values)
        and all(
            isinstance(v, want) and (kind == "boolean" or not isinstance(v, bool)) for v in values
        )
    )


# --- results ------------------------------------------------------------------------------------


def tool_reply(
    app: str,
    title: str,
    content: Sequence[Any],
    structured: Any,
    say_in: Callable[[str, str], str],
) -> Reply:
    """A tool's result as a reply: its text said (or its structured result described), a card,
    and the structured result kept as data for follow-ups.

    `content` holds MCP content blocks; only text is used (images, audio and resources are not
    shown yet).
    """
    text = tool_text(content)
    if structured is None:
        structured = _json_object(text)
        if structured is not None:
            text = ""
    if not text and structured is not None:
        text = _describe(structured)
    if not text and content:
        text = say_in(
            "The app sent something I can't show yet.", "这个应用发来的内容我还显示不了。"
        )
    if not text:
        text = say_in("Done.", "好了。")
    speech = _clip(" ".join(text.split()), MAX_SPEECH)
    card = Card(
        layout="message",
        title=_clip(title, TITLE_CHARS),
        subtitle=_clip(f"{app} app", ROW_CHARS),
        rows=_rows(structured) or _text_rows(text),
    )
    return Reply(speech=speech, card=card, data=_data(structured, speech))


def tool_text(content: Sequence[Any]) -> str:
    """The text blocks of a tool result, joined; the SDK's "Error executing tool" prefix cut."""
    texts = [
        str(getattr(block, "text", "")).strip()
        for block in content
        if getattr(block, "type", None) == "text"
    ]
    return _ERROR_PREFIX.sub("", "\n".join(t for t in texts if t))


def _json_object(text: str) -> dict[str, Any] | None:
    """A tool that returned a plain dict sends it as JSON text: read it back as data."""
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        parts = [f"{str(k).replace('_', ' ')} {_describe(v)}" for k, v in value.items()]
        return ", ".join(parts) + "."
    if isinstance(value, list):
        return ", ".join(_describe(v) for v in value[:10])
    return str(value)


def _rows(structured: Any) -> tuple[CardRow, ...]:
    """A flat structured result as label/value rows; a lone `result` reads better as text."""
    if not isinstance(structured, Mapping) or set(structured) <= {"result"}:
        return ()
    rows = []
    for key, value in list(structured.items())[:ROWS]:
        if isinstance(value, Mapping | list):
            return ()
        label = _clip(str(key).replace("_", " "), ROW_CHARS // 2)
        rows.append(CardRow(label=label, value=_clip(str(value), ROW_CHARS - len(label) - 1)))
    return tuple(rows)


def _text_rows(text: str) -> tuple[CardRow, ...]:
    lines = textwrap.wrap(" ".join(text.split()), ROW_CHARS) or [""]
    if len(lines) > ROWS:
        lines = [*lines[: ROWS - 1], _clip(lines[ROWS - 1] + " " + lines[ROWS], ROW_CHARS, True)]
    return tuple(CardRow(label=line) for line in lines)


def _data(structured: Any, speech: str) -> dict[str, Any]:
    if structured is None:
        return {"text": speech}
    try:
        size = len(json.dumps(structured, ensure_ascii=False))
    except (TypeError, ValueError):
        return {"text": speech}
    if size > MAX_DATA_CHARS:
        return {"text": speech}
    return dict(structured) if isinstance(structured, Mapping) else {"result": structured}


def _clip(text: str, limit: int, always: bool = False) -> str:
    if len(text) <= limit and not always:
        return text
    return text[: limit - 1].rstrip() + "…"

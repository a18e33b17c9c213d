"""Fitting free text (notes, translations, scene text) onto the lens and into one breath.

Cards on a 640x480 lens hold a title of 28 characters and 5 rows of 36; spoken replies should
stay short. Apps that show text they did not write themselves cut it here, the same way.
"""

from __future__ import annotations

import re
import textwrap

TITLE_CHARS = 28
ROW_CHARS = 36
MAX_ROWS = 5


def squeeze(text: str) -> str:
    """Whitespace runs (OCR line breaks, tabs) as single spaces."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary where there is one, marked with …."""
    text = squeeze(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def title(text: str) -> str:
    return clip(text, TITLE_CHARS)


def rows(text: str, max_rows: int = MAX_ROWS, width: int = ROW_CHARS) -> list[str]:
    """Text wrapped into card rows; the last row ends with … when the text does not fit."""
    lines = textwrap.wrap(squeeze(text), width=width) or [""]
    if len(lines) <= max_rows:
        return lines
    kept = lines[:max_rows]
    kept[-1] = clip(kept[-1] + " " + lines[max_rows], width)  # too long: clip marks the cut
    return kept


def as_said(value: str, heard: str) -> str:
    """A slot's value with the punctuation and case the wearer's words had.

    The parser matches punctuation-free text, so "note that milk, eggs." arrives as "milk eggs";
    the span of `heard` those words came from is what a note or a translation should keep. A value
    not found in `heard` (it came from an LLM) is returned as it is.
    """
    words = value.split()
    if not words:
        return value
    pattern = r"\W*".join(re.escape(w) for w in words)
    found = re.search(pattern + r"\W*$", heard, re.IGNORECASE) or re.search(
        pattern, heard, re.IGNORECASE
    )
    return found.group(0).strip() if found else value

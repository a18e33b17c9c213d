"""The fast path of understanding: each app's phrasings as hassil templates, EN and ZH.

Templates are data beside the app that owns them; the parser only loads and matches them,
so adding a phrasing never needs a code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, recognize
from hassil.parser import ParseError

from oculi.errors import ConfigError

LANGUAGES = ("en", "zh")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Parsed:
    app: str
    action: str
    uses: tuple[str, ...]
    """Context the action needs, e.g. `in_view` for what the wearer looks at."""
    language: str


def detect_language(text: str) -> str:
    """`zh` when the text has Han characters, else `en`: the two languages templates exist in."""
    return "zh" if _HAN.search(text) else "en"


class IntentParser:
    def __init__(self, intent_files: list[Path]) -> None:
        self._uses: dict[str, tuple[str, ...]] = {}
        by_language: dict[str, dict[str, Any]] = {lang: {} for lang in LANGUAGES}
        for path in intent_files:
            self._load(path, by_language)
        self._intents = {
            lang: _compile(lang, intents) for lang, intents in by_language.items() if intents
        }

    def _load(self, path: Path, by_language: dict[str, dict[str, Any]]) -> None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            app = data["app"]
            for action, spec in data["intents"].items():
                name = f"{app}.{action}"
                uses = spec.get("uses", ())
                self._uses[name] = (uses,) if isinstance(uses, str) else tuple(uses)
                for lang in LANGUAGES:
                    if spec.get(lang):
                        intent = {"data": [{"sentences": list(spec[lang])}]}
                        _compile(lang, {name: intent})
                        by_language[lang][name] = intent
        except ParseError as err:
            raise ConfigError(f"intent file {path}: a template cannot be parsed: {err}") from err
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"intent file {path} is malformed: {err!r}") from err

    def examples(self, language: str = "en") -> list[str]:
        """Plain sentences from each action's first templates (first alternatives, optional words
        left out): the command vocabulary the ASR is primed with."""
        intents = self._intents.get(language)
        if intents is None:
            return []
        found = []
        for intent in intents.intents.values():
            for template in intent.data[0].sentence_texts[:3]:
                text = re.sub(r"\[[^\]]*\]", "", template)
                text = re.sub(r"\(([^|)]*)[^)]*\)", r"\1", text)
                found.append(" ".join(text.split()))
        return found

    def parse(self, text: str) -> Parsed | None:
        """The app action the words ask for, or None when no template matches."""
        language = detect_language(text)
        intents = self._intents.get(language)
        if intents is None or not text.strip():
            return None
        result = recognize(text, intents, language=language)
        if result is None:
            return None
        app, action = result.intent.name.split(".", 1)
        return Parsed(app, action, self._uses[result.intent.name], language)


def _compile(language: str, intents: dict[str, Any]) -> Intents:
    """hassil parses templates lazily; parse them now so a bad one fails at start-up."""
    compiled = Intents.from_dict({"language": language, "intents": intents})
    for intent in compiled.intents.values():
        for data in intent.data:
            _ = data.sentences
    return compiled

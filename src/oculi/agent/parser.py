"""The fast path of understanding: each app's phrasings as hassil templates, EN and ZH.

Templates are data beside the app that owns them; the parser only loads and matches them,
so adding a phrasing never needs a code change. Templates may hold slots (`{song}`), declared
in the file's `lists:` as free text (`wildcard`), numbers (`range`) or fixed values; a slot's
name is the action argument it fills. Each action may also list `examples:` — plain labelled
sentences that the embedding tier learns paraphrases from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, recognize_best
from hassil.parser import ParseError
from hassil.sample import sample_sentence

from oculi.errors import ConfigError

LANGUAGES = ("en", "zh")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_PUNCTUATION = re.compile(r"(?<!\d)[.,]|[.,](?!\d)|[?!;:。？！，、；：\"“”]+")
"""Punctuation, except a decimal mark between digits ("7.25", "1,5")."""


@dataclass(frozen=True)
class Parsed:
    app: str
    action: str
    language: str
    args: dict[str, Any] = field(default_factory=dict)
    """Slot values by argument name, as the words gave them (text, or numbers for ranges)."""


@dataclass(frozen=True)
class Example:
    """A labelled sentence for the embedding tier."""

    app: str
    action: str
    language: str
    text: str
    from_template: bool = False
    args: dict[str, Any] = field(default_factory=dict)
    """Arguments the example implies ("make it louder" → change: up)."""


def detect_language(text: str) -> str:
    """`zh` when the text has Han characters, else `en`: the two languages templates exist in."""
    return "zh" if _HAN.search(text) else "en"


def clean_text(text: str) -> str:
    """Punctuation dropped and spaces squeezed: how ASR and typing differ least."""
    return " ".join(_PUNCTUATION.sub(" ", text).split())


class IntentParser:
    def __init__(self, intent_files: list[Path]) -> None:
        self._examples: list[Example] = []
        self._lists: dict[str, Any] = {}
        by_language: dict[str, dict[str, Any]] = {lang: {} for lang in LANGUAGES}
        for path in intent_files:
            self._load(path, by_language)
        for lang, intents in by_language.items():
            for name, intent in intents.items():
                for sentence in intent["data"][0]["sentences"]:
                    for slot in re.findall(r"\{(\w+)(?::\w+)?\}", sentence):
                        if slot not in self._lists:
                            raise ConfigError(
                                f"intent {name} ({lang}): slot {{{slot}}} has no list; "
                                f"declare it under `lists:` in the app's intents file"
                            )
        self._intents = {
            lang: _compile(lang, intents, self._lists)
            for lang, intents in by_language.items()
            if intents
        }

    def _load(self, path: Path, by_language: dict[str, dict[str, Any]]) -> None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            app = data["app"]
            for name, spec in (data.get("lists") or {}).items():
                if name in self._lists and self._lists[name] != spec:
                    raise ConfigError(f"intent file {path}: slot list {name!r} defined twice")
                self._lists[name] = spec
            for action, spec in data["intents"].items():
                name = f"{app}.{action}"
                for lang in LANGUAGES:
                    if spec.get(lang):
                        intent = {"data": [{"sentences": [str(s) for s in spec[lang]]}]}
                        _compile(lang, {name: intent}, self._lists)
                        by_language[lang][name] = intent
                        self._examples.extend(
                            Example(app, action, lang, t, from_template=True)
                            for t in _plain(spec[lang])
                        )
                    for item in (spec.get("examples") or {}).get(lang) or []:
                        self._examples.append(_example(app, action, lang, item))
        except ParseError as err:
            raise ConfigError(f"intent file {path}: a template cannot be parsed: {err}") from err
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"intent file {path} is malformed: {err!r}") from err

    def examples(self, language: str = "en") -> list[str]:
        """Plain sentences from each action's first templates (first alternatives, optional words
        and slots left out): the command vocabulary the ASR is primed with."""
        return [re.sub(r"\{[^}]*\}", "", e.text).strip() for e in self._template_examples(language)]

    def vocabulary(self, language: str = "en", max_chars: int = 200) -> list[str]:
        """Command sentences to prime the ASR with, taken in turn from each app so that every
        app is heard of, and cut to `max_chars` (a long prompt dilutes what matters most)."""
        by_app: dict[str, list[str]] = {}
        for example in self._template_examples(language):
            text = example.text  # whole sentences only: "add flight on" primes nothing useful
            if "{" not in text and text not in by_app.setdefault(example.app, []):
                by_app[example.app].append(text)
        chosen: list[str] = []
        used = 0
        for rank in range(max((len(v) for v in by_app.values()), default=0)):
            for texts in by_app.values():
                if rank < len(texts) and used + len(texts[rank]) + 2 <= max_chars:
                    chosen.append(texts[rank])
                    used += len(texts[rank]) + 2
        return chosen

    def phrasings(self, language: str = "en") -> list[str]:
        """Every sentence the templates accept that has no slot, alternatives and optional
        words expanded (~4,600 in English for the built-in apps): what the voice path may
        prefer when the audio allows (audio.rescore)."""
        intents = self._intents.get(language)
        if intents is None:
            return []
        found: set[str] = set()
        for intent in intents.intents.values():
            for data in intent.data:
                for sentence in data.sentences:
                    for text in sample_sentence(
                        sentence, intents.slot_lists, intents.expansion_rules, expand_lists=False
                    ):
                        if "{" not in text:
                            found.add(" ".join(text.split()))
        return sorted(found)

    def _template_examples(self, language: str) -> list[Example]:
        return [e for e in self._examples if e.language == language and e.from_template]

    def labelled(self) -> list[Example]:
        """Example sentences for the embedding tier: the files' `examples:` and the plain forms
        of templates without slots (a template whose slot is left out says too little)."""
        return [e for e in self._examples if not (e.from_template and "{" in e.text)]

    def parse(self, text: str) -> Parsed | None:
        """The app action the words ask for, or None when no template matches.

        The words are tried as said, then without hesitations and politeness around them and
        with common recogniser slips mended ("take me too the station")."""
        language = detect_language(text)
        intents = self._intents.get(language)
        words = clean_text(text)
        if intents is None or not words:
            return None
        parsed = self._match(words, intents, language)
        if parsed is None:
            plain = plain_words(words, language)
            if plain and plain != words:
                parsed = self._match(plain, intents, language)
        return parsed

    def _match(self, words: str, intents: Intents, language: str) -> Parsed | None:
        result = recognize_best(words, intents, language=language)
        if result is None:
            return None
        app, action = result.intent.name.split(".", 1)
        args = {name: entity.value for name, entity in result.entities.items()}
        return Parsed(app, action, language, args)


_FILLERS = {
    "en": re.compile(
        r"^(?:(?:um+|uh+|hmm+|er+|ah+|oh+|so|well|okay so|ok so|right|hey|hi|oculi|hey oculi|"
        r"yeah|okay|ok|basically|like|just|quick|wow|oh wow|and|please|excuse me|sorry|"
        r"(?:could|can|would|will) you(?: please)?|i was wondering|i wonder|you know)\s+)+"
        r"|\s+(?:please|for me|would you|will you|thanks|thank you|you know|now|again|then)$"
        r"|\b(?:um+|uh+|er+|hmm+)\b",
        re.IGNORECASE,
    ),
    "zh": re.compile(r"^(?:嗯|呃|那个|请问|麻烦|请|帮我|好了|哎)+|(?:吧|啊|呀|呢|嘛|好吗|谢谢)+$"),
}
_SLIPS = (
    (re.compile(r"\b(?:too|two)\s+(the|a|an|my)\b", re.IGNORECASE), r"to \1"),
    (re.compile(r"\bdis\b", re.IGNORECASE), "this"),
    (re.compile(r"\bdat\b", re.IGNORECASE), "that"),
    (re.compile(r"\bsum\b", re.IGNORECASE), "some"),
    (re.compile(r"\bfoto\b", re.IGNORECASE), "photo"),
    (re.compile(r"\bwanna\b", re.IGNORECASE), "want to"),
)
"""Slips a speech recogniser makes on short commands (homophones, spoken forms)."""


def plain_words(words: str, language: str) -> str:
    """The request without hesitations and politeness around it, common slips mended."""
    filler = _FILLERS.get(language)
    previous = None
    while filler is not None and words != previous:
        previous = words
        words = " ".join(filler.sub(" ", words).split())
    if language == "en":
        for pattern, replacement in _SLIPS:
            words = pattern.sub(replacement, words)
    return words


def _example(app: str, action: str, language: str, item: Any) -> Example:
    """A labelled example: a sentence, or `{text: ..., args: {...}}`."""
    if isinstance(item, dict):
        return Example(app, action, language, str(item["text"]), args=dict(item.get("args", {})))
    return Example(app, action, language, str(item))


def _plain(templates: list[Any]) -> list[str]:
    """The first three templates as plain sentences: first alternatives, no optional words."""
    found = []
    for template in templates[:3]:
        text, before = str(template), ""
        while text != before:  # innermost first: templates nest [a [b]] and (a|(b|c))
            before = text
            text = re.sub(r"\[[^\[\]]*\]", "", text)
            text = re.sub(r"\(([^|()]*)[^()]*\)", r"\1", text)
        text = " ".join(text.split())
        if text:
            found.append(text)
    return found


def _compile(language: str, intents: dict[str, Any], lists: dict[str, Any]) -> Intents:
    """hassil parses templates lazily; parse them now so a bad one fails at start-up."""
    compiled = Intents.from_dict({"language": language, "intents": intents, "lists": lists})
    for intent in compiled.intents.values():
        for data in intent.data:
            _ = data.sentences
    return compiled

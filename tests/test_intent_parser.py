"""The fast-path parser: the shop app's phrasings in English and Chinese, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from oculi.agent.parser import IntentParser
from oculi.apps.shop.app import ShopApp
from oculi.errors import ConfigError


@pytest.fixture(scope="module")
def parser() -> IntentParser:
    assert ShopApp.intents_file is not None
    return IntentParser([ShopApp.intents_file])


def test_shop_intents_file_ships_beside_the_app() -> None:
    assert ShopApp.intents_file is not None
    assert ShopApp.intents_file.is_file()


@pytest.mark.parametrize(
    "text",
    [
        "how much is this",
        "How much does this cost?",
        "what's the price of this",
        "what is the price",
        "price check",
        "where is this cheaper",
        "HOW MUCH IS THAT",
        "compare prices",
        "is it cheaper somewhere else",
    ],
)
def test_english_price_questions_map_to_shop_price(parser: IntentParser, text: str) -> None:
    parsed = parser.parse(text)
    assert parsed is not None, text
    assert (parsed.app, parsed.action) == ("shop", "price")
    assert parsed.language == "en"


@pytest.mark.parametrize("text", ["这个多少钱", "这个怎么卖", "这个多少钱？", "价格是多少"])
def test_chinese_price_questions_map_to_shop_price(parser: IntentParser, text: str) -> None:
    parsed = parser.parse(text)
    assert parsed is not None, text
    assert (parsed.app, parsed.action) == ("shop", "price")
    assert parsed.language == "zh"


@pytest.mark.parametrize(
    "text", ["play some jazz", "", "   ", "how are you", "what time is it", "播放音乐"]
)
def test_unrelated_text_gives_none(parser: IntentParser, text: str) -> None:
    assert parser.parse(text) is None


def test_parser_without_files_understands_nothing() -> None:
    assert IntentParser([]).parse("how much is this") is None


def test_chinese_only_app_does_not_answer_english(tmp_path: Path) -> None:
    path = tmp_path / "zh_only.yaml"
    path.write_text("app: demo\nintents:\n  hello:\n    zh: ['你好']\n", encoding="utf-8")
    parser = IntentParser([path])
    assert parser.parse("hello") is None
    parsed = parser.parse("你好")
    assert parsed is not None
    assert (parsed.app, parsed.action, parsed.args) == ("demo", "hello", {})


@pytest.mark.parametrize(
    "text",
    [
        "intents:\n  price:\n    en: ['price']\n",  # no app
        "app: demo\nintents: [price]\n",  # intents not a mapping
        "app: demo\nintents:\n  price: [price]\n",  # an intent that is not a mapping
        "app: [demo\n",  # not YAML
        "just text\n",  # not a mapping at all
    ],
)
def test_malformed_intents_file_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad_intents.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad_intents\.yaml"):
        IntentParser([path])


def test_missing_intents_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml"):
        IntentParser([tmp_path / "absent.yaml"])


def test_unparseable_template_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad_template.yaml"
    path.write_text("app: demo\nintents:\n  price:\n    en: ['how (much']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad_template\.yaml"):
        IntentParser([path])


def test_slots_fill_arguments_and_literal_templates_win_over_wildcards(tmp_path: Path) -> None:
    path = tmp_path / "music.yaml"
    path.write_text(
        "app: music\nlists:\n  query: {wildcard: true}\n  level: {range: {from: 0, to: 100}}\n"
        "intents:\n  play:\n    en: ['play {query}', 'play [some] music']\n"
        "  volume:\n    en: ['volume {level}']\n",
        encoding="utf-8",
    )
    parser = IntentParser([path])
    wild = parser.parse("Play Miles Davis!")
    assert wild is not None and wild.args == {"query": "Miles Davis"}
    literal = parser.parse("play some music")
    assert literal is not None and literal.args == {}
    number = parser.parse("volume 40")
    assert number is not None and number.args == {"level": 40}
    assert parser.parse("volume 400") is None


def test_labelled_examples_keep_their_arguments_and_skip_slot_templates(tmp_path: Path) -> None:
    path = tmp_path / "sys.yaml"
    path.write_text(
        "app: sys\nlists:\n  change: {values: [up, down]}\nintents:\n  volume:\n"
        "    en: ['[set [the]] volume {change}', 'louder please']\n"
        "    examples:\n      en: [{text: make it louder, args: {change: up}}, too quiet]\n",
        encoding="utf-8",
    )
    parser = IntentParser([path])
    labelled = {e.text: e.args for e in parser.labelled()}
    assert labelled == {"louder please": {}, "make it louder": {"change": "up"}, "too quiet": {}}
    assert "volume" in parser.examples("en")


def test_slot_without_a_list_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "slots.yaml"
    path.write_text("app: demo\nintents:\n  go:\n    en: ['go to {place}']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\{place\} has no list"):
        IntentParser([path])

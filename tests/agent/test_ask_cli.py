"""`oculi ask`: the JSON contract, the look-and-ask path with a real image, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oculi.apps.registry import FIRST_PARTY
from oculi.cli import main
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

CONTRACT = {"app", "action", "args", "path", "confidence", "reply", "card"}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCULI_CONFIG", "OCULI_PROFILE", "OCULI_CATALOG__PATH", "OCULI_AGENT__LLM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def _ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["ask", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def test_price_question_about_the_pack_in_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = DEMO_PRODUCTS[0]
    photo = tmp_path / "pack.jpg"
    spec = PackSpec(gtin=product.gtin, name=product.name, brand=product.brand)
    photo.write_bytes(to_jpeg(render_pack_photo(spec, centre=(0.4, 0.5))))
    code, result = _ask(capsys, "how much is this?", "--image", str(photo), "--gaze", "0.4,0.5")
    assert code == 0
    assert set(result) >= CONTRACT
    assert (result["app"], result["action"], result["path"]) == ("shop", "price", "parser")
    assert result["confidence"] == 1.0
    card = result["card"]
    assert isinstance(card, dict) and card["title"] == product.name
    assert product.name in str(result["reply"])


def test_unknown_request_still_answers_in_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = _ask(capsys, "juggle three oranges for me")
    assert code == 0
    assert result["app"] in FIRST_PARTY
    assert result["reply"]


def test_chinese_is_answered_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = _ask(capsys, "这个多少钱")
    assert code == 0
    assert (result["app"], result["language"]) == ("shop", "zh")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gaze", "2,0.5"], "within 0..1"),
        (["--gaze", "middle"], "X,Y"),
        (["--image", "missing.jpg"], "cannot read"),
        (["--image", "notes.txt"], ".jpg or .png"),
    ],
)
def test_bad_options_exit_two_with_a_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["ask", "how much is this", *args]) == 2
    assert message in capsys.readouterr().err


def test_broken_image_gives_a_reply_and_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a whole jpeg")
    code, result = _ask(capsys, "how much is this", "--image", str(broken))
    assert code == 0
    assert result["errors"]
    assert result["app"] == "shop" and "couldn't see" in str(result["reply"]).lower()

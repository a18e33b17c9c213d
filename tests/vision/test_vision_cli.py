"""`oculi identify` and `oculi price`: the JSON contract; exit 2 for files that aren't images."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from oculi.cli import main
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.ocr import TextReader
from oculi.vision.samples import pack_front, price_tag, shelf_frame, text_frame
from oculi.vision.synthetic import PackSpec, draw_pack, render_pack_photo, to_jpeg

OATS = DEMO_PRODUCTS[0]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCULI_CONFIG", "OCULI_PROFILE", "OCULI_CATALOG__PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(list(argv)) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_identify_prints_the_contract_for_a_pack_with_a_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "pack.jpg"
    spec = PackSpec(OATS.gtin, OATS.name, OATS.brand, OATS.colour)
    photo.write_bytes(to_jpeg(render_pack_photo(spec, centre=(0.4, 0.5))))
    result = _json(capsys, "identify", str(photo), "--gaze", "0.4,0.5", "--json")
    assert result["product"] == {"id": OATS.gtin, "name": OATS.name, "brand": OATS.brand,
                                 "gtin": OATS.gtin}  # fmt: skip
    assert result["via"] == "barcode" and isinstance(result["confidence"], float)
    assert result["candidates"] == [{"name": OATS.name, "score": 1.0}]
    assert {"barcode", "total"} <= set(result["timings_ms"])
    assert "read_text" in result and "shelf_price" in result


def test_identify_unknown_pack_prints_null_product_with_what_was_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ocr: TextReader
) -> None:
    photo = tmp_path / "unknown.png"
    text_frame([pack_front("Zyxwv", "Quantum Floss"), price_tag(["€1.00"])]).save(photo)
    db = tmp_path / "cat.sqlite3"
    result = _json(capsys, "identify", str(photo), "--catalog", str(db), "--json")
    assert result["product"] is None and result["via"] is None
    assert "Quantum Floss" in str(result["read_text"])
    assert result["shelf_price"] == {"cents": 100, "currency": "EUR", "text": "€1.00"}


def test_price_adds_ranked_offers_and_the_saving_against_the_shelf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ocr: TextReader
) -> None:
    photo = tmp_path / "shelf.jpg"
    pack = draw_pack(PackSpec(OATS.gtin, OATS.name, OATS.brand, OATS.colour))
    photo.write_bytes(to_jpeg(shelf_frame([pack, price_tag(["€2.99"], size=34)])))
    result = _json(capsys, "price", str(photo), "--json")
    assert result["via"] == "barcode"
    assert result["shelf_price"] == {"cents": 299, "currency": "EUR", "text": "€2.99"}
    offers = result["offers"]
    assert isinstance(offers, list) and offers
    in_stock = [o["price_cents"] for o in offers if o["in_stock"]]
    assert in_stock == sorted(in_stock)
    assert result["shelf_saving_cents"] == 299 - in_stock[0]


def test_price_text_output_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "pack.jpg"
    spec = PackSpec(OATS.gtin, OATS.name, OATS.brand, OATS.colour)
    photo.write_bytes(to_jpeg(render_pack_photo(spec)))
    assert main(["identify", str(photo), "--gaze", "0.55,0.5"]) == 0
    assert OATS.name in capsys.readouterr().out


def _huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 5_000), 1).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"shopping list: milk, eggs", "could not be decoded"),
        ("cut.jpg", to_jpeg(Image.new("RGB", (640, 480), "red"))[:200], "could not be decoded"),
        ("huge.png", None, "too large"),
        ("missing.jpg", "absent", "cannot read"),
    ],
)
def test_files_that_are_not_readable_images_exit_2_naming_the_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is None:
        path.write_bytes(_huge_png())
    elif isinstance(content, bytes):
        path.write_bytes(content)
    for command in ("identify", "price"):
        assert main([command, str(path), "--json"]) == 2
        err = capsys.readouterr().err
        assert name in err and message in err


def test_malformed_gaze_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "pack.jpg"
    photo.write_bytes(to_jpeg(Image.new("RGB", (64, 64))))
    assert main(["identify", str(photo), "--gaze", "left"]) == 2
    assert "--gaze" in capsys.readouterr().err

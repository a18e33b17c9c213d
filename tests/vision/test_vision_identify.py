"""identify: barcode first, then text, then picture, and an honest unknown with what was read."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from oculi.errors import PerceptionError
from oculi.services.catalog import Catalog, Product
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.identify import ACCEPT, identify, open_pictures
from oculi.vision.ocr import RawLine, TextReader
from oculi.vision.samples import hard_barcode_frame, pack_front, price_tag, shelf_frame, text_frame
from oculi.vision.stage import identify_in_view
from oculi.vision.synthetic import PackSpec, draw_pack, render_pack_photo, to_jpeg

COFFEE = DEMO_PRODUCTS[1]
RICE = DEMO_PRODUCTS[10]


class FakePictures:
    """The picture index as identify sees it, answering with fixed matches."""

    def __init__(self, matches: list[tuple[str, float]]) -> None:
        self.matches = matches
        self.asked = 0

    def query(
        self, image: Image.Image, gaze: tuple[float, float] | None = None, top_k: int = 5
    ) -> list[tuple[str, float]]:
        self.asked += 1
        return self.matches[:top_k]


class FakeReader:
    """OCR that reads fixed lines: for tests about combining evidence, not about reading."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines

    def read(self, image: Image.Image) -> list[RawLine]:
        return [(text, 0.99, (10.0, 10.0 + 40 * i, 200.0, 40.0 + 40 * i))
                for i, text in enumerate(self.lines)]  # fmt: skip


BLANK = to_jpeg(text_frame([Image.new("RGB", (300, 400), (200, 30, 30))]))


def test_known_barcode_settles_it_without_ocr(catalog: Catalog, ocr: TextReader) -> None:
    spec = PackSpec(COFFEE.gtin, COFFEE.name, COFFEE.brand, COFFEE.colour)
    found = identify(to_jpeg(render_pack_photo(spec)), (0.55, 0.5), catalog, None, reader=ocr)
    assert found.product is not None and found.product.id == COFFEE.gtin
    assert found.via == "barcode" and found.confidence > 0.9
    assert "ocr" not in found.timings_ms and found.timings_ms["total"] > 0


def test_a_turned_code_is_read_and_the_shelf_price_too_when_wanted(
    catalog: Catalog, ocr: TextReader
) -> None:
    spec = PackSpec(RICE.gtin, RICE.name, RICE.brand, RICE.colour)
    pack = draw_pack(spec).rotate(35, expand=True, fillcolor=(0, 0, 0, 0))
    frame = shelf_frame([pack, price_tag(["€3.49"], size=34)], seed=4)
    found = identify(to_jpeg(frame), (0.5, 0.5), catalog, None, want_price=True, reader=ocr)
    assert found.via == "barcode" and found.product is not None
    assert found.product.gtin == RICE.gtin
    assert found.shelf_price_cents == 349


def test_pack_without_a_readable_code_is_found_by_its_words(
    catalog: Catalog, ocr: TextReader
) -> None:
    frame = text_frame([pack_front(COFFEE.brand, COFFEE.name, COFFEE.quantity),
                        price_tag(["€7.99", "15,98 €/kg"], size=30)])  # fmt: skip
    found = identify(to_jpeg(frame), None, catalog, None, reader=ocr)
    assert found.via == "text" and found.product is not None
    assert found.product.id == COFFEE.gtin and found.confidence >= ACCEPT
    assert found.shelf_price_cents == 799
    assert "Kaffa Hills" in found.read_text and "ocr" in found.timings_ms


@pytest.mark.usefixtures("cjk")
def test_chinese_pack_is_found_by_its_words(catalog: Catalog, ocr: TextReader) -> None:
    frame = text_frame([pack_front("伊利", "纯牛奶", "250ml", cjk=True),
                        price_tag(["¥12.80"], cjk=True, size=30)])  # fmt: skip
    found = identify(to_jpeg(frame), None, catalog, None, reader=ocr)
    assert found.product is not None and found.product.id == "yili-milk"
    assert found.via == "text" and found.shelf_price_cents == 1280


def test_unknown_product_is_an_honest_unknown_with_what_was_read(
    catalog: Catalog, ocr: TextReader
) -> None:
    frame = text_frame([pack_front("Zyxwv", "Quantum Floss", ""), price_tag(["€1.00"])])
    found = identify(to_jpeg(frame), None, catalog, None, reader=ocr)
    assert found.product is None and found.via is None
    assert "Quantum Floss" in found.read_text and found.shelf_price_cents == 100
    assert found.to_json()["product"] is None


def test_code_not_in_the_catalog_falls_through_to_the_text(
    catalog: Catalog, ocr: TextReader
) -> None:
    unknown_gtin = "4006381333931"
    frame = shelf_frame([pack_front(RICE.brand, RICE.name, RICE.quantity),
                         hard_barcode_frame(unknown_gtin, size=(340, 200))], blur=0.5)  # fmt: skip
    found = identify(to_jpeg(frame), (0.5, 0.5), catalog, None, reader=ocr)
    assert found.gtin_read == unknown_gtin
    assert found.product is not None and found.product.id == RICE.gtin and found.via == "text"


def test_picture_path_names_a_product_with_no_code_and_no_words(catalog: Catalog) -> None:
    pictures = FakePictures([(COFFEE.gtin, 0.8), (RICE.gtin, 0.1)])
    found = identify(BLANK, None, catalog, pictures, reader=FakeReader())
    assert pictures.asked == 1
    assert found.via == "picture" and found.product is not None
    assert found.product.id == COFFEE.gtin
    assert [name for name, _ in found.candidates][:2] == [COFFEE.name, RICE.name]


def test_close_rivals_from_the_pictures_give_an_unknown_with_candidates(
    catalog: Catalog,
) -> None:
    pictures = FakePictures([(COFFEE.gtin, 0.6), (RICE.gtin, 0.58)])
    found = identify(BLANK, None, catalog, pictures, reader=FakeReader())
    assert found.product is None and len(found.candidates) == 2
    assert found.confidence < ACCEPT


def test_text_and_picture_agreeing_add_up(catalog: Catalog) -> None:
    reader = FakeReader("Basmati")
    alone = identify(BLANK, None, catalog, None, reader=reader)
    both = identify(BLANK, None, catalog, FakePictures([(RICE.gtin, 0.5)]), reader=reader)
    assert both.product is not None and both.product.id == RICE.gtin
    assert both.confidence > alone.confidence


def test_a_picture_match_for_a_product_since_removed_is_skipped(catalog: Catalog) -> None:
    found = identify(BLANK, None, catalog, FakePictures([("photo:gone", 0.9)]), reader=FakeReader())
    assert found.product is None and found.candidates == []


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 128).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a not really", "could not be decoded"),
        (b"%PDF-1.7 a document", "could not be decoded"),
        (to_jpeg(Image.new("RGB", (320, 240), "white"))[:300], "could not be decoded"),
    ],
)
def test_bad_images_raise_a_clear_error(catalog: Catalog, data: bytes, message: str) -> None:
    with pytest.raises(PerceptionError, match=message):
        identify(data, None, catalog, None)


def test_a_50_megapixel_image_is_refused_before_decoding(catalog: Catalog) -> None:
    with pytest.raises(PerceptionError, match="too large"):
        identify(_png((10_000, 5_000)), None, catalog, None)


def _artwork(seed: int) -> Image.Image:
    rng = random.Random(seed)
    art = Image.new("RGB", (300, 400), (rng.randrange(256), rng.randrange(256), 90))
    draw = ImageDraw.Draw(art)
    for _ in range(60):
        x, y = rng.randrange(300), rng.randrange(400)
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x, y, x + rng.randint(5, 60), y + rng.randint(5, 60)], fill=fill)
    return art


def test_catalog_photos_identify_a_pack_through_the_picture_index(
    catalog: Catalog, tmp_path: Path
) -> None:
    pytest.importorskip("oculi.vision.picture")
    catalog.add([], [Product(None, f"pack {i}", id=f"photo:pack{i}") for i in range(3)], [])
    for i in range(3):
        photo = tmp_path / f"pack{i}.jpg"
        _artwork(i).save(photo)
        catalog.add_photo(f"photo:pack{i}", photo)
    pictures = open_pictures(catalog)
    assert pictures is not None
    frame = to_jpeg(shelf_frame([_artwork(1).rotate(5, expand=True)], seed=3))
    found = identify(frame, None, catalog, pictures, reader=FakeReader())
    assert found.via == "picture" and found.product is not None
    assert found.product.id == "photo:pack1" and found.product.name == "pack 1"


def test_apps_identify_the_frame_in_view_with_its_shelf_price(
    catalog: Catalog, ocr: TextReader
) -> None:
    frame = text_frame([pack_front(COFFEE.brand, COFFEE.name, COFFEE.quantity),
                        price_tag(["€7.99"], size=30)])  # fmt: skip
    found = identify_in_view(to_jpeg(frame), catalog)
    assert found.product is not None and found.product.id == COFFEE.gtin
    assert found.shelf_price_cents == 799

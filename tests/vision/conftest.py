"""Vision fixtures: the OCR engine loaded once for all tests, and a catalog with EN + ZH packs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oculi.services.catalog import Catalog, Product, open_catalog
from oculi.vision.ocr import TextReader, shared_reader
from oculi.vision.samples import label_font

ZH_PRODUCTS = (Product(None, "纯牛奶", "伊利", "250 ml", id="yili-milk"),)


@pytest.fixture(scope="session")
def ocr() -> TextReader:
    """RapidOCR takes about a second to load: once per test run, as once per process in use."""
    return shared_reader()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """The demo catalog plus a Chinese pack known only by its name."""
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.add([], ZH_PRODUCTS, [])
        yield cat


@pytest.fixture
def cjk() -> None:
    if label_font(30, cjk=True) is None:
        pytest.skip("no CJK font installed (Debian fonts-wqy-microhei) to draw Chinese packs")

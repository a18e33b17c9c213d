"""Photo imports: one leaf folder per product, images checked, copies beside the catalog."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from catalogdata import draw_photo

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog
from oculi.services.catalog.imports import import_photos, product_folders, sync_pictures
from oculi.services.demo_catalog import DEMO_PRODUCTS


def _shelf(root: Path) -> Path:
    """Two new products, one existing one (by name), a corrupt photo and a stray text file."""
    draw_photo(root / "Juice" / "Bravo-Apple-Juice" / "a.jpg", (200, 180, 40))
    draw_photo(root / "Juice" / "Bravo-Apple-Juice" / "b.jpg", (190, 170, 40))
    draw_photo(root / "Milk" / "Arla-Milk" / "a.jpg", (240, 240, 250))
    draw_photo(root / "Demo" / "Oat Drink Barista" / "front.jpg", (225, 180, 60))
    (root / "Milk" / "Arla-Milk" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (root / "Milk" / "Arla-Milk" / "notes.txt").write_text("bought in Kista")
    return root


def test_each_leaf_folder_becomes_one_product(tmp_path: Path, catalog: Catalog) -> None:
    root = _shelf(tmp_path / "photos")
    ticks: list[int] = []
    report = import_photos(catalog, root, lambda done, total: ticks.append(done))
    assert report.imported == 4 and report.created == 2 and report.ignored == 1
    assert [p.where for p in report.problems] == ["Milk/Arla-Milk/broken.jpg"]
    assert ticks[-1] == 6
    juice = catalog.product_by_id("photo:Bravo-Apple-Juice")
    assert juice is not None and juice.name == "Bravo-Apple-Juice" and juice.gtin is None
    photos = catalog.photos()
    assert {pid for pid, _ in photos} == {
        "photo:Bravo-Apple-Juice", "photo:Arla-Milk", DEMO_PRODUCTS[0].gtin,
    }  # fmt: skip
    for _, path in photos:
        assert path.is_file() and catalog.photos_dir in path.parents


def test_folder_names_find_existing_products_by_name_and_search(
    tmp_path: Path, catalog: Catalog
) -> None:
    import_photos(catalog, _shelf(tmp_path / "photos"))
    barista = [pid for pid, _ in catalog.photos() if pid == DEMO_PRODUCTS[0].gtin]
    assert len(barista) == 1
    (best, _), *_ = catalog.search_text("BRAVO APPLE JUlCE")
    assert best.id == "photo:Bravo-Apple-Juice"


def test_a_folder_named_by_gtin_joins_that_product(tmp_path: Path, catalog: Catalog) -> None:
    gtin = DEMO_PRODUCTS[3].gtin
    draw_photo(tmp_path / "p" / gtin / "1.png", (30, 90, 170))
    report = import_photos(catalog, tmp_path / "p")
    assert report.created == 0 and catalog.photos()[0][0] == gtin


def test_importing_the_same_photos_twice_adds_nothing(tmp_path: Path, catalog: Catalog) -> None:
    root = _shelf(tmp_path / "photos")
    import_photos(catalog, root)
    again = import_photos(catalog, root)
    assert again.imported == 0 and again.created == 0
    assert len(catalog.photos()) == 4


def test_strict_photo_import_writes_no_rows_and_no_files(tmp_path: Path, catalog: Catalog) -> None:
    before = catalog.counts()
    with pytest.raises(CatalogError, match=r"broken\.jpg"):
        import_photos(catalog, _shelf(tmp_path / "photos"), strict=True)
    assert catalog.counts() == before
    assert not any(p.is_file() for p in catalog.photos_dir.rglob("*"))


def test_a_folder_without_photos_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(CatalogError, match="no photos"):
        import_photos(catalog, tmp_path / "empty")
    with pytest.raises(CatalogError, match="not a folder"):
        import_photos(catalog, tmp_path / "missing")


def test_leaf_folders_only(tmp_path: Path) -> None:
    draw_photo(tmp_path / "a" / "x.jpg", (1, 2, 3))
    draw_photo(tmp_path / "a" / "b" / "y.jpg", (1, 2, 3))
    draw_photo(tmp_path / ".hidden" / "z.jpg", (1, 2, 3))
    assert product_folders(tmp_path) == [tmp_path / "a" / "b"]


def test_add_photo_checks_the_product_and_the_image(tmp_path: Path, catalog: Catalog) -> None:
    good = draw_photo(tmp_path / "good.jpg", (10, 20, 30))
    bad = tmp_path / "bad.jpg"
    bad.write_text("hello")
    with pytest.raises(CatalogError, match="no such product"):
        catalog.add_photo("photo:nothing", good)
    with pytest.raises(CatalogError, match=r"bad\.jpg"):
        catalog.add_photo(DEMO_PRODUCTS[0].gtin, bad)
    catalog.add_photo(DEMO_PRODUCTS[0].gtin, good)
    assert [pid for pid, _ in catalog.photos()] == [DEMO_PRODUCTS[0].gtin]


def test_picture_index_is_synced_when_the_picture_path_is_installed(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, int]] = []

    class FakeIndex:
        def __init__(self, folder: Path) -> None:
            self.folder = folder

        @classmethod
        def open(cls, folder: Path) -> FakeIndex:
            return cls(folder)

        def sync(self, photos: list[tuple[str, Path]], progress: Callable[[], None] | None) -> int:
            calls.append((self.folder, len(photos)))
            return len(photos)

    module = types.ModuleType("oculi.vision.picture")
    module.PictureIndex = FakeIndex  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "oculi.vision.picture", module)
    import_photos(catalog, _shelf(tmp_path / "photos"))
    assert sync_pictures(catalog) == 4
    assert calls == [(catalog.pictures_dir, 4)]
    assert catalog.pictures_dir.name == f"{catalog.path.name}.pictures"


def test_picture_sync_is_skipped_without_the_picture_path(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "oculi.vision.picture", None)
    assert sync_pictures(catalog) is None

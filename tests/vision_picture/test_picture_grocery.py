"""A few real products from the Grocery Store Dataset, when ../shared/data is there."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from oculi.vision.picture import PictureIndex

PRODUCTS = ("Yoggi-Vanilla-Yoghurt", "Oatly-Oat-Milk", "Arla-Standard-Milk",
            "Tropicana-Apple-Juice")  # fmt: skip


def test_shop_photos_of_real_packs_find_their_product(shared_data: Path, tmp_path: Path) -> None:
    dataset = shared_data / "grocery" / "dataset"
    catalog, queries = [], []
    for name in PRODUCTS:
        photos = sorted((dataset / "train" / "Packages").glob(f"*/{name}/*.jpg"))
        iconic = next((dataset / "iconic-images-and-descriptions").rglob(f"{name}_Iconic.jpg"))
        catalog += [(name, iconic)] + [(name, p) for p in photos[:8]]
        queries += [(name, p) for p in photos[-3:]]
    index = PictureIndex.open(tmp_path / "pictures")
    assert index.sync(catalog) == len(catalog)
    correct = sum(index.query(Image.open(path))[0][0] == name for name, path in queries)
    assert correct >= len(queries) - 2

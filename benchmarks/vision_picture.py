"""Picture path: which catalog product a shop photo shows, with no barcode and no text read.

On the Grocery Store Dataset's 31 packaged products (../shared/data/grocery, train photos and
iconic images only). Its own split, by photo number within each product, so that neighbouring
shots of one sequence stay on one side: catalog = the iconic image + the first 60 % of the
photos; the next 20 % were used to tune (not reported); queries = the last 20 %. Photos of one
product were taken in the same shops, so this split flatters; the dataset's own val/test
photos (other visits, sometimes a new pack design) are harder: `--set grocery=DIR` with a full
copy of the dataset (dataset/test, dataset/val) uses catalog = iconic + all train photos and
queries = DIR's test photos (`--set queries=val` for the val photos).
A drawn set (packs from oculi.vision.synthetic, turned, blurred, a neighbour in frame, the
gaze on the target) always runs.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from oculi.bench import BenchTable, percentile
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.picture import PictureIndex
from oculi.vision.synthetic import PackSpec, draw_pack, render_pack_photo

NAME = "vision-picture"
DESCRIPTION = "product recognition from catalog photos: top-1/top-5 and ms per photo"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "grocery"
CATALOG_SHARE, TUNE_SHARE = 0.6, 0.2
COLUMNS = ["set", "catalog photos", "queries", "top-1", "top-5", "p50 ms", "p95 ms",
           "build s", "index MB"]  # fmt: skip

Photo = tuple[str, Path]


def packaged_classes(dataset: Path) -> dict[str, Path]:
    """Class name → iconic image, for the packaged products of classes.csv."""
    classes = {}
    with (dataset / "classes.csv").open(encoding="utf-8") as stream:
        for row in list(csv.reader(stream))[1:]:
            if "/Packages/" in row[4]:
                classes[row[0]] = dataset / row[4].lstrip("/")
    return classes


def train_photos(dataset: Path, name: str) -> list[Path]:
    return sorted((dataset / "train" / "Packages").glob(f"*/{name}/*.jpg"))


def blocked_split(dataset: Path) -> tuple[list[Photo], list[Photo]]:
    """(catalog, queries) from the train photos alone; the tuning block is left out."""
    catalog, queries = [], []
    for name, iconic in packaged_classes(dataset).items():
        photos = train_photos(dataset, name)
        first = round(len(photos) * CATALOG_SHARE)
        last = round(len(photos) * (CATALOG_SHARE + TUNE_SHARE))
        catalog += [(name, iconic)] + [(name, p) for p in photos[:first]]
        queries += [(name, p) for p in photos[last:]]
    return catalog, queries


def official_split(dataset: Path, which: str) -> tuple[list[Photo], list[Photo]]:
    """(catalog, queries): iconic + every train photo; the dataset's own val or test photos.

    Train photos and iconic images come from ../shared/data when `dataset` lacks them."""
    source = dataset if (dataset / "train").is_dir() else SHARED / "dataset"
    classes = packaged_classes(source)
    catalog = []
    for name, iconic in classes.items():
        catalog += [(name, iconic)] + [(name, p) for p in train_photos(source, name)]
    queries = []
    for line in (dataset / f"{which}.txt").read_text(encoding="utf-8").splitlines():
        path = dataset / line.split(",")[0].strip()
        if path.parent.name in classes:
            queries.append((path.parent.name, path))
    return catalog, queries


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _evaluate(label: str, index: PictureIndex, queries: list[tuple[str, Image.Image]],
              gaze: tuple[float, float] | None, build_s: float, size_mb: float,
              advance: Callable[[], None]) -> list[object]:  # fmt: skip
    top1 = top5 = 0
    times = []
    for expected, image in queries:
        start = time.perf_counter()
        ranked = index.query(image, gaze, top_k=5)
        times.append((time.perf_counter() - start) * 1000)
        ids = [pid for pid, _ in ranked]
        top1 += bool(ids) and ids[0] == expected
        top5 += expected in ids
        advance()
    n = len(queries)
    return [label, len(index), n, f"{100 * top1 / n:.1f}%", f"{100 * top5 / n:.1f}%",
            round(percentile(times, 50), 1), round(percentile(times, 95), 1),
            round(build_s, 1), round(size_mb, 1)]  # fmt: skip


def _grocery_row(label: str, catalog: list[Photo], queries: list[Photo], work: Path,
                 advance: Callable[[], None], table: BenchTable) -> None:  # fmt: skip
    folder = work / label.split()[0]
    index = PictureIndex.open(folder)
    start = time.perf_counter()
    index.sync(catalog)
    index.compact()
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    index = PictureIndex.open(folder)
    open_ms = (time.perf_counter() - start) * 1000
    images = [(name, Image.open(path).convert("RGB")) for name, path in queries]
    table.rows.append(_evaluate(label, index, images, None, build_s, _folder_mb(folder), advance))
    start = time.perf_counter()
    index.add(catalog[0][0], Image.open(catalog[0][1]))
    add_ms = (time.perf_counter() - start) * 1000
    table.notes.append(f"{label}: index opens in {open_ms:.0f} ms; adding one photo to it "
                       f"(no rebuild) takes {add_ms:.0f} ms")  # fmt: skip


def _drawn_row(runs: int, work: Path, advance: Callable[[], None]) -> list[object]:
    products = DEMO_PRODUCTS
    index = PictureIndex.open(work / "drawn")
    start = time.perf_counter()
    for p in products:
        index.add(p.gtin, draw_pack(PackSpec(p.gtin, p.name, p.brand, p.colour)))
    build_s = time.perf_counter() - start
    queries = []
    for i in range(max(runs // 2, 10)):
        p, n = products[i % len(products)], products[(i + 3) % len(products)]
        photo = render_pack_photo(PackSpec(p.gtin, p.name, p.brand, p.colour),
                                  neighbour=PackSpec(n.gtin, n.name, n.brand, n.colour),
                                  rotate_deg=-15 + (i * 7) % 30, blur=0.6 + (i % 4) * 0.5,
                                  seed=i)  # fmt: skip
        queries.append((p.gtin, photo))
    label = "drawn packs, gaze on target"
    return _evaluate(
        label, index, queries, (0.55, 0.5), build_s, _folder_mb(work / "drawn"), advance
    )


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> BenchTable:
    table = BenchTable(NAME, "Product recognition by picture", COLUMNS)
    with tempfile.TemporaryDirectory(prefix="oculi-picture-") as tmp:
        work = Path(tmp)
        table.rows.append(_drawn_row(runs, work, advance))
        dataset = SHARED / "dataset"
        if (dataset / "classes.csv").is_file():
            catalog, queries = blocked_split(dataset)
            _grocery_row("grocery own split (last 20 % of train)", catalog, queries, work,
                         advance, table)  # fmt: skip
        else:
            table.rows.append(["grocery: ../shared/data/grocery not found, skipped",
                               *["-"] * (len(COLUMNS) - 1)])  # fmt: skip
        if "grocery" in options:
            full = Path(options["grocery"]) / "dataset"
            which = options.get("queries", "test")
            catalog, queries = official_split(full, which)
            _grocery_row(f"grocery-{which} (dataset's own {which} photos)", catalog, queries,
                         work, advance, table)  # fmt: skip
    table.notes.append("queries use the centre as the gaze (Grocery photos centre the product); "
                       "ms per photo include feature extraction")  # fmt: skip
    return table

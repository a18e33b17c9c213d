"""PictureIndex: recognise a catalog product from a photo of it, when no code can be read.

One descriptor index over every catalog photo (a kd-forest over the consolidated base, brute
force over the photos added since), ranked by local NBNN votes and colour, then checked by a
RANSAC homography on the leading products. It lives next to the catalog
(`<catalog>.pictures/`) and grows photo by photo.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from oculi.errors import PerceptionError
from oculi.vision.picture import verify
from oculi.vision.picture.features import (
    MAX_PIXELS,
    Features,
    as_float,
    extract,
    pin_threads,
)
from oculi.vision.picture.store import (
    MANIFEST,
    Manifest,
    PhotoArrays,
    PictureIndexError,
    atomic_path,
    sha256,
)

QUERY_BOX = 0.35
"""Half-side (fraction of the gaze square) within which a query's keypoints count."""
CATALOG_BOX = 0.35
"""The same for catalog photos: their product is in the middle too, their shelf is not."""
NEIGHBOURS = 4
"""Nearest catalog descriptors per query keypoint; the last one is the background distance."""
FLANN_TREES = 4
FLANN_CHECKS = 32
VERIFY_TOP = 3
"""Leading products whose best photo gets the RANSAC check."""
MAX_ADDED_DESCRIPTORS = 60_000
"""Photos added since the base are searched by brute force; past this, consolidate."""


class PictureIndex:
    """Catalog photos by product, persisted in a folder; see the module docstring."""

    def __init__(self, folder: Path, manifest: Manifest, base: PhotoArrays,
                 added: list[PhotoArrays], tree: cv2.flann.Index | None) -> None:  # fmt: skip
        self.folder = folder
        self._manifest = manifest
        self._base = base
        self._base_float = as_float(base.descriptors)
        self._tree = tree
        self._added = added
        self._refresh()

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path) -> PictureIndex:
        """Open the index in `folder` (an empty one when the folder does not exist yet)."""
        pin_threads()
        folder = Path(folder)
        if not (folder / MANIFEST).exists():
            if folder.is_dir() and any(p.name != ".lock" for p in folder.iterdir()):
                raise PictureIndexError(
                    f"{folder} is not a picture index (no {MANIFEST}); pick an empty folder"
                )
            return cls(folder, Manifest(), PhotoArrays(), [], None)
        manifest = Manifest.read(folder)
        base = PhotoArrays()
        tree = None
        if manifest.base is not None:
            base = PhotoArrays.load(folder / manifest.base, manifest.base_sha)
            if base.photo_count != manifest.base_photos:
                raise PictureIndexError(f"picture index base {manifest.base} has the wrong photos")
            tree = _load_tree(folder, manifest, as_float(base.descriptors))
        added = [PhotoArrays.load(folder / name) for name in manifest.added]
        if any(a.photo_count != 1 for a in added):
            raise PictureIndexError(f"picture index in {folder} has a damaged added photo")
        return cls(folder, manifest, base, added, tree)

    def __len__(self) -> int:
        """Photos in the index."""
        return len(self._manifest.photo_product)

    @property
    def products(self) -> list[str]:
        """Product ids that have at least one photo."""
        return list(self._manifest.products)

    # -- adding ------------------------------------------------------------------------------

    def add(self, product_id: str, image: Image.Image) -> None:
        """Add one photo of `product_id`; written at once, without rebuilding the base."""
        key = "pixels:" + hashlib.sha1(image.tobytes()).hexdigest()
        self._add_many([(product_id, key, extract(image, box=CATALOG_BOX, catalog=True))])

    def sync(
        self,
        catalog_photos: list[tuple[str, Path]],
        progress: Callable[[], None] | None = None,
    ) -> int:
        """Add the catalog photos the index lacks; returns how many were added.

        Every new photo is read before anything is written, so a bad file (named in the
        PerceptionError) leaves the index as it was.
        """
        known = set(self._manifest.photo_keys)
        new: list[tuple[str, str, Features]] = []
        for product_id, path in catalog_photos:
            key = _file_key(Path(path))
            if key not in known:
                new.append(
                    (
                        product_id,
                        key,
                        extract(_open_photo(Path(path)), box=CATALOG_BOX, catalog=True),
                    )
                )
                known.add(key)
            if progress is not None:
                progress()
        self._add_many(new)
        return len(new)

    def compact(self) -> None:
        """Fold the added photos into a new base and rebuild its kd-forest (seconds per
        thousand photos); `query` does this by itself only through `add` growing too far."""
        if not self._added:
            return
        manifest = self._manifest
        base = PhotoArrays.join([self._base, *self._added])
        generation = manifest.generation + 1
        base_name, tree_name = f"base-{generation}.npz", f"base-{generation}.flann"
        base_sha = base.save(self.folder / base_name)
        base_float = as_float(base.descriptors)
        tree = _build_tree(base_float)
        with atomic_path(self.folder / tree_name) as tmp:
            tree.save(str(tmp))
        old = [manifest.base, manifest.tree, *manifest.added]
        new_manifest = Manifest(
            products=manifest.products, photo_product=manifest.photo_product,
            photo_keys=manifest.photo_keys, base=base_name, base_sha=base_sha, tree=tree_name,
            tree_sha=_sha(self.folder / tree_name), base_photos=base.photo_count, added=[],
            generation=generation,
        )  # fmt: skip
        new_manifest.write(self.folder)
        for name in old:
            if name:
                (self.folder / name).unlink(missing_ok=True)
        self._manifest, self._base, self._base_float = new_manifest, base, base_float
        self._tree, self._added = tree, []
        self._refresh()

    def _add_many(self, new: list[tuple[str, str, Features]]) -> None:
        if not new:
            return
        manifest = self._manifest
        products = list(manifest.products)
        photo_product, photo_keys = list(manifest.photo_product), list(manifest.photo_keys)
        added_names, added = list(manifest.added), list(self._added)
        for product_id, key, features in new:
            if product_id not in products:
                products.append(product_id)
            photo_product.append(products.index(product_id))
            photo_keys.append(key)
            name = f"added/{len(photo_keys):07d}-{manifest.generation}.npz"
            arrays = PhotoArrays.of(features)
            arrays.save(self.folder / name)
            added_names.append(name)
            added.append(arrays)
        self._manifest = Manifest(
            products=products, photo_product=photo_product, photo_keys=photo_keys,
            base=manifest.base, base_sha=manifest.base_sha, tree=manifest.tree,
            tree_sha=manifest.tree_sha, base_photos=manifest.base_photos, added=added_names,
            generation=manifest.generation,
        )  # fmt: skip
        self._manifest.write(self.folder)
        self._added = added
        self._refresh()
        if len(self._added_float) > MAX_ADDED_DESCRIPTORS:
            self.compact()

    def _refresh(self) -> None:
        """Rebuild the in-memory views that queries read."""
        self._all = PhotoArrays.join([self._base, *self._added])
        self._added_float = as_float(
            np.concatenate([a.descriptors for a in self._added])
            if self._added
            else np.zeros((0, 128), np.uint8)
        )
        self._photo_product = np.asarray(self._manifest.photo_product, dtype=np.int32)
        descriptor_product = self._photo_product[self._all.descriptor_photo]
        self._descriptor_product = descriptor_product.astype(np.int32)
        self._product_sizes = np.bincount(
            descriptor_product, minlength=len(self._manifest.products)
        ).astype(np.float32)

    # -- querying ----------------------------------------------------------------------------

    def query(
        self, image: Image.Image, gaze: tuple[float, float] | None = None, top_k: int = 5
    ) -> list[tuple[str, float]]:
        """Products most like what is at the gaze: (product_id, score 0..1), best first.

        The score is how sure the match is (vote share and geometric inliers), so an unknown
        product comes back low rather than as a confident wrong answer.
        """
        return [(pid, score) for pid, score, _ in self.explain(image, gaze, top_k)]

    def explain(
        self, image: Image.Image, gaze: tuple[float, float] | None = None, top_k: int = 5
    ) -> list[tuple[str, float, dict[str, float]]]:
        """`query`, with each product's signals (votes, colour, inliers, ms) for benchmarks."""
        start = time.perf_counter()
        features = extract(image, gaze, box=QUERY_BOX)
        n_products = len(self._manifest.products)
        if n_products == 0 or len(features) == 0 or len(self._all.descriptors) < 2:
            return []
        neighbours = self._neighbours(as_float(features.descriptors))
        weights = verify.gaze_weights(features.points)
        votes = verify.product_votes(neighbours, self._descriptor_product, weights, n_products)
        normalised = verify.normalise_votes(votes, self._product_sizes)
        colour = verify.colour_similarity(
            features.colour, self._all.colours, self._photo_product, n_products
        )
        fused = verify.fuse(normalised, colour)
        order = np.argsort(-fused, kind="stable")[: max(top_k, VERIFY_TOP)]
        total = float(votes.sum())
        results = []
        for rank, product in enumerate(order):
            share = float(votes[product]) / total if total > 0 else 0.0
            count = self._inliers(features, neighbours, int(product)) if rank < VERIFY_TOP else 0
            confidence = verify.verified_confidence(share, count, float(colour[product]))
            signals = {
                "votes": float(normalised[product]),
                "colour": float(colour[product]),
                "fused": float(fused[product]),
                "share": share,
                "inliers": float(count),
            }
            results.append((self._manifest.products[product], confidence, signals))
        results = results[:top_k]
        for i in range(1, len(results)):
            pid, confidence, signals = results[i]
            results[i] = (pid, min(confidence, results[i - 1][1]), signals)
        if results:
            results[0][2]["ms"] = (time.perf_counter() - start) * 1000
        return results

    def _neighbours(self, query: npt.NDArray[np.float32]) -> verify.Neighbours:
        """The NEIGHBOURS nearest catalog descriptors, from the forest and the added photos."""
        ids, distances = [], []
        n_base = len(self._base_float)
        if self._tree is not None and n_base > 0:
            k = min(NEIGHBOURS, n_base)
            found, squared = self._tree.knnSearch(query, k, params={"checks": FLANN_CHECKS})
            ids.append(found.astype(np.int64))
            distances.append(np.sqrt(np.maximum(squared, 0)))
        if len(self._added_float):
            found, dist = _brute_force(query, self._added_float, NEIGHBOURS)
            ids.append(found + n_base)
            distances.append(dist)
        all_ids, all_dist = np.concatenate(ids, axis=1), np.concatenate(distances, axis=1)
        nearest = np.argsort(all_dist, axis=1, kind="stable")[:, :NEIGHBOURS]
        rows = np.arange(len(query))[:, None]
        return verify.Neighbours(all_ids[rows, nearest], all_dist[rows, nearest].astype(np.float32))

    def _inliers(self, features: Features, neighbours: verify.Neighbours, product: int) -> int:
        """RANSAC inliers between the query and the photo of `product` it matched most."""
        in_product = self._descriptor_product[neighbours.ids] == product
        if not in_product.any():
            return 0
        photos = self._all.descriptor_photo[neighbours.ids]
        best_photo = np.bincount(photos[in_product]).argmax()
        query_rows, columns = np.nonzero(in_product & (photos == best_photo))
        keep = np.unique(query_rows, return_index=True)[1]
        matched = neighbours.ids[query_rows[keep], columns[keep]]
        return verify.inliers(features.points[query_rows[keep]], self._all.points[matched])


def _brute_force(
    query: npt.NDArray[np.float32], data: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    squared = (
        np.sum(query**2, axis=1)[:, None] + np.sum(data**2, axis=1)[None, :] - 2 * query @ data.T
    )
    k = min(k, data.shape[0])
    part = (
        np.argpartition(squared, k - 1, axis=1)[:, :k]
        if k < data.shape[0]
        else np.tile(np.arange(data.shape[0]), (len(query), 1))
    )
    rows = np.arange(len(query))[:, None]
    order = np.argsort(squared[rows, part], axis=1)
    ids = part[rows, order].astype(np.int64)
    return ids, np.sqrt(np.maximum(squared[rows, ids], 0)).astype(np.float32)


def _build_tree(descriptors: npt.NDArray[np.float32]) -> cv2.flann.Index:
    return cv2.flann.Index(descriptors, {"algorithm": 1, "trees": FLANN_TREES})


def _load_tree(
    folder: Path, manifest: Manifest, descriptors: npt.NDArray[np.float32]
) -> cv2.flann.Index:
    path = folder / str(manifest.tree)
    if not path.is_file() or _sha(path) != manifest.tree_sha:
        raise PictureIndexError(f"picture index forest {path} is missing or damaged")
    tree = cv2.flann.Index()
    if not tree.load(descriptors, str(path)):
        raise PictureIndexError(f"picture index forest {path} cannot be loaded")
    return tree


def _sha(path: Path) -> str:
    return sha256(path)


def _file_key(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError as err:
        raise PerceptionError(f"catalog photo {path} cannot be read: {err}") from err
    return f"file:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _open_photo(path: Path) -> Image.Image:
    try:
        with Image.open(path) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PerceptionError(f"catalog photo {path} is too large ({opened.size})")
            opened.load()
            return opened.convert("RGB")
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise PerceptionError(f"catalog photo {path} is not a readable image: {err}") from err

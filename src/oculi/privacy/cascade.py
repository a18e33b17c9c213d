"""Haar cascades run with numpy: OpenCV's face detectors where OpenCV no longer runs them.

OpenCV 5 dropped `CascadeClassifier` and its bundled cascade files. The frontal and profile face
cascades ship beside this module as JSON (converted from OpenCV 4's XML; Intel licence inside),
and this evaluator follows OpenCV's own: an image pyramid, a 24×24 window whose contrast is
normalised by its standard deviation, boosted stumps on Haar features, stage by stage, and the
hits grouped as `groupRectangles` does. Where `cv2.CascadeClassifier` exists it is used instead.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Box = tuple[int, int, int, int]
"""x, y, width, height in pixels."""

_HERE = Path(__file__).parent
DENSE_FRACTION = 0.25
"""While more windows than this are alive, features are computed for all of them at once."""


@dataclass(frozen=True)
class _Stage:
    threshold: float
    feature: npt.NDArray[np.int32]
    split: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]
    right: npt.NDArray[np.float64]


class HaarCascade:
    """One cascade (a JSON file beside this module), ready to scan grey images."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.name = str(data["name"])
        self.size = (int(data["width"]), int(data["height"]))
        self._merged = [_merge_corners(feature) for feature in data["features"]]
        width = max(len(m) for m in self._merged)
        shape = (len(self._merged), width)
        self._dy, self._dx, self._coef = (np.zeros(shape, dtype=np.int64) for _ in range(3))
        for i, merged in enumerate(self._merged):
            for j, ((dy, dx), coef) in enumerate(merged):
                self._dy[i, j], self._dx[i, j], self._coef[i, j] = dy, dx, coef
        self._stages = [
            _Stage(
                threshold=float(threshold),
                feature=np.array([w[0] for w in weak], dtype=np.int32),
                split=np.array([w[1] for w in weak], dtype=np.float64),
                left=np.array([w[2] for w in weak], dtype=np.float64),
                right=np.array([w[3] for w in weak], dtype=np.float64),
            )
            for threshold, weak in data["stages"]
        ]

    def detect(
        self, grey: npt.NDArray[Any], scale_factor: float = 1.2, min_neighbors: int = 3,
        min_size: int = 24,
    ) -> list[Box]:  # fmt: skip
        """Boxes of the objects in a grey image, as `detectMultiScale` finds them."""
        height, width = grey.shape
        win_w, win_h = self.size
        hits: list[Box] = []
        factor = 1.0
        while True:
            window = (round(win_w * factor), round(win_h * factor))
            scaled = (round(width / factor), round(height / factor))
            if window[0] > width or window[1] > height:
                break
            if scaled[0] - win_w <= 0 or scaled[1] - win_h <= 0:
                break
            if min(window) >= min_size:
                step = 1 if factor > 2 else 2
                level = cv2.resize(grey, scaled, interpolation=cv2.INTER_LINEAR)
                for x, y in self._scan(level, step):
                    hits.append((round(x * factor), round(y * factor), window[0], window[1]))
            factor *= scale_factor
        return group_rectangles(hits, min_neighbors, 0.2)

    def _scan(self, image: npt.NDArray[Any], step: int) -> list[tuple[int, int]]:
        """Top-left corners of the windows that pass every stage, at one pyramid level."""
        win_w, win_h = self.size
        sums = cv2.integral(image, sdepth=cv2.CV_32S)
        squares = cv2.integral(image.astype(np.float64) ** 2, sdepth=cv2.CV_64F)
        stride = image.shape[1] + 1
        rows = len(range(0, image.shape[0] - win_h, step))
        cols = len(range(0, image.shape[1] - win_w, step))

        def grid(table: npt.NDArray[Any], dy: int, dx: int) -> npt.NDArray[Any]:
            return table[dy : dy + rows * step : step, dx : dx + cols * step : step]

        inner = (1, 1, win_w - 1, win_h - 1)
        total, squared = (
            (grid(t, inner[3], inner[2]) - grid(t, inner[1], inner[2]) - grid(t, inner[3], inner[0])
             + grid(t, inner[1], inner[0])).ravel().astype(np.float64)
            for t in (sums, squares)
        )  # fmt: skip
        spread = (win_w - 2) * (win_h - 2) * squared - total * total
        norm = np.where(spread > 0, np.sqrt(np.maximum(spread, 0)), 1.0)
        ys, xs = np.divmod(np.arange(rows * cols), cols)
        origin = ys * step * stride + xs * step
        flat = sums.ravel()
        corners, coefs = self._corners(stride)
        alive = np.arange(origin.size)
        for stage in self._stages:
            if alive.size == 0:
                break
            if alive.size > DENSE_FRACTION * origin.size:
                value = self._dense_values(sums, stage, rows, cols, step)[alive]
            else:
                gathered = flat[origin[alive][:, None, None] + corners[stage.feature][None]]
                value = (gathered * coefs[stage.feature][None]).sum(axis=2)
            votes = np.where(value < stage.split[None] * norm[alive, None], stage.left, stage.right)
            alive = alive[votes.sum(axis=1) >= stage.threshold]
        found = origin[alive]
        return [(int(o % stride), int(o // stride)) for o in found]

    def _dense_values(
        self, table: npt.NDArray[Any], stage: _Stage, rows: int, cols: int, step: int
    ) -> npt.NDArray[np.int64]:
        """Each weak classifier's feature value at every window of the grid, by array slices:
        far quicker than gathering while most windows are still alive."""
        values = np.zeros((rows * cols, stage.feature.size), dtype=np.int64)
        for k, index in enumerate(stage.feature):
            total = np.zeros((rows, cols), dtype=np.int64)
            for (dy, dx), coef in self._merged[index]:
                total += coef * table[dy : dy + rows * step : step, dx : dx + cols * step : step]
            values[:, k] = total.ravel()
        return values

    def _corners(self, stride: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Each feature as integral-image offsets from a window and their signed weights."""
        return self._dy * stride + self._dx, self._coef


def _merge_corners(rects: list[list[float]]) -> list[tuple[tuple[int, int], int]]:
    """A Haar feature as signed integral-image corners; rectangles that touch share corners."""
    found: dict[tuple[int, int], int] = {}
    for x, y, w, h, weight in rects:
        x, y, w, h, k = int(x), int(y), int(w), int(h), int(weight)
        if k != weight:
            raise ValueError("Haar feature weights must be whole numbers")
        for corner, sign in (((y + h, x + w), 1), ((y, x + w), -1), ((y + h, x), -1), ((y, x), 1)):
            found[corner] = found.get(corner, 0) + sign * k
    return [(corner, coef) for corner, coef in found.items() if coef]


def group_rectangles(boxes: list[Box], threshold: int, eps: float) -> list[Box]:
    """OpenCV's `groupRectangles`: cluster similar boxes, keep clusters of more than
    `threshold`, averaged, and drop small ones inside a stronger big one."""
    if threshold <= 0 or not boxes:
        return list(boxes)
    labels = _partition(boxes, eps)
    count = max(labels) + 1
    totals = np.zeros((count, 4))
    weights = np.zeros(count, dtype=int)
    for box, label in zip(boxes, labels, strict=True):
        totals[label] += box
        weights[label] += 1
    means = [tuple(int(v) for v in totals[i] / weights[i]) for i in range(count)]
    kept: list[Box] = []
    for i, (x1, y1, w1, h1) in enumerate(means):
        n1 = int(weights[i])
        if n1 <= threshold:
            continue
        inside = False
        for j, (x2, y2, w2, h2) in enumerate(means):
            n2 = int(weights[j])
            if j == i or n2 <= threshold:
                continue
            dx, dy = round(w2 * eps), round(h2 * eps)
            if (x1 >= x2 - dx and y1 >= y2 - dy and x1 + w1 <= x2 + w2 + dx
                    and y1 + h1 <= y2 + h2 + dy and (n2 > max(3, n1) or n1 < 3)):  # fmt: skip
                inside = True
                break
        if not inside:
            kept.append((x1, y1, w1, h1))
    return kept


def _partition(boxes: list[Box], eps: float) -> list[int]:
    """Union-find over 'similar' boxes (corners within eps of the smaller size)."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i):
            b = boxes[j]
            delta = eps * (min(a[2], b[2]) + min(a[3], b[3])) * 0.5
            if (abs(a[0] - b[0]) <= delta and abs(a[1] - b[1]) <= delta
                    and abs(a[0] + a[2] - b[0] - b[2]) <= delta
                    and abs(a[1] + a[3] - b[1] - b[3]) <= delta):  # fmt: skip
                parent[root(i)] = root(j)
    roots: dict[int, int] = {}
    return [roots.setdefault(root(i), len(roots)) for i in range(len(boxes))]


@functools.cache
def cascade(name: str) -> HaarCascade:
    """A shipped cascade by name (`haarcascade_frontalface_default`, `haarcascade_profileface`)."""
    path = _HERE / f"{name}.json"
    return HaarCascade(json.loads(path.read_text(encoding="utf-8")))

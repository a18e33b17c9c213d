"""From nearest catalog descriptors to a ranked list of products.

Three signals, cheapest first: votes of the query's keypoints for the products their nearest
catalog descriptors belong to (local naive-Bayes nearest neighbour, which ranks well when
catalog photos differ a lot), colour inside the region (what tells flavour variants apart), and a
RANSAC homography on the best photo of each leading product (geometric proof that this pack
is in view, which is what makes an unknown product score low).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from oculi.vision.picture.features import ROI_SIDE

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

VOTE_SIGMA = 0.2
"""Keypoints weigh exp(-r²/2σ²) by their distance r from the gaze (fractions of the region)."""
SIZE_EXPONENT = 0.5
"""Votes are divided by (descriptors of the product / mean)^this: big photo sets win less."""
COLOUR_WEIGHT = 4.0
"""How much colour similarity (Hellinger, 0..1) moves the fused score."""
COLOUR_TOP = 3
"""A product's colour similarity: the mean of its best this-many photos."""
COLOUR_AGREE, COLOUR_DISAGREE = 0.85, 0.5
"""Colour similarity at which a match keeps all / none of its confidence (the Grocery
Store's correct matches: 0.84 at worst, 0.95 typically; a pack of another colour: ~0.5)."""
INLIER_PIXELS = 8.0
"""RANSAC reprojection threshold, in pixels of the ROI_SIDE region."""
INLIERS_FOR_SURE = 12.0
"""Inliers at which the geometric check reaches about 63 % of its confidence."""


@dataclass(frozen=True)
class Neighbours:
    """The k nearest catalog descriptors of each query keypoint, nearest first."""

    ids: npt.NDArray[np.int64]
    """(n, k) catalog descriptor numbers."""
    distances: FloatArray
    """(n, k) Euclidean distances."""


def product_votes(
    neighbours: Neighbours,
    descriptor_product: npt.NDArray[np.int32],
    weights: FloatArray,
    n_products: int,
) -> FloatArray:
    """Local NBNN: each keypoint gives each product among its neighbours (the nearest of that
    product) the margin by which it beats the farthest neighbour, the background distance."""
    distances = neighbours.distances
    labels = descriptor_product[neighbours.ids]
    background = distances[:, -1]
    votes = np.zeros(n_products, dtype=np.float64)
    for j in range(labels.shape[1] - 1):
        first = np.ones(len(labels), dtype=bool)
        for earlier in range(j):
            first &= labels[:, earlier] != labels[:, j]
        margin = weights * (background - distances[:, j])
        np.add.at(votes, labels[first, j], margin[first])
    return votes.astype(np.float32)


def gaze_weights(points: FloatArray) -> FloatArray:
    """Weight of each keypoint by its distance from the gaze (the region's centre)."""
    r2 = np.sum((points - 0.5) ** 2, axis=1)
    weights: FloatArray = np.exp(-r2 / (2 * VOTE_SIGMA**2)).astype(np.float32)
    return weights


def normalise_votes(votes: FloatArray, product_sizes: FloatArray) -> FloatArray:
    """Votes scaled to a best of 1, after damping products that own many descriptors."""
    if votes.size == 0:
        return votes
    sizes = np.maximum(product_sizes, 1.0)
    damped = votes / (sizes / sizes.mean()) ** SIZE_EXPONENT
    best = float(damped.max())
    scaled: FloatArray = (damped / best if best > 0 else damped).astype(np.float32)
    return scaled


def colour_similarity(
    query: FloatArray,
    photo_colours: FloatArray,
    photo_product: npt.NDArray[np.int32],
    n_products: int,
) -> FloatArray:
    """Per product, the mean Hellinger similarity of its COLOUR_TOP closest photos."""
    similarity = photo_colours @ query
    result = np.zeros(n_products, dtype=np.float32)
    order = np.argsort(-similarity, kind="stable")
    counts = np.zeros(n_products, dtype=np.int64)
    for photo in order:
        product = photo_product[photo]
        if counts[product] < COLOUR_TOP:
            result[product] += similarity[photo]
            counts[product] += 1
    result /= np.maximum(counts, 1).astype(np.float32)
    return result


def fuse(votes: FloatArray, colour: FloatArray) -> FloatArray:
    """The ranking score: normalised votes, minus how far the colour is from the best colour."""
    return votes + COLOUR_WEIGHT * (colour - float(colour.max(initial=0.0)))


def inliers(query_points: FloatArray, photo_points: FloatArray) -> int:
    """Correspondences that one homography explains (RANSAC); 0 below four pairs."""
    if len(query_points) < 5:
        return 0
    source = (query_points * ROI_SIDE).astype(np.float32)
    target = (photo_points * ROI_SIDE).astype(np.float32)
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, INLIER_PIXELS)
    if homography is None or mask is None:
        return 0
    return int(mask.sum())


def verified_confidence(vote_share: float, inlier_count: int, colour: float) -> float:
    """0..1: how sure it is that this product is in view.

    Half the vote share, half the geometry, scaled down when the colours disagree: packs of
    one maker share layout and logos (and so inliers), rarely their colours.
    """
    geometry = 1.0 - float(np.exp(-inlier_count / INLIERS_FOR_SURE))
    evidence = 0.5 * min(1.0, 2.0 * vote_share) + 0.5 * geometry
    agreement = (colour - COLOUR_DISAGREE) / (COLOUR_AGREE - COLOUR_DISAGREE)
    return float(np.clip(evidence * np.clip(agreement, 0.0, 1.0), 0.0, 1.0))

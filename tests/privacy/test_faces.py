"""Faces found in a real photo and blurred beyond detection; nothing else in the frame changes."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from oculi.privacy.cascade import group_rectangles
from oculi.privacy.faces import Blurred, BrokenFrame, blur_faces, decode, find_faces


def pixels(image: bytes) -> npt.NDArray[np.int16]:
    return cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)


def test_the_face_in_a_real_portrait_is_found_where_it_is(blurred_portrait: Blurred) -> None:
    assert len(blurred_portrait.faces) == 1
    x, y, w, h = blurred_portrait.faces[0]
    # The face (glasses, nose, mouth) spans about x 190-340, y 130-320 of the 512×600 photo;
    # the blurred box is the face found plus a quarter of its size on every side.
    assert x <= 190 and y <= 130 and x + w >= 340 and y + h >= 320
    assert w <= 400 and h <= 400


def test_a_blurred_face_is_changed_and_the_rest_of_the_frame_is_not(
    portrait: bytes, blurred_portrait: Blurred
) -> None:
    assert len(blurred_portrait.faces) == 1
    x, y, w, h = blurred_portrait.faces[0]
    before, after = pixels(portrait), pixels(blurred_portrait.image)
    assert before.shape == after.shape
    face = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    assert np.abs(before[face] - after[face]).mean() > 12
    # Detail is gone: what was a face is now smooth.
    assert (
        np.abs(np.diff(after[face], axis=1)).mean()
        < 0.3 * np.abs(np.diff(before[face], axis=1)).mean()
    )
    far = (slice(y + h + 60, None), slice(None, max(0, x - 60)))  # bottom left, well outside
    assert after[far].size > 0
    assert np.abs(before[far] - after[far]).mean() < 3  # JPEG re-encoding only


def test_a_blurred_face_is_no_longer_a_face(blurred_portrait: Blurred) -> None:
    assert find_faces(decode(blurred_portrait.image)) == []


def test_a_frame_without_a_face_is_released_byte_for_byte(no_face: bytes) -> None:
    result = blur_faces(no_face)
    assert result.faces == ()
    assert result.image == no_face


@pytest.mark.parametrize(
    "image",
    [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + bytes(500)],
    ids=["empty", "text", "header-only"],
)
def test_an_unreadable_frame_is_a_clear_error(image: bytes) -> None:
    with pytest.raises(BrokenFrame, match="frame"):
        blur_faces(image)


def test_a_truncated_jpeg_is_refused_even_though_a_decoder_would_guess_the_rest(
    truncated: bytes,
) -> None:
    with pytest.raises(BrokenFrame, match="truncated"):
        blur_faces(truncated)


def test_grouping_keeps_clusters_of_enough_neighbours_only() -> None:
    hits = [(100, 100, 50, 50), (102, 101, 50, 50), (98, 99, 52, 52), (101, 100, 49, 49)]
    lonely = [(300, 300, 40, 40)]
    grouped = group_rectangles(hits + lonely, 3, 0.2)
    assert len(grouped) == 1
    x, y, w, h = grouped[0]
    assert abs(x - 100) <= 2 and abs(y - 100) <= 2 and abs(w - 50) <= 2 and abs(h - 50) <= 2

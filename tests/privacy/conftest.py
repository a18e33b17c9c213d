"""Shared frames for the privacy tests: a real face photo, a frame without a face, broken ones."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from oculi.privacy.faces import Blurred, blur_faces

DATA = Path(__file__).parent / "data"
SCENARIOS = Path(__file__).resolve().parents[2] / "src" / "oculi" / "scenarios"


@pytest.fixture(scope="session")
def portrait() -> bytes:
    """A real photo of one person facing the camera (public domain, see data/PROVENANCE.txt)."""
    return (DATA / "grace_hopper.jpg").read_bytes()


@pytest.fixture(scope="session")
def blurred_portrait(portrait: bytes) -> Blurred:
    """The face pass is the slow part (about 2 s with OpenCV 5): done once for the session."""
    return blur_faces(portrait)


@pytest.fixture(scope="session")
def no_face(portrait: bytes) -> bytes:
    """A real photo without a face: the flag and the sky beside the portrait's head."""
    pixels = cv2.imdecode(np.frombuffer(portrait, np.uint8), cv2.IMREAD_COLOR)
    ok, encoded = cv2.imencode(".jpg", pixels[0:220, 0:150])
    assert ok
    return encoded.tobytes()


@pytest.fixture(scope="session")
def truncated() -> bytes:
    """A JPEG cut off in the middle of its picture data (a camera that stopped mid-frame)."""
    return (SCENARIOS / "broken.jpg").read_bytes()

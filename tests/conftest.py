"""Shared fixtures: an isolated config (no user files, no environment) and the shared data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from oculi.runtime.config import Config, load_config

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Defaults, with the catalog in a fresh temporary folder."""
    return load_config(env={"OCULI_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the project")
    return SHARED_DATA

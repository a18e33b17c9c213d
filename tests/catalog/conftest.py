"""Catalog fixtures: a fresh catalog filled with the demo products."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oculi.services.catalog import Catalog, open_catalog


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        yield cat

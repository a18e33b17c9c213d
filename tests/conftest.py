"""Shared fixtures: an isolated config (no user files, no environment), the shared data sets, and
one PostgreSQL server for the whole session (wallet and catalog tests)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server of our own for the whole session, or the PostgreSQL tests skip.

    Its data folder is not under pytest's temporary root: when run as root, pgserver starts
    PostgreSQL as another user and opens the folders above the data for it, and any other
    pytest session starting meanwhile closes `/tmp/pytest-of-<user>` again (mode 0700), which
    takes the running server down."""
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg")
    folder = Path(tempfile.mkdtemp(prefix="oculi-pg-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            server = pgserver.get_server(folder, cleanup_mode="stop")
        except Exception as err:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip(f"pgserver cannot start a PostgreSQL server here: {err}")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database per test (dropped afterwards), so tests never share rows."""
    import psycopg

    name = "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    base = pg_server.get_uri()
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

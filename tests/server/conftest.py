"""One real `oculi serve` app on a free localhost port for the whole folder.

Sessions are cheap here (no embedding tier), so every test opens its own devices; the server's
clock can be moved forward to expire detached sessions without waiting.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serverkit import LIMITS, TOKEN, Clock, Served

from oculi.runtime.config import load_config
from oculi.server.app import DeviceServer, ServerThread


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("server-data")
    config = load_config(env={"OCULI_DATA_DIR": str(data), "OCULI_AGENT__EMBEDDING": "off"})
    clock = Clock()
    server = DeviceServer(config, limits=LIMITS, admin_token=TOKEN, clock=clock, reap_every_s=0.1)
    with ServerThread(server) as thread:
        yield Served(thread, clock, data)

"""A real device server with the emulator, and the system's Chromium driven by Playwright.

Browsers cannot be downloaded here, so Playwright launches the Chromium the system has (Debian's
`chromium`, which `make test` installs); the browser tests skip only when there is none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from emulatorkit import CHROMIUM_ARGS, TOKEN, Served

from oculi.runtime.config import load_config
from oculi.server.app import DeviceServer, ServerThread


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("emulator-server")
    config = load_config(env={"OCULI_DATA_DIR": str(data), "OCULI_AGENT__EMBEDDING": "off"})
    server = DeviceServer(config, admin_token=TOKEN)
    with ServerThread(server) as thread:
        yield Served(thread, config)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in this
    thread while it is open, and every later test that calls `asyncio.run` would fail."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile per test (a new device key, nothing paired); a script error on
    the page fails the test."""
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the emulator page: {errors}"

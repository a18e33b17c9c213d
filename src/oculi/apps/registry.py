"""Which apps a session has: the first-party ones, then third-party apps from config (MCP)."""

from __future__ import annotations

from pathlib import Path

from oculi.apps.navigate.app import NavigateApp
from oculi.apps.pay.app import PayApp
from oculi.apps.sdk import App
from oculi.apps.shop.app import ShopApp
from oculi.apps.system.app import SystemApp
from oculi.runtime.config import Config
from oculi.services.catalog import Catalog
from oculi.services.wallet.wallet import WALLET_FILE

FIRST_PARTY = ("shop", "pay", "navigate", "music", "flights", "notes", "camera", "translate",
               "ask", "system")  # fmt: skip
"""The first-party app names, as `oculi ask --json` reports them."""


def first_party_apps(config: Config, catalog: Catalog) -> list[App]:
    map_path = config.get("maps.path")
    apps: list[App] = [
        ShopApp(catalog),
        PayApp(config.data_dir / WALLET_FILE),
        NavigateApp(Path(map_path) if map_path else None, config.data_dir / "maps",
                    avoid_steps=config.get("maps.avoid_steps")),
    ]  # fmt: skip
    system = SystemApp(lambda: [(app.name, app.description) for app in apps])
    apps.append(system)
    return apps

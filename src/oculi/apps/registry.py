"""Which apps a session has: the first-party ones, then third-party apps from config (MCP)."""

from __future__ import annotations

from pathlib import Path

from oculi.agent.embedding import shared_encoder
from oculi.apps.ask.app import AskApp
from oculi.apps.camera.app import CameraApp
from oculi.apps.flights.app import FlightsApp
from oculi.apps.music.app import MusicApp
from oculi.apps.navigate.app import NavigateApp
from oculi.apps.notes.app import NotesApp
from oculi.apps.pay.app import PayApp
from oculi.apps.sdk import App
from oculi.apps.shop.app import ShopApp
from oculi.apps.system.app import SystemApp
from oculi.apps.translate.app import TranslateApp
from oculi.runtime.config import Config
from oculi.services.catalog import Catalog
from oculi.services.wallet.wallet import wallet_target

FIRST_PARTY = ("shop", "pay", "navigate", "music", "flights", "notes", "camera", "translate",
               "ask", "system")  # fmt: skip
"""The first-party app names, as `oculi ask --json` reports them."""
_FIRST_PARTY_CLASSES: tuple[type[App], ...] = (
    ShopApp, PayApp, NavigateApp, MusicApp, FlightsApp, NotesApp, CameraApp, TranslateApp,
    AskApp, SystemApp,
)  # fmt: skip


def first_party_intent_files() -> list[Path]:
    """The first-party apps' intents files, without starting the apps: for tools that want
    the command language (`oculi listen`'s rescoring) but no session."""
    return [cls.intents_file for cls in _FIRST_PARTY_CLASSES if cls.intents_file is not None]


def session_apps(config: Config, catalog: Catalog, errors: list[str] | None = None) -> list[App]:
    """The first-party apps, then the third-party MCP apps that started (why others did not
    goes to `errors`)."""
    map_path = config.get("maps.path")
    encoder = shared_encoder() if config.get("agent.embedding") != "off" else None
    apps: list[App] = [
        ShopApp(catalog),
        PayApp(wallet_target(config)),
        NavigateApp(Path(map_path) if map_path else None, config.data_dir / "maps",
                    avoid_steps=config.get("maps.avoid_steps")),
        MusicApp(
            library_dir=Path(music_dir) if (music_dir := config.get("apps.music_dir")) else None,
            db_path=config.data_dir / "apps" / "music" / "library.sqlite",
            encoder=encoder,
        ),
        FlightsApp(
            data_dir=config.data_dir / "apps" / "flights",
            openflights_dir=Path(d) if (d := config.get("apps.openflights_dir")) else None,
        ),
        NotesApp(db_path=config.data_dir / "notes.sqlite3", encoder=encoder),
        CameraApp(gallery_dir=config.data_dir / "gallery"),
        TranslateApp(),
        AskApp(),
    ]  # fmt: skip
    system = SystemApp(lambda: [(app.name, app.description) for app in apps])
    apps.append(system)
    if config.get("apps.mcp"):
        from oculi.apps.mcp import mcp_apps  # the MCP SDK loads only when a server is configured

        apps.extend(mcp_apps(config, timeout_s=10.0, errors=errors))
    return apps

"""The apps stage: routes each intent to the app that owns it."""

from __future__ import annotations

from collections.abc import Sequence

from oculi.apps.sdk import App
from oculi.events import Event, Intent


class AppsStage:
    name = "apps"

    def __init__(self, apps: Sequence[App]) -> None:
        self.apps = {app.name: app for app in apps}

    async def __call__(self, event: Event) -> Sequence[Event]:
        if not isinstance(event, Intent):
            return ()
        app = self.apps.get(event.app) or self.apps["system"]
        return (await app.handle(event),)

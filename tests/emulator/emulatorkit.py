"""Helpers of the emulator tests: the served app, its pairing codes, where artifacts go."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from oculi.runtime.config import Config
from oculi.server.app import ServerThread

TOKEN = "emulator-test-admin-token-0123456789"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "emulator"
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",  # allow the camera and microphone without asking
    "--use-fake-device-for-media-stream",  # a test pattern and a beep instead of real devices
    "--autoplay-policy=no-user-gesture-required",
]


@dataclass
class Served:
    thread: ServerThread
    config: Config

    @property
    def url(self) -> str:
        return self.thread.url

    def pairing_code(self) -> str:
        """A fresh code, as `oculi device pair-code` gets it."""
        request = urllib.request.Request(
            self.url + "/pairing", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return str(json.load(reply)["code"])

"""The gate wired into the agent: an action sees the frame only as the gate releases it, and the
recording indicator follows every release."""

from __future__ import annotations

import asyncio
from pathlib import Path

from oculi.agent.dialogue import Agent
from oculi.agent.parser import IntentParser
from oculi.apps.camera.app import CameraApp
from oculi.apps.sdk import App, Context, Reply, action
from oculi.events import ErrorEvent, Event, Intent, RecordingState
from oculi.privacy.audit import read_audit
from oculi.privacy.faces import Blurred
from oculi.privacy.gate import PrivacyGate, audit_path
from oculi.privacy.settings import PrivacySettings

APPS = Path(__file__).resolve().parents[2] / "src" / "oculi" / "apps"


class PeekApp(App):
    """Keeps whatever frame its action is given: what an app outside Oculi would receive."""

    name = "peek"
    permissions = ("camera",)

    def __init__(self, third_party: bool) -> None:
        self.third_party = third_party
        self.got: list[bytes | None] = []

    @action
    def look(self, ctx: Context) -> Reply:
        """Look at what is in view."""
        seen = ctx.in_view
        self.got.append(seen.image if seen is not None else None)
        return ctx.reply("Looked.", "Looked")


def agent(tmp_path: Path, app: App, **settings: object) -> Agent:
    intents = tmp_path / "peek.yaml"
    intents.write_text("app: peek\nintents:\n  look:\n    en:\n      - peek at this\n")
    files = [intents, APPS / "camera" / "intents.yaml", APPS / "system" / "intents.yaml"]
    gate = PrivacyGate.for_data_dir(tmp_path, PrivacySettings(**settings))  # type: ignore[arg-type]
    camera = CameraApp(gallery_dir=tmp_path / "gallery")
    return Agent([app, camera], IntentParser(files), data_dir=tmp_path, privacy=gate)


def say(a: Agent, text: str) -> list[Event]:
    return asyncio.run(a.handle(text))


def indicator(events: list[Event]) -> list[tuple[bool, str]]:
    return [(e.camera, e.recipient) for e in events if isinstance(e, RecordingState)]


def test_a_third_party_app_never_receives_the_faces(
    tmp_path: Path, portrait: bytes, blurred_portrait: Blurred
) -> None:
    peek = PeekApp(third_party=True)
    a = agent(tmp_path, peek)
    a.see(image=portrait, gtin="4006381333931")
    events = say(a, "peek at this")
    assert peek.got == [blurred_portrait.image]
    assert portrait not in peek.got
    assert indicator(events) == [(True, "peek"), (False, "")]
    (entry,) = read_audit(audit_path(tmp_path))
    assert (entry.recipient, entry.allowed, entry.faces) == ("peek", True, 1)


def test_a_first_party_app_gets_the_frame_as_taken_and_the_indicator_lights(
    tmp_path: Path, portrait: bytes
) -> None:
    a = agent(tmp_path, PeekApp(third_party=False))
    a.see(image=portrait)
    events = say(a, "take a photo")
    assert [p.read_bytes() for p in (tmp_path / "gallery").glob("*.jpg")] == [portrait]
    on = next(e for e in events if isinstance(e, RecordingState))
    assert on.camera and on.recipient == "camera" and "released to camera" in on.reason
    assert indicator(events)[-1] == (False, "")
    assert [e.recipient for e in read_audit(audit_path(tmp_path))] == ["camera"]


def test_when_the_wearer_keeps_frames_from_third_parties_the_app_sees_none(
    tmp_path: Path, portrait: bytes
) -> None:
    peek = PeekApp(third_party=True)
    a = agent(tmp_path, peek, frames="first_party")
    a.see(image=portrait)
    events = say(a, "peek at this")
    assert peek.got == [None]
    assert indicator(events) == []
    refused = [e for e in events if isinstance(e, ErrorEvent) and e.stage == "privacy"]
    assert len(refused) == 1 and "privacy settings" in refused[0].message
    (entry,) = read_audit(audit_path(tmp_path))
    assert not entry.allowed


def test_a_broken_frame_reaches_no_third_party(tmp_path: Path, truncated: bytes) -> None:
    peek = PeekApp(third_party=True)
    a = agent(tmp_path, peek)
    a.see(image=truncated)
    events = say(a, "peek at this")
    assert peek.got == [None]
    assert any(isinstance(e, ErrorEvent) and "truncated" in e.message for e in events)
    assert not any(e.allowed for e in read_audit(audit_path(tmp_path)))


def test_a_frame_is_released_only_when_an_app_reads_it(tmp_path: Path, no_face: bytes) -> None:
    a = agent(tmp_path, PeekApp(third_party=False))
    a.see(image=no_face)
    events = say(a, "how many photos do I have")
    assert [(e.app, e.action) for e in events if isinstance(e, Intent)] == [("camera", "count")]
    assert indicator(events) == []
    assert read_audit(audit_path(tmp_path)) == []


def test_the_raw_frame_is_not_left_in_the_context(tmp_path: Path, portrait: bytes) -> None:
    a = agent(tmp_path, PeekApp(third_party=True))
    a.see(image=portrait, text="EXIT")
    spec = a.actions["peek__look"]
    context = a._context(spec, "peek at this", "en", False)
    assert context._in_view is not None and context._in_view.image is None
    assert context._in_view.text == "EXIT"

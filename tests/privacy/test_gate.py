"""The gate: permission, the wearer's settings, blurring for third parties, the audit log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from oculi.errors import ConfigError
from oculi.events import RecordingState, event_from_json
from oculi.privacy.audit import AuditLog, read_audit
from oculi.privacy.faces import Blurred
from oculi.privacy.gate import PrivacyGate, Recipient, Refused, audit_path
from oculi.privacy.settings import PrivacySettings
from oculi.runtime.config import load_config

CAMERA = frozenset({"camera"})
SHOP = Recipient("shop", CAMERA)
WEATHER = Recipient("weather", CAMERA, "third_party")


def gate(tmp_path: Path, **settings: object) -> PrivacyGate:
    return PrivacyGate.for_data_dir(tmp_path, PrivacySettings(**settings))  # type: ignore[arg-type]


def test_first_party_apps_get_the_frame_as_it_is_by_default(
    tmp_path: Path, portrait: bytes
) -> None:
    released = gate(tmp_path).release(portrait, SHOP)
    assert released.data == portrait and not released.blurred


def test_third_party_apps_get_the_faces_blurred(
    tmp_path: Path, portrait: bytes, blurred_portrait: Blurred
) -> None:
    released = gate(tmp_path).release(portrait, WEATHER)
    assert released.blurred and released.faces == 1
    assert released.data == blurred_portrait.image != portrait


def test_the_wearer_can_have_first_party_frames_blurred_too(
    tmp_path: Path, portrait: bytes, blurred_portrait: Blurred
) -> None:
    released = gate(tmp_path, blur_first_party=True).release(portrait, SHOP)
    assert released.faces == 1 and released.data == blurred_portrait.image


def test_an_app_without_the_camera_permission_gets_nothing(tmp_path: Path) -> None:
    with pytest.raises(Refused, match="camera permission"):
        gate(tmp_path).release(b"\xff\xd8 any frame", Recipient("notes", frozenset({"storage"})))
    with pytest.raises(Refused, match="microphone permission"):
        gate(tmp_path).release(b"RIFF", SHOP, media="recording")


@pytest.mark.parametrize(
    ("frames", "first_party", "third_party"),
    [("all", True, True), ("first_party", True, False), ("none", False, False)],
)
def test_the_wearer_decides_who_gets_frames(
    tmp_path: Path, no_face: bytes, frames: str, first_party: bool, third_party: bool
) -> None:
    g = gate(tmp_path, frames=frames)
    for recipient, allowed in ((SHOP, first_party), (WEATHER, third_party)):
        if allowed:
            assert g.release(no_face, recipient).data == no_face
        else:
            with pytest.raises(Refused, match="privacy settings"):
                g.release(no_face, recipient)


def test_recordings_stay_with_first_party_apps_by_default(tmp_path: Path) -> None:
    g = gate(tmp_path)
    both = frozenset({"microphone", "camera"})
    assert g.release(b"RIFF....", Recipient("notes", both), "recording").data == b"RIFF...."
    with pytest.raises(Refused, match="third parties"):
        g.release(b"RIFF....", Recipient("dictaphone", both, "third_party"), "recording")


def test_a_remote_language_model_is_a_third_party_and_a_local_one_is_not() -> None:
    assert Recipient.llm("https://dashscope.aliyuncs.com/compatible-mode/v1").third_party
    assert not Recipient.llm("http://localhost:11434/v1").third_party


def test_every_release_and_refusal_is_in_the_audit_log(
    tmp_path: Path, portrait: bytes, no_face: bytes
) -> None:
    g = gate(tmp_path, frames="first_party")
    g.release(no_face, SHOP)
    with pytest.raises(Refused):
        g.release(portrait, WEATHER)
    with pytest.raises(Refused):
        g.release(no_face, Recipient("notes", frozenset()))
    log = read_audit(audit_path(tmp_path))
    assert [(e.recipient, e.recipient_kind, e.media, e.allowed) for e in log] == [
        ("shop", "app", "frame", True),
        ("weather", "third_party", "frame", False),
        ("notes", "app", "frame", False),
    ]
    assert log[0].bytes == len(no_face) and log[0].reason == ""
    assert log[1].bytes == 0 and "privacy settings" in log[1].reason
    assert "camera permission" in log[2].reason
    assert log[0].t <= log[1].t <= log[2].t
    assert [e.recipient for e in read_audit(audit_path(tmp_path), limit=1)] == ["notes"]


def test_the_log_records_blurred_faces(tmp_path: Path, portrait: bytes) -> None:
    gate(tmp_path).release(portrait, WEATHER)
    (entry,) = read_audit(audit_path(tmp_path))
    assert entry.allowed and entry.blurred and entry.faces == 1


def test_a_corrupt_frame_for_a_third_party_is_refused_and_logged_as_refused(
    tmp_path: Path, truncated: bytes
) -> None:
    g = gate(tmp_path)
    for broken in (truncated, b"\xff\xd8\xff garbage"):
        with pytest.raises(Refused, match="not sent to weather"):
            g.release(broken, WEATHER)
    log = read_audit(audit_path(tmp_path))
    assert len(log) == 2
    assert not any(e.allowed for e in log)
    assert all(e.bytes == 0 for e in log)


def test_nothing_is_released_when_the_audit_log_cannot_be_written(
    tmp_path: Path, no_face: bytes
) -> None:
    (tmp_path / "privacy").write_text("a file where the log's folder should be")
    with pytest.raises(Refused, match="audit log"):
        gate(tmp_path).release(no_face, SHOP)


def test_no_audit_log_when_the_wearer_turns_it_off(tmp_path: Path, no_face: bytes) -> None:
    gate(tmp_path, audit_log=False).release(no_face, SHOP)
    assert read_audit(audit_path(tmp_path)) == []


def test_the_log_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log._open()
    log.close()
    assert (tmp_path / "audit.sqlite3").exists()
    mode = sqlite3.connect(tmp_path / "audit.sqlite3").execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)


def test_settings_come_from_the_config(tmp_path: Path) -> None:
    env = {"OCULI_PRIVACY__FRAMES": "first_party", "OCULI_PRIVACY__BLUR_FIRST_PARTY": "true",
           "OCULI_DATA_DIR": str(tmp_path)}  # fmt: skip
    config = load_config(env=env)
    settings = PrivacySettings.from_config(config)
    assert settings == PrivacySettings(frames="first_party", blur_first_party=True)
    assert PrivacyGate.from_config(config).audit is not None
    with pytest.raises(ConfigError, match=r"privacy\.frames"):
        load_config(env={"OCULI_PRIVACY__FRAMES": "everyone"})


def test_the_recording_indicator_event_round_trips_through_json() -> None:
    event = RecordingState(
        t=1_700_000_000.5, camera=True, microphone=False, recipient="weather",
        reason="frame released to weather, 1 face(s) blurred",
    )  # fmt: skip
    body = json.loads(json.dumps(event.to_json()))
    assert body == {
        "v": 1,
        "kind": "recording_state",
        "t": 1_700_000_000.5,
        "camera": True,
        "microphone": False,
        "recipient": "weather",
        "reason": "frame released to weather, 1 face(s) blurred",
    }
    assert event_from_json(body) == event

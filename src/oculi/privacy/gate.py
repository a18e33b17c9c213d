"""The privacy gate: the one way a camera frame or a recording leaves the session.

Whoever asks — a first-party app, a third-party app (an MCP server), a language-model endpoint —
the gate checks the recipient's declared permission and the wearer's settings, blurs the faces in
frames for third parties (and for first-party apps when the wearer asks), and writes every
decision to the audit log before anything is handed over. Refused means nothing is released.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from oculi.errors import OculiError
from oculi.privacy.audit import AuditEntry, AuditError, AuditLog
from oculi.privacy.settings import PrivacySettings

if TYPE_CHECKING:
    from oculi.privacy.faces import Blurred
    from oculi.runtime.config import Config

Media = Literal["frame", "recording"]
_NEEDS: dict[str, str] = {"frame": "camera", "recording": "microphone"}
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_CACHED = 4
"""Blurred frames kept, so that a frame prepared ahead in a thread is not blurred twice."""


class Refused(OculiError):
    """The gate did not release: the message says why, in words the wearer can act on."""


@dataclass(frozen=True)
class Recipient:
    """Who a frame or recording would go to."""

    name: str
    permissions: frozenset[str]
    kind: Literal["app", "third_party", "llm"] = "app"
    """`app`: first party, runs inside Oculi; `third_party`: an MCP server or another's app;
    `llm`: a language-model endpoint."""
    remote: bool = False
    """For `llm`: the endpoint is on another machine."""

    @property
    def third_party(self) -> bool:
        """Gets frames as a stranger would: blurred, and only when the wearer allows it."""
        return self.kind == "third_party" or (self.kind == "llm" and self.remote)

    @classmethod
    def llm(cls, url: str) -> Recipient:
        """A language-model endpoint: configuring it is consent to send it what the wearer asks;
        one on another machine is a third party."""
        host = urlsplit(url).hostname or url
        return cls(host, frozenset(_NEEDS.values()), "llm", remote=host not in _LOOPBACK)


@dataclass(frozen=True)
class Released:
    """What the recipient gets."""

    data: bytes
    faces: int = 0
    """Faces blurred in it."""
    blurred: bool = False
    """The face pass ran on it (whether or not it found a face)."""


@dataclass
class PrivacyGate:
    """Checks, blurs and records every frame or recording on its way out of the session."""

    settings: PrivacySettings = field(default_factory=PrivacySettings)
    audit: AuditLog | None = None

    @classmethod
    def for_data_dir(
        cls, data_dir: Path | None, settings: PrivacySettings | None = None
    ) -> PrivacyGate:
        """A gate whose audit log (when the settings keep one) lives under `data_dir`."""
        settings = settings or PrivacySettings()
        keep = settings.audit_log and data_dir is not None
        audit = AuditLog(audit_path(data_dir)) if keep and data_dir is not None else None
        return cls(settings, audit)

    @classmethod
    def from_config(cls, config: Config) -> PrivacyGate:
        return cls.for_data_dir(config.data_dir, PrivacySettings.from_config(config))

    def refusal(self, to: Recipient, media: Media = "frame") -> str | None:
        """Why `to` may not get this kind of media, or None when it may."""
        permission = _NEEDS[media]
        if permission not in to.permissions:
            return f"{to.name} did not declare the {permission} permission"
        sharing = self.settings.frames if media == "frame" else self.settings.recordings
        what = "camera frames" if media == "frame" else "recordings"
        if sharing == "none":
            return f"your privacy settings share {what} with no app (privacy.{media}s = none)"
        if sharing == "first_party" and to.third_party:
            return (
                f"your privacy settings keep {what} from third parties such as {to.name} "
                f"(privacy.{media}s = first_party)"
            )
        return None

    def blurs(self, to: Recipient) -> bool:
        """Frames for `to` go through the face pass."""
        if to.third_party:
            return self.settings.blur_third_party
        return self.settings.blur_first_party

    def prepare(self, frame: bytes) -> None:
        """Do the face pass ahead (in a thread): the release that follows finds it done.
        A broken frame is left for the release to refuse."""
        from oculi.privacy.faces import BrokenFrame

        with contextlib.suppress(BrokenFrame):
            self._blurred(frame)

    def release(self, data: bytes, to: Recipient, media: Media = "frame") -> Released:
        """What `to` may have of `data`: checked, blurred as the settings say, and recorded.

        Refused (with the reason) when the permission or the settings say no, or when the frame
        cannot be read for blurring. Nothing is released unless its record was written.
        """
        from oculi.privacy.faces import BrokenFrame

        reason = self.refusal(to, media)
        if reason is not None:
            self._record(to, media, None, reason)
            raise Refused(f"not sent to {to.name}: {reason}")
        released = Released(data)
        if media == "frame" and self.blurs(to):
            try:
                blurred = self._blurred(data)
            except BrokenFrame as err:
                self._record(to, media, None, str(err))
                raise Refused(f"not sent to {to.name}: {err}") from err
            released = Released(blurred.image, len(blurred.faces), blurred=True)
        self._record(to, media, released, "")
        return released

    def _blurred(self, frame: bytes) -> Blurred:
        return _blurred(frame)

    def _record(self, to: Recipient, media: Media, released: Released | None, reason: str) -> None:
        if self.audit is None:
            return
        entry = AuditEntry(
            t=time.time(),
            recipient=to.name,
            recipient_kind=to.kind,
            media=media,
            bytes=len(released.data) if released is not None else 0,
            faces=released.faces if released is not None else 0,
            blurred=released.blurred if released is not None else False,
            allowed=released is not None,
            reason=reason,
        )
        try:
            self.audit.record(entry)
        except AuditError as err:
            if released is None:
                return  # a refusal stands without its record
            raise Refused(f"not sent to {to.name}: {err}") from err


_cache: OrderedDict[bytes, Blurred] = OrderedDict()
_cache_lock = threading.Lock()


def _blurred(frame: bytes) -> Blurred:
    """The face pass of a frame, kept for the last few frames (the same frame is often read by
    more than one action, and `prepare` runs it ahead)."""
    from oculi.privacy.faces import blur_faces

    key = hashlib.sha256(frame).digest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    blurred = blur_faces(frame)
    with _cache_lock:
        _cache[key] = blurred
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return blurred


def audit_path(data_dir: Path) -> Path:
    """Where a session's audit log lives."""
    return data_dir / "privacy" / "audit.sqlite3"

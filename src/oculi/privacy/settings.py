"""The wearer's privacy choices: who gets camera frames and recordings, blurred or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from oculi.errors import ConfigError

if TYPE_CHECKING:
    from oculi.runtime.config import Config

SHARING = ("all", "first_party", "none")
"""Who may get camera frames (`privacy.frames`) or recordings (`privacy.recordings`)."""


@dataclass(frozen=True)
class PrivacySettings:
    """The wearer's choices (`privacy.*` in the config)."""

    frames: str = "all"
    """Who may get camera frames: `all`, `first_party` or `none`."""
    recordings: str = "first_party"
    """Who may get microphone recordings: `all`, `first_party` or `none`."""
    blur_third_party: bool = True
    blur_first_party: bool = False
    audit_log: bool = True

    def __post_init__(self) -> None:
        for name in ("frames", "recordings"):
            if getattr(self, name) not in SHARING:
                raise ConfigError(f"privacy.{name} must be one of {', '.join(SHARING)}")

    @classmethod
    def from_config(cls, config: Config) -> PrivacySettings:
        return cls(
            frames=config.get("privacy.frames"),
            recordings=config.get("privacy.recordings"),
            blur_third_party=config.get("privacy.blur_third_party"),
            blur_first_party=config.get("privacy.blur_first_party"),
            audit_log=config.get("privacy.audit_log"),
        )

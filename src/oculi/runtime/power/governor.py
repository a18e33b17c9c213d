"""The power governor: the scheduler's decisions applied to the session's real stages.

The ledger books what the scheduler decides; the governor makes the pipeline do it. It wraps
each stage so that, on a low battery, burst frames never reach vision (the camera did not take
them), no card is drawn (answers are spoken only), and it tells the voice stage where ASR runs
and whether to transcribe speculatively.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from oculi.events import Answer, Event, VideoFrame
from oculi.runtime.bus import Stage
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.model import PowerModel
from oculi.runtime.power.scheduler import LOW_POWER, Policy, Scheduler, Work

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Settings = TypeVar("Settings", bound=DataclassInstance)

TYPICAL_UTTERANCE_S = 2.0
"""A spoken command's length, for deciding where its ASR runs before it is heard."""
VOICE_BYTES_PER_S = 3000


@dataclass(frozen=True)
class VoicePlan:
    """Where each part of the voice path runs now, and how eagerly it transcribes."""

    wake_tier: str
    vad_tier: str
    asr_tier: str
    speculative: bool
    """Transcribe at the first pause (faster answers, sometimes a wasted ASR run): off when the
    battery is low."""
    reason: str


class PowerGovernor:
    """Consulted by the runtime before a stage runs; `govern` wraps a session's stages."""

    def __init__(self, scheduler: Scheduler, clock: Callable[[], float] = time.monotonic) -> None:
        self.scheduler = scheduler
        self.clock = clock
        """Seconds, for spacing frames: the wall clock live, a ledger's virtual clock in replays."""
        self.frames_dropped = 0
        self.cards_suppressed = 0
        self._last_frame_t: float | None = None
        self._decided: tuple[VideoFrame, bool] | None = None

    @classmethod
    def for_model(
        cls, model: PowerModel, policy: Policy | None = None, level: float = 1.0
    ) -> PowerGovernor:
        """A live governor; keep its battery in step with the fuel gauge (`set_level`)."""
        return cls(Scheduler(model, policy or Policy(), Battery(model.battery, level)))

    def set_level(self, level: float) -> None:
        """The fuel gauge's reading, 0..1, spread evenly over the packs."""
        battery = self.scheduler.battery
        battery.charge = [battery.model.pack_joules * min(max(level, 0.0), 1.0)] * len(
            battery.charge
        )

    @property
    def degraded(self) -> bool:
        return self.scheduler.degraded

    def admit_frame(self, frame: VideoFrame) -> bool:
        """Whether the camera takes this frame; decided once per frame, whoever asks first."""
        if self._decided is not None and self._decided[0] is frame:
            return self._decided[1]
        now = self.clock()
        since = None if self._last_frame_t is None else now - self._last_frame_t
        admitted = self.scheduler.accept_frame(since)
        if admitted:
            self._last_frame_t = now
        else:
            self.frames_dropped += 1
        self._decided = (frame, admitted)
        return admitted

    def display_on(self) -> bool:
        return self.scheduler.display_on()

    def voice_plan(self) -> VoicePlan:
        """Wake word and VAD stay on the low-power core; ASR goes where the scheduler puts it."""
        seconds = TYPICAL_UTTERANCE_S
        work = Work(
            "asr",
            self.scheduler.model.work.asr_ms_per_s * seconds,
            up_bytes=int(seconds * VOICE_BYTES_PER_S),
        )
        asr = self.scheduler.place(work, soc_awake=False)
        speculative = not self.degraded
        why = asr.reason + ("; low battery: no speculative ASR" if not speculative else "")
        return VoicePlan(LOW_POWER, LOW_POWER, asr.tier, speculative, why)

    def voice_settings(self, settings: Settings) -> Settings:
        """The voice path's settings with this plan applied (its `speculative` flag)."""
        if not any(f.name == "speculative" for f in dataclasses.fields(settings)):
            return settings
        changes: dict[str, Any] = {"speculative": self.voice_plan().speculative}
        return dataclasses.replace(settings, **changes)

    def govern(self, stages: Sequence[Stage]) -> list[Stage]:
        """Each stage wrapped so the governor's decisions hold; wrapping twice is harmless."""
        return [s if isinstance(s, GovernedStage) else GovernedStage(s, self) for s in stages]

    def attach(self, session: Any) -> PowerGovernor:
        """Govern a `Session`'s pipeline in place, taking over from any governor before it (a
        replay's ledger replaces the session's live one): `session.power` is this one."""
        stages = [s.stage if isinstance(s, GovernedStage) else s for s in session.bus.stages]
        session.bus.stages = self.govern(stages)
        session.power = self
        return self


class GovernedStage:
    """A stage that runs only when the governor lets its input through."""

    def __init__(self, stage: Stage, governor: PowerGovernor) -> None:
        self.stage = stage
        self.governor = governor
        self.name = stage.name

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, VideoFrame) and not self.governor.admit_frame(event):
            return ()
        if self._card_held_back(event):
            return ()
        return await self.stage(event)

    def _card_held_back(self, event: Event) -> bool:
        """A card the HUD would draw while the display is off for a low battery."""
        governor = self.governor
        if self.name != "hud" or not isinstance(event, Answer) or event.card is None:
            return False
        if governor.display_on():
            return False
        if governor.scheduler.model.display is not None:
            governor.cards_suppressed += 1
        return True

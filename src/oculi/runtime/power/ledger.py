"""The energy ledger: books every stage's and peripheral's energy for one session.

It listens on the session's bus like any other listener, reads the bus's stage timings for the
work stages did, and keeps a virtual clock (speech, pauses, GPS spacing) so that a replay that
runs in seconds is booked as the minutes it stands for. Every booking is one `Entry`; totals by
component, app, stage or tier are sums of the same entries, so they always add up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from oculi.errors import ConfigError
from oculi.events import (
    Answer,
    AudioChunk,
    CardShown,
    Event,
    GpsFix,
    Intent,
    SpeechOut,
    TextInput,
    Utterance,
    VideoFrame,
)
from oculi.runtime.bus import EventBus, StageTiming
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.governor import PowerGovernor
from oculi.runtime.power.model import PowerModel
from oculi.runtime.power.scheduler import LOW_POWER, MAIN_SOC, Placement, Policy, Scheduler, Work
from oculi.runtime.profile import Profile

COMPONENTS = (
    "low_power_core", "main_soc", "camera", "display", "microphones", "speaker", "radio",
    "baseline",
)  # fmt: skip
STANDBY_APP = "standby"
UNATTRIBUTED_APP = "system"
VOICE_BYTES_PER_S = 3000
"""Opus at 24 kbit/s: speech sent to or received from another tier."""
SMALL_MESSAGE_BYTES = 2000
PAUSE_S = {"text_input": 3.0, "video_frame": 0.5, "gaze": 0.5, "touch": 1.0, "utterance": 1.5}
"""Virtual seconds the wearer takes before each kind of input (an estimate of real use)."""
GPS_DEFAULT_S = 5.0
BACKGROUND_WAKE_MS = 50.0
"""Main-SoC work per background wake-up (a relayed notification, a sync)."""
SENSOR_KINDS = frozenset({*PAUSE_S, "gps_fix", "audio_chunk"})


@dataclass(frozen=True)
class Entry:
    """One booking: `joules` spent by `component` for `stage` of `app`, on `tier`, in t0..t1."""

    component: str
    stage: str
    tier: str
    app: str
    joules: float
    t0: float
    t1: float


@dataclass
class _Awake:
    """A chip that is woken for work and put back to sleep `linger_s` after its last work."""

    until: float = -math.inf
    wakes: int = 0
    awake_s: float = 0.0

    def is_awake(self, t: float) -> bool:
        return t <= self.until

    def extend(self, t: float, busy_s: float, linger_s: float) -> tuple[bool, float]:
        """Keep awake for work at t; returns (woken now, awake seconds added)."""
        end = t + busy_s + linger_s
        woken = not self.is_awake(t)
        start = t if woken else self.until
        added = max(0.0, end - start)
        self.wakes += woken
        self.until = max(self.until, end)
        self.awake_s += added
        return woken, added


@dataclass
class _Card:
    t0: float
    seconds: float
    brightness: float
    app: str
    pending: bool


@dataclass
class LedgerTotals:
    """What a finished ledger reports; every `by_*` table sums to `joules`."""

    profile: str
    duration_s: float
    entries: list[Entry]
    placements: list[Placement]
    soc_wakes: int
    camera_wakes: int
    frames_dropped: int
    cards_suppressed: int
    """Answers whose card was not drawn: the display was off for a low battery."""
    battery_swaps: int
    battery_level: float
    host_ms: dict[str, float]
    degraded_events: int

    @property
    def joules(self) -> float:
        return math.fsum(e.joules for e in self.entries)

    def by(self, key: str) -> dict[str, float]:
        parts: dict[str, list[float]] = defaultdict(list)
        for entry in self.entries:
            parts[getattr(entry, key)].append(entry.joules)
        return {name: math.fsum(values) for name, values in sorted(parts.items())}

    @property
    def average_mw(self) -> float:
        return self.joules / self.duration_s * 1000 if self.duration_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "duration_s": round(self.duration_s, 2),
            "joules": round(self.joules, 4),
            "average_mw": round(self.average_mw, 2),
            "by_component": _rounded(self.by("component")),
            "by_app": _rounded(self.by("app")),
            "by_stage": _rounded(self.by("stage")),
            "by_tier": _rounded(self.by("tier")),
            "placements": _placement_counts(self.placements),
            "soc_wakes": self.soc_wakes,
            "camera_wakes": self.camera_wakes,
            "frames_dropped": self.frames_dropped,
            "cards_suppressed": self.cards_suppressed,
            "battery_swaps": self.battery_swaps,
            "battery_level": round(self.battery_level, 4),
            "degraded_events": self.degraded_events,
            "host_ms": {k: round(v, 2) for k, v in sorted(self.host_ms.items())},
        }


class EnergyLedger:
    """Attach to a session (`ledger.attach(session)`), replay, then `finish()` for the totals."""

    def __init__(self, profile: Profile, policy: Policy | None = None, level: float = 1.0) -> None:
        if profile.power is None:
            raise ConfigError(f"profile {profile.name!r} has no [power] table")
        self.profile = profile
        self.model = profile.power
        self.policy = policy or Policy()
        self.battery = Battery(self.model.battery, level)
        self.scheduler = Scheduler(self.model, self.policy, self.battery)
        self.governor = PowerGovernor(self.scheduler, clock=lambda: self.clock)
        """Applies the scheduler's decisions to the session's stages (see `attach`)."""
        self.entries: list[Entry] = []
        self.placements: list[Placement] = []
        self.clock = 0.0
        self._cursor = 0.0
        self._speech_until = 0.0
        self._last_gps: float | None = None
        self._soc = _Awake()
        self._camera = _Awake()
        self._card: _Card | None = None
        self._app: str | None = None
        self._pending: list[int] = []
        self._bus: EventBus | None = None
        self._last_timing: StageTiming | None = None
        self._standby_to = 0.0
        self.degraded_events = 0
        self.host_ms: dict[str, float] = defaultdict(float)
        if self.policy.naive:
            self._soc.until = math.inf

    def attach(self, session: Any, govern: bool = True) -> None:
        """Listen on a `Session` (anything with `listen` and a `bus`) and, unless told not to,
        govern its stages, so that what the scheduler decides is what the pipeline runs."""
        self._bus = session.bus
        session.listen(self.on_event)
        if govern:
            self.governor.attach(session)

    @property
    def frames_dropped(self) -> int:
        return self.governor.frames_dropped

    def on_event(self, event: Event) -> None:
        self._drain_timings()
        if self.scheduler.degraded:
            self.degraded_events += 1
        if event.kind in SENSOR_KINDS and not (
            isinstance(event, Utterance) and event.source != "script"
        ):
            self._advance(event)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def swap_battery(self) -> int:
        """Hot-swap a pack: the ledger, the clock and the session carry on."""
        return self.battery.swap()

    # --- sensor inputs --------------------------------------------------------------------------

    def _advance(self, event: Event) -> None:
        if isinstance(event, GpsFix):
            step = GPS_DEFAULT_S
            if self._last_gps is not None and 0 < event.t - self._last_gps <= 600:
                step = event.t - self._last_gps
            self._last_gps = event.t
        elif isinstance(event, AudioChunk):
            step = len(event.pcm) / (2 * event.channels * event.sample_rate)
        elif isinstance(event, Utterance):
            step = PAUSE_S["utterance"] + speech_seconds(event.text)
        else:
            step = PAUSE_S.get(event.kind, 1.0)
        start = max(self.clock, self._speech_until) if event.kind != "audio_chunk" else self.clock
        self._book_standby(start + step)
        self.clock = start + step
        self._cursor = self.clock
        self._app = None

    def _on_utterance(self, event: Utterance) -> None:
        seconds = speech_seconds(event.text)
        bone = self.model.audio.bone_mw * seconds / 1000
        self._book("microphones", "voice", "device", bone, self.clock - seconds, self.clock)
        soc_ms = self.model.work.asr_ms_per_s * seconds
        self._run(Work("asr", soc_ms, up_bytes=int(seconds * VOICE_BYTES_PER_S)))

    def _on_text(self, event: TextInput) -> None:
        self._radio_message("agent", len(event.text.encode()) + 200)

    def _on_gps(self, event: GpsFix) -> None:
        self._radio_message("navigate", 120)

    def _on_frame(self, event: VideoFrame) -> None:
        camera, size = self.model.camera, self.profile.camera
        if camera is None or size is None:
            return
        if not self.governor.admit_frame(event):
            return
        woken, _ = self._camera.extend(self._cursor, 0.0, camera.linger_s)
        joules = camera.frame_energy_mj(size.width, size.height) / 1000
        if woken:
            joules += camera.wake_mj / 1000
            self._cursor += camera.wake_ms / 1000
        self._book("camera", "vision", "device", joules, self._cursor, self._cursor + 0.033)
        self._run(Work("vision", self.model.work.vision_ms, up_bytes=len(event.image)))

    # --- outputs --------------------------------------------------------------------------------

    def _on_intent(self, event: Intent) -> None:
        self._attribute(event.app)

    def _on_answer(self, event: Answer) -> None:
        self._attribute(event.app)

    def _on_card(self, event: CardShown) -> None:
        if self.model.display is None:
            return
        self._close_card(self._cursor)
        app = self._app or UNATTRIBUTED_APP
        self._card = _Card(
            self._cursor, event.seconds, self.scheduler.brightness(), app, not self._app
        )

    def _on_speech(self, event: SpeechOut) -> None:
        seconds = event.duration_s
        self._run(
            Work(
                "tts",
                self.model.work.tts_ms_per_s * seconds,
                up_bytes=len(event.text.encode()),
                down_bytes=int(seconds * VOICE_BYTES_PER_S),
            )
        )
        joules = self.model.audio.speaker_mw * seconds / 1000
        self._book("speaker", "speech", "device", joules, self._cursor, self._cursor + seconds)
        self._speech_until = max(self._speech_until, self._cursor + seconds)

    def _drain_timings(self) -> None:
        if self._bus is None:
            return
        fresh: list[StageTiming] = []
        for timing in reversed(self._bus.timings):
            if timing is self._last_timing:
                break
            fresh.append(timing)
        if not fresh:
            return
        self._last_timing = fresh[0]
        for timing in reversed(fresh):
            self.host_ms[timing.stage] += timing.seconds * 1000
            if timing.stage == "agent":
                work = self.model.work.agent_ms
                self._run(Work("agent", work, SMALL_MESSAGE_BYTES, SMALL_MESSAGE_BYTES))
            elif timing.stage == "hud":
                self._run(Work("hud", self.model.work.hud_ms))

    # --- booking --------------------------------------------------------------------------------

    def _run(self, work: Work) -> Placement:
        placement = self.scheduler.place(work, self._soc.is_awake(self._cursor))
        self.placements.append(placement)
        start = self._cursor
        end = start + placement.latency_ms / 1000
        if placement.tier == MAIN_SOC:
            soc = self.model.main_soc
            woken, added = self._soc.extend(start, placement.latency_ms / 1000, soc.linger_s)
            busy = (soc.active_mw - soc.idle_mw) * placement.compute_ms / 1000
            idle = soc.idle_mw * added if math.isfinite(added) else 0.0
            wake = soc.wake_mj if woken else 0.0
            self._book("main_soc", work.stage, MAIN_SOC, (busy + wake) / 1000, start, end)
            awake_to = start + added if math.isfinite(added) else end
            self._book("main_soc", work.stage, MAIN_SOC, idle / 1000, start, awake_to)
        elif placement.tier == LOW_POWER:
            self._book("low_power_core", work.stage, LOW_POWER, placement.energy_mj / 1000,
                       start, end)  # fmt: skip
        else:
            self._book("radio", work.stage, placement.tier, placement.radio_mj / 1000, start, end)
        self._cursor = end
        return placement

    def _radio_message(self, stage: str, size: int) -> None:
        joules = size / 1e6 * self.model.radio.ble_mj_per_mb / 1000
        self._book("radio", stage, "phone", joules, self.clock, self.clock + 0.01)

    def _book(
        self, component: str, stage: str, tier: str, joules: float, t0: float, t1: float,
        app: str | None = None,
    ) -> None:  # fmt: skip
        if joules <= 0:
            return
        owner = app or self._app
        self.entries.append(Entry(component, stage, tier, owner or UNATTRIBUTED_APP, joules,
                                  t0, max(t1, t0 + 1e-3)))  # fmt: skip
        if owner is None:
            self._pending.append(len(self.entries) - 1)
        self.battery.drain(joules)

    def _attribute(self, app: str) -> None:
        """Work done before an app answered (frames, ASR) belongs to that app."""
        self._app = app
        for index in self._pending:
            self.entries[index] = _with_app(self.entries[index], app)
        if self._card is not None and self._card.pending:
            self._card.app, self._card.pending = app, False
        self._pending.clear()

    def _close_card(self, now: float) -> None:
        card, display = self._card, self.model.display
        if card is None or display is None:
            return
        self._card = None
        on = max(0.0, min(card.seconds, now - card.t0))
        bright = min(on, display.dim_after_s) if not self.policy.naive else on
        mw = display.full_mw * card.brightness
        pieces = ((card.t0, bright, mw), (card.t0 + bright, on - bright, mw * display.dim_level))
        for t0, seconds, power in pieces:
            self._book("display", "hud", "device", power * seconds / 1000, t0, t0 + seconds,
                       app=card.app)  # fmt: skip

    def _book_standby(self, until: float) -> None:
        """The always-on floor between t and `until`: wake word + VAD, mics, link, baseline."""
        t0, seconds = self._standby_to, until - self._standby_to
        if seconds <= 0:
            return
        m = self.model
        lp = m.low_power.active_mw if not self.policy.naive else m.low_power.idle_mw
        listen_tier = MAIN_SOC if self.policy.naive else LOW_POWER
        listen_component = "main_soc" if self.policy.naive else "low_power_core"
        parts = [
            ("low_power_core", "voice", LOW_POWER, lp),
            ("microphones", "voice", "device", m.audio.air_mic_mw * self.profile.microphones.air),
            ("radio", "link", "phone", m.radio.ble_link_mw),
            ("baseline", "standby", "device", m.baseline_mw),
        ]
        if self.policy.naive:
            # everything on the SoC: it stays awake to run wake word + VAD
            parts.append((listen_component, "voice", listen_tier, m.main_soc.idle_mw))
        parts.append(("main_soc", "background", MAIN_SOC, background_mw(m, self.policy.naive)))
        for component, stage, tier, mw in parts:
            self._book(component, stage, tier, mw * seconds / 1000, t0, until, app=STANDBY_APP)
        self._standby_to = until

    def finish(self) -> LedgerTotals:
        """Close the open card, book the tail and the SoC's sleep, and total up."""
        self._drain_timings()
        end = max(self.clock, self._cursor, self._speech_until)
        if self._card is not None:
            end = max(end, self._card.t0 + self._card.seconds)
            self._close_card(end)
        if not self.policy.naive:
            end = max(end, min(self._soc.until, end + self.model.main_soc.linger_s))
        self._book_standby(end)
        asleep = max(0.0, end - self._soc.awake_s) if not self.policy.naive else 0.0
        self._book("main_soc", "standby", MAIN_SOC, self.model.main_soc.sleep_mw * asleep / 1000,
                   0.0, end, app=STANDBY_APP)  # fmt: skip
        self._pending.clear()
        return LedgerTotals(
            profile=self.profile.name,
            duration_s=end,
            entries=list(self.entries),
            placements=list(self.placements),
            soc_wakes=self._soc.wakes,
            camera_wakes=self._camera.wakes,
            frames_dropped=self.frames_dropped,
            cards_suppressed=self.governor.cards_suppressed,
            battery_swaps=self.battery.swaps,
            battery_level=self.battery.level,
            host_ms=dict(self.host_ms),
            degraded_events=self.degraded_events,
        )


def background_mw(model: PowerModel, naive: bool = False) -> float:
    """The main SoC's unasked-for wake-ups (notifications, sync) as an average power; a SoC
    that never sleeps pays only their work, not the wake-up and the linger."""
    soc = model.main_soc
    busy = (soc.active_mw - soc.idle_mw) * BACKGROUND_WAKE_MS / 1000
    each = busy if naive else busy + soc.wake_mj + soc.idle_mw * soc.linger_s
    return soc.background_wakes_per_hour * each / 3600


def speech_seconds(text: str) -> float:
    """How long the wearer took to say `text`: ~2.5 words/s, ~4 CJK characters/s."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    words = len(text.split()) if not cjk else 0
    return 0.4 + words / 2.5 + cjk / 4.0


def _with_app(entry: Entry, app: str) -> Entry:
    return Entry(entry.component, entry.stage, entry.tier, app, entry.joules, entry.t0, entry.t1)


def _rounded(table: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in table.items()}


def _placement_counts(placements: Iterable[Placement]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in placements:
        counts[p.stage][p.tier] += 1
    return {stage: dict(tiers) for stage, tiers in sorted(counts.items())}


_HANDLERS: dict[type[Event], Any] = {
    Utterance: EnergyLedger._on_utterance,
    TextInput: EnergyLedger._on_text,
    GpsFix: EnergyLedger._on_gps,
    VideoFrame: EnergyLedger._on_frame,
    Intent: EnergyLedger._on_intent,
    Answer: EnergyLedger._on_answer,
    CardShown: EnergyLedger._on_card,
    SpeechOut: EnergyLedger._on_speech,
}

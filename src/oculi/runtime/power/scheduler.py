"""The scheduler: which tier runs each piece of work, and the modes that save the battery.

Each placement weighs latency, on-device energy (compute, wake-ups, radio), privacy, the
battery level and the network, so the decision is explicit and can be booked and shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from oculi.errors import ConfigError
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.model import PowerModel

LOW_POWER, MAIN_SOC, PHONE, CLOUD = "low_power", "main_soc", "phone", "cloud"
TIERS = (LOW_POWER, MAIN_SOC, PHONE, CLOUD)

CAPABLE: dict[str, tuple[str, ...]] = {
    "wake": (LOW_POWER, MAIN_SOC),
    "vad": (LOW_POWER, MAIN_SOC),
    "asr": (MAIN_SOC, PHONE, CLOUD),
    "vision": (MAIN_SOC, PHONE, CLOUD),
    "agent": (MAIN_SOC, PHONE, CLOUD),
    "hud": (MAIN_SOC,),
    "tts": (MAIN_SOC, PHONE, CLOUD),
    "photo": (MAIN_SOC,),
}
"""What each tier can run: wake word and VAD need the always-on microphone path."""

PRIVATE = frozenset({"asr", "vision"})
"""Work on raw audio or images of the wearer's world: never sent to the cloud unless allowed."""

ALWAYS_ON = frozenset({"wake", "vad"})
OFFLOAD = ("none", "phone", "cloud")
NETWORKS = ("none", "ble", "wifi")


@dataclass(frozen=True)
class Policy:
    """What the wearer allows and wants; `naive` is the everything-on-the-SoC baseline."""

    offload: str = "phone"
    """`none`, `phone` (the wearer's own phone, offline) or `cloud` (phone and cloud)."""
    network: str = "ble"
    """`none`, `ble` (linked to the phone) or `wifi` (the glasses' own Wi-Fi)."""
    cloud_private: bool = False
    latency_target_ms: float = 1500.0
    low_battery: float = 0.15
    pin: Mapping[str, str] = field(default_factory=dict)
    """Stage → tier, forced (for tests and experiments); checked against what the tier can run."""
    naive: bool = False

    def __post_init__(self) -> None:
        if self.offload not in OFFLOAD:
            raise ConfigError(f"power policy offload {self.offload!r}: allowed {OFFLOAD}")
        if self.network not in NETWORKS:
            raise ConfigError(f"power policy network {self.network!r}: allowed {NETWORKS}")
        if not 0.0 <= self.low_battery < 1.0:
            raise ConfigError(f"power policy low_battery {self.low_battery}: must be in 0..1")
        for stage, tier in self.pin.items():
            if stage not in CAPABLE:
                raise ConfigError(f"power policy pin {stage!r}: known stages {sorted(CAPABLE)}")
            if tier not in CAPABLE[stage]:
                raise ConfigError(
                    f"power policy pin {stage}={tier}: the {tier} tier cannot run {stage} "
                    f"(it runs on {', '.join(CAPABLE[stage])})"
                )


@dataclass(frozen=True)
class Work:
    stage: str
    soc_ms: float
    """Time it would take on the main SoC."""
    up_bytes: int = 0
    """What would have to leave the glasses if it ran elsewhere."""
    down_bytes: int = 0


@dataclass(frozen=True)
class Placement:
    stage: str
    tier: str
    latency_ms: float
    compute_ms: float
    """Time the glasses' own chip is busy (0 when the work runs elsewhere)."""
    energy_mj: float
    """Energy the glasses spend on it: compute and wake-up, or radio."""
    radio: str = ""
    """`ble` or `wifi` when data moves; empty on device."""
    radio_mj: float = 0.0
    wake: bool = False
    reason: str = ""


class Scheduler:
    """Places work on tiers; the ledger tells it whether the main SoC is awake."""

    def __init__(self, model: PowerModel, policy: Policy, battery: Battery) -> None:
        self.model = model
        self.policy = policy
        self.battery = battery

    @property
    def degraded(self) -> bool:
        """Low battery: no camera bursts, the display off (answers spoken), work sent to the
        phone whenever that is cheaper, even if slower; no cloud."""
        return self.battery.level < self.policy.low_battery

    @property
    def latency_target_ms(self) -> float:
        """On a low battery the wearer waits up to twice as long rather than lose the glasses."""
        return self.policy.latency_target_ms * (2.0 if self.degraded else 1.0)

    def place(self, work: Work, soc_awake: bool) -> Placement:
        stage = work.stage
        if stage not in CAPABLE:
            raise ConfigError(f"no tier can run {stage!r}; known stages {sorted(CAPABLE)}")
        if stage in self.policy.pin:
            return self._cost(work, self.policy.pin[stage], soc_awake, "pinned by policy")
        if self.policy.naive:
            return self._cost(work, MAIN_SOC, True, "naive: everything on the main SoC")
        if stage in ALWAYS_ON:
            return self._cost(work, LOW_POWER, soc_awake, "always-on path")
        options = [self._cost(work, tier, soc_awake, "") for tier in self._allowed(stage)]
        in_time = [p for p in options if p.latency_ms <= self.latency_target_ms]
        if in_time:
            best = min(in_time, key=lambda p: (p.energy_mj, TIERS.index(p.tier)))
            why = "least energy within the latency target"
        else:
            best = min(options, key=lambda p: p.latency_ms)
            why = "fastest: no tier meets the latency target"
        return Placement(**{**best.__dict__, "reason": why})

    def _allowed(self, stage: str) -> list[str]:
        policy = self.policy
        linked = policy.network != "none"
        allowed = []
        for tier in CAPABLE[stage]:
            if tier == PHONE and not (linked and policy.offload in ("phone", "cloud")):
                continue
            if tier == CLOUD and not (linked and policy.offload == "cloud"):
                continue
            if tier == CLOUD and (self.degraded or (stage in PRIVATE and not policy.cloud_private)):
                continue
            allowed.append(tier)
        return allowed

    def _cost(self, work: Work, tier: str, soc_awake: bool, reason: str) -> Placement:
        m = self.model
        if tier == LOW_POWER:
            ms = work.soc_ms * 2.0  # a microcontroller-class core, estimate: half the speed
            mj = (m.low_power.active_mw - m.low_power.idle_mw) * ms / 1000
            return Placement(work.stage, tier, ms, ms, mj, reason=reason)
        if tier == MAIN_SOC:
            wake = not soc_awake
            ms = work.soc_ms
            mj = m.main_soc.active_mw * ms / 1000 + (m.main_soc.wake_mj if wake else 0.0)
            latency = ms + (m.main_soc.wake_ms if wake else 0.0)
            return Placement(work.stage, tier, latency, ms, mj, wake=wake, reason=reason)
        megabytes = (work.up_bytes + work.down_bytes) / 1e6
        remote = m.phone if tier == PHONE else m.cloud
        latency = remote.rtt_ms + work.soc_ms / remote.speedup
        if tier == CLOUD and self.policy.network == "wifi":
            radio = "wifi"
            radio_mj = m.radio.wifi_wake_mj + megabytes * m.radio.wifi_mj_per_mb
            latency += megabytes * 8 / m.radio.wifi_mbps * 1000
        else:
            radio = "ble"
            radio_mj = megabytes * m.radio.ble_mj_per_mb
            latency += megabytes * 8 / m.radio.ble_mbps * 1000
            if tier == CLOUD:
                latency += m.phone.rtt_ms
        return Placement(work.stage, tier, latency, 0.0, radio_mj, radio, radio_mj, reason=reason)

    def display_on(self) -> bool:
        """Cards are drawn only while the battery is above the low mark."""
        return self.model.display is not None and not self.degraded

    def brightness(self) -> float:
        display = self.model.display
        return display.brightness if display is not None and not self.degraded else 0.0

    def accept_frame(self, since_last_s: float | None) -> bool:
        """In low-battery mode a frame that follows another within a burst gap is not taken."""
        camera = self.model.camera
        if camera is None or not self.degraded or since_last_s is None:
            return True
        return since_last_s >= camera.burst_gap_s

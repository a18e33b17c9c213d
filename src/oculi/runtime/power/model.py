"""The power model of a pair of glasses, read from the `[power]` table of its device profile.

Every figure lives in the profile TOML (with its source or marked as an estimate) so that a
reviewer can argue with the numbers without reading code; this module only checks they make sense.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oculi.errors import ConfigError


@dataclass(frozen=True)
class BatteryModel:
    capacity_mah: float
    """Per pack."""
    packs: int
    voltage_v: float
    swappable: bool
    usable_fraction: float = 1.0
    """Of the rated charge, what the device draws before it cuts off (and as the cell ages)."""
    converter_efficiency: float = 1.0
    """The PMIC's DC-DC converters: of the energy leaving the cell, what reaches the loads."""

    @property
    def nominal_joules(self) -> float:
        """The label's energy: capacity × voltage, all packs."""
        return self.capacity_mah * self.packs * self.voltage_v * 3.6

    @property
    def joules(self) -> float:
        """What the loads the ledger books can draw from all packs, full to cut-off."""
        return self.pack_joules * self.packs

    @property
    def pack_joules(self) -> float:
        rated = self.capacity_mah * self.voltage_v * 3.6
        return rated * self.usable_fraction * self.converter_efficiency


@dataclass(frozen=True)
class Chip:
    """A compute tier on the glasses; sleep/wake figures are zero for a core that never sleeps."""

    idle_mw: float
    active_mw: float
    sleep_mw: float = 0.0
    wake_mj: float = 0.0
    """Energy of one sleep → wake → sleep round trip (rails, clocks, cache refill)."""
    wake_ms: float = 0.0
    linger_s: float = 0.0
    """How long the chip stays awake after its last work before it is put back to sleep."""
    background_wakes_per_hour: float = 0.0
    """Wake-ups nobody asked for: notifications relayed by the phone, sync, keep-alives."""


@dataclass(frozen=True)
class CameraPower:
    frame_mj: dict[tuple[int, int], float]
    """Energy per captured frame (sensor + ISP) by resolution."""
    wake_mj: float
    wake_ms: float
    linger_s: float
    burst_gap_s: float
    """Frames closer together than this form a burst (dropped in low-battery mode)."""
    video_mw: float
    """Sensor + ISP front end while recording video (the encoder is main-SoC work)."""

    def frame_energy_mj(self, width: int, height: int) -> float:
        """The listed figure, or the nearest listed resolution scaled by pixel count."""
        if (width, height) in self.frame_mj:
            return self.frame_mj[(width, height)]
        pixels = width * height
        (w, h), mj = min(self.frame_mj.items(), key=lambda kv: abs(kv[0][0] * kv[0][1] - pixels))
        return mj * pixels / (w * h)


@dataclass(frozen=True)
class DisplayPower:
    full_mw: float
    """At brightness 1.0 with a typical text card lit (the display draws power per lit pixel)."""
    brightness: float
    dim_after_s: float
    dim_level: float
    """Brightness factor once a card has been up `dim_after_s` seconds."""


@dataclass(frozen=True)
class AudioPower:
    air_mic_mw: float
    """Per air microphone."""
    bone_mw: float
    """The bone-conduction sensor, switched on while the wearer speaks."""
    speaker_mw: float
    stream_mw: float
    """The Bluetooth audio link and codec on the low-power core while music or a call plays."""


@dataclass(frozen=True)
class RadioPower:
    ble_link_mw: float
    ble_mj_per_mb: float
    ble_mbps: float
    wifi_mj_per_mb: float
    wifi_wake_mj: float
    wifi_mbps: float


@dataclass(frozen=True)
class RemoteTier:
    rtt_ms: float
    speedup: float
    """How much faster than the main SoC it runs the same work."""


@dataclass(frozen=True)
class WorkCost:
    """Milliseconds of main-SoC time per unit of work."""

    vision_ms: float
    asr_ms_per_s: float
    agent_ms: float
    hud_ms: float
    tts_ms_per_s: float
    photo_ms: float
    video_soc_share: float
    """Fraction of the main SoC's active power that recording (ISP, encoder, storage) keeps busy."""
    video_mbps: float
    """Encoded video bitrate: what moving the clips to the phone costs."""
    audio_ms_per_s: float
    """Main-SoC time to decode and mix a second of audio, when the SoC plays it."""


@dataclass(frozen=True)
class PowerModel:
    battery: BatteryModel
    low_power: Chip
    main_soc: Chip
    camera: CameraPower | None
    display: DisplayPower | None
    audio: AudioPower
    radio: RadioPower
    baseline_mw: float
    phone: RemoteTier
    cloud: RemoteTier
    work: WorkCost


def parse_power(data: Any, where: str) -> PowerModel:
    """The `[power]` table, with every missing or impossible value named by file and field."""
    p = _Reader(data, where)
    soc = Chip(
        idle_mw=p.num("main_soc.idle_mw"),
        active_mw=p.num("main_soc.active_mw"),
        sleep_mw=p.num("main_soc.sleep_mw", zero=True),
        wake_mj=p.num("main_soc.wake_mj", zero=True),
        wake_ms=p.num("main_soc.wake_ms", zero=True),
        linger_s=p.num("main_soc.linger_s", zero=True),
        background_wakes_per_hour=p.num("main_soc.background_wakes_per_hour", zero=True),
    )
    low = Chip(idle_mw=p.num("low_power.idle_mw"), active_mw=p.num("low_power.active_mw"))
    for name, chip in (("main_soc", soc), ("low_power", low)):
        if chip.active_mw < chip.idle_mw or chip.idle_mw < chip.sleep_mw:
            raise ConfigError(
                f"{where}: field 'power.{name}' needs sleep_mw <= idle_mw <= active_mw, got "
                f"{chip.sleep_mw}, {chip.idle_mw}, {chip.active_mw}"
            )
    return PowerModel(
        battery=BatteryModel(
            capacity_mah=p.num("battery.capacity_mah"),
            packs=p.whole("battery.packs"),
            voltage_v=p.num("battery.voltage_v"),
            swappable=p.flag("battery.swappable"),
            usable_fraction=p.num("battery.usable_fraction", most=1.0),
            converter_efficiency=p.num("battery.converter_efficiency", most=1.0),
        ),
        low_power=low,
        main_soc=soc,
        camera=_camera(p) if p.has("camera") else None,
        display=_display(p) if p.has("display") else None,
        audio=AudioPower(
            air_mic_mw=p.num("audio.air_mic_mw"),
            bone_mw=p.num("audio.bone_mw"),
            speaker_mw=p.num("audio.speaker_mw"),
            stream_mw=p.num("audio.stream_mw"),
        ),
        radio=RadioPower(
            ble_link_mw=p.num("radio.ble_link_mw"),
            ble_mj_per_mb=p.num("radio.ble_mj_per_mb"),
            ble_mbps=p.num("radio.ble_mbps"),
            wifi_mj_per_mb=p.num("radio.wifi_mj_per_mb"),
            wifi_wake_mj=p.num("radio.wifi_wake_mj", zero=True),
            wifi_mbps=p.num("radio.wifi_mbps"),
        ),
        baseline_mw=p.num("baseline_mw", zero=True),
        phone=RemoteTier(p.num("tiers.phone.rtt_ms"), p.num("tiers.phone.speedup")),
        cloud=RemoteTier(p.num("tiers.cloud.rtt_ms"), p.num("tiers.cloud.speedup")),
        work=WorkCost(
            vision_ms=p.num("work.vision_ms"),
            asr_ms_per_s=p.num("work.asr_ms_per_s"),
            agent_ms=p.num("work.agent_ms"),
            hud_ms=p.num("work.hud_ms"),
            tts_ms_per_s=p.num("work.tts_ms_per_s"),
            photo_ms=p.num("work.photo_ms"),
            video_soc_share=p.num("work.video_soc_share", zero=True, most=1.0),
            video_mbps=p.num("work.video_mbps"),
            audio_ms_per_s=p.num("work.audio_ms_per_s"),
        ),
    )


def _camera(p: _Reader) -> CameraPower:
    table = p.get("camera.frame_mj")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{p.where}: field 'power.camera.frame_mj' must map 'WxH' to mJ")
    frames: dict[tuple[int, int], float] = {}
    for key in table:
        w, sep, h = str(key).partition("x")
        if not (sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
            raise ConfigError(
                f"{p.where}: field 'power.camera.frame_mj' key {key!r} must look like 1280x720"
            )
        frames[(int(w), int(h))] = p.num(f"camera.frame_mj.{key}")
    return CameraPower(
        frame_mj=frames,
        wake_mj=p.num("camera.wake_mj", zero=True),
        wake_ms=p.num("camera.wake_ms", zero=True),
        linger_s=p.num("camera.linger_s", zero=True),
        burst_gap_s=p.num("camera.burst_gap_s", zero=True),
        video_mw=p.num("camera.video_mw"),
    )


def _display(p: _Reader) -> DisplayPower:
    return DisplayPower(
        full_mw=p.num("display.full_mw"),
        brightness=p.num("display.brightness", most=1.0),
        dim_after_s=p.num("display.dim_after_s", zero=True),
        dim_level=p.num("display.dim_level", zero=True, most=1.0),
    )


class _Reader:
    """Typed access to `power.*` fields with errors that name the file and the dotted field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: field 'power' must be a table")
        self.data = data
        self.where = where

    def has(self, dotted: str) -> bool:
        return self._lookup(dotted) is not _MISSING

    def get(self, dotted: str) -> Any:
        value = self._lookup(dotted)
        if value is _MISSING:
            raise ConfigError(f"{self.where}: missing field 'power.{dotted}'")
        return value

    def num(self, dotted: str, zero: bool = False, most: float | None = None) -> float:
        value = self.get(dotted)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(
                f"{self.where}: field 'power.{dotted}' must be a number, got {value!r}"
            )
        if value < 0 or (value == 0 and not zero) or (most is not None and value > most):
            rule = "zero or more" if zero else "positive"
            if most is not None:
                rule += f" and at most {most:g}"
            raise ConfigError(f"{self.where}: field 'power.{dotted}' must be {rule}, got {value}")
        return float(value)

    def whole(self, dotted: str) -> int:
        value = self.get(dotted)
        if type(value) is not int or value < 1:
            raise ConfigError(
                f"{self.where}: field 'power.{dotted}' must be a whole number >= 1, got {value!r}"
            )
        return value

    def flag(self, dotted: str) -> bool:
        value = self.get(dotted)
        if type(value) is not bool:
            raise ConfigError(
                f"{self.where}: field 'power.{dotted}' must be true or false, got {value!r}"
            )
        return value

    def _lookup(self, dotted: str) -> Any:
        value: Any = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value


_MISSING = object()

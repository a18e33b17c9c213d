"""The test bench's microphones: what the glasses' channels would record in a noisy room.

Tests and `oculi bench voice` score the array front end (beamforming toward the mouth, own-voice
detection from the bone channel, VAD, ASR) on commands made here, because no recordings exist of
the glasses' own array. A scene is a shoebox room (pyroomacoustics image sources, plus a noise
tail for the reverberation that a low reflection order leaves out) holding the wearer's head, the
mouth as a source a few centimetres from the mics, nearby talkers and the noise sources.

- Noise is spatial: every kind is several point sources 1-3 m from the head (babble talkers,
  three clatter spots for the dishes, four rumble sources and a passing-vehicle hum for the
  street, four white sources), so reverberation makes it diffuse-ish as in a real room. Each mic
  also gets its own self-noise 50 dB below the wearer's speech.
- The bone channel hears only the wearer: the dry voice low-passed at 1 kHz (4th-order
  Butterworth, zero phase, aligned with mic 0), a few dB of gain difference, low-frequency body
  noise 35 dB down and external sound leaking in 40 dB down. A nearby talker shows up on the air
  mics only, which is what lets a later stage tell the wearer from a neighbour.
- The wearer's speech at mic 0 sits at -26 dBFS; the rest is scaled to the scene's SNR, measured
  at mic 0 over the wearer's speech. Everything is scaled down together if a sample would clip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyroomacoustics as pra
from numpy.typing import NDArray
from scipy import fft
from scipy.signal import butter, sosfilt, sosfiltfilt

from oculi.audio.babble import NOISE_KINDS, SHARED_DATA, NoiseBank, tts_command
from oculi.audio.signal import SAMPLE_RATE, Audio, Samples
from oculi.errors import ConfigError

if TYPE_CHECKING:
    from oculi.runtime.profile import Point, Profile

__all__ = [
    "NOISE_KINDS",
    "SHARED_DATA",
    "NoiseBank",
    "Recording",
    "Scene",
    "measure_snr",
    "mix_at_snr",
    "non_wake_stream",
    "tts_command",
    "wearer_recording",
]

ROOM_DIMS = (6.0, 5.0, 3.0)
HEAD = (2.5, 2.0, 1.6)
MAX_ORDER = 10
MAX_INTERFERERS = 3
SPEECH_DBFS = -26.0
SENSOR_NOISE_DB = -50.0
BODY_NOISE_DB = -35.0
BONE_LEAKAGE_DB = -40.0
BONE_CUTOFF_HZ = 1000.0

F64 = NDArray[np.float64]

_SLOTS = 6
_WALL_MARGIN = 0.4
_C = 343.0
_ROOM, _NOISE, _TALKERS, _BONE, _SENSOR, _MIX, _STREAM = range(1, 8)
_BONE_SOS = butter(4, BONE_CUTOFF_HZ, fs=SAMPLE_RATE, output="sos")
_BODY_SOS = butter(2, 300.0, fs=SAMPLE_RATE, output="sos")
_TAIL_LOW = butter(4, 600.0, fs=SAMPLE_RATE, output="sos")
_TAIL_HIGH = butter(4, 600.0, "highpass", fs=SAMPLE_RATE, output="sos")


@dataclass(frozen=True)
class Scene:
    """Where the wearer speaks: the noise, how loud it is, who else talks, the room's echo."""

    noise: str
    snr_db: float
    interferers: int = 0
    rt60: float = 0.3
    seed: int = 0
    room: int | None = None
    """Room layout (head pose, source positions); the seed's own when None. Scenes sharing a
    layout and rt60 reuse the impulse responses, which makes large benches cheap."""

    def __post_init__(self) -> None:
        if self.noise not in NOISE_KINDS:
            raise ConfigError(f"noise {self.noise!r}: allowed values are {', '.join(NOISE_KINDS)}")
        if not 0 <= self.interferers <= MAX_INTERFERERS:
            raise ConfigError(f"interferers must be 0..{MAX_INTERFERERS}, got {self.interferers}")
        if not 0.15 <= self.rt60 <= 1.5:
            raise ConfigError(f"rt60 must be 0.15..1.5 s, got {self.rt60}")
        if self.seed < 0 or (self.room is not None and self.room < 0):
            raise ConfigError("seed and room must not be negative")

    @property
    def layout(self) -> int:
        return self.seed if self.room is None else self.room


@dataclass(frozen=True)
class Recording:
    """What the glasses recorded, with the parts it is the sum of, for scoring."""

    audio: Audio
    clean: Samples
    """The wearer's speech at mic 0 without noise: the reference for SNR and for ASR scoring."""
    speech_span: tuple[int, int]
    """Samples [start, end) where the wearer speaks; (0, 0) when the wearer is silent."""
    snr_db: float
    """The SNR achieved at mic 0 over the speech span (-inf when the wearer is silent)."""
    wearer: Samples
    talkers: Samples
    noise: Samples
    """Channels × samples: `audio` is wearer + talkers + noise (noise includes body noise)."""


def measure_snr(signal: NDArray[np.floating], noise: NDArray[np.floating], active: slice) -> float:
    """SNR in dB over `active` samples; for channels × samples, at channel 0 (the reference)."""
    s = signal[0] if signal.ndim == 2 else signal
    n = noise[0] if noise.ndim == 2 else noise
    power_n = float(np.mean(np.square(n[active], dtype=np.float64)))
    power_s = float(np.mean(np.square(s[active], dtype=np.float64)))
    if power_s == 0.0:
        return -math.inf
    return math.inf if power_n == 0.0 else 10 * math.log10(power_s / power_n)


def mix_at_snr(
    signal: NDArray[np.floating],
    noise: NDArray[np.floating],
    snr_db: float,
    active: tuple[int, int] | None = None,
) -> tuple[F64, F64]:
    """(mixture, scaled noise) with the noise scaled to `snr_db` below the signal.

    Powers are taken over the `active` span (the whole length when None) of channel 0 for
    channels × samples input, so a mixture's SNR means "while the wearer speaks, at mic 0".
    """
    if signal.shape != noise.shape:
        raise ValueError(f"signal {signal.shape} and noise {noise.shape} differ in shape")
    span = slice(None) if active is None else slice(*active)
    level = measure_snr(signal, noise, span)
    if not math.isfinite(level):
        raise ValueError("cannot mix at an SNR: the signal or noise is silent over the span")
    scaled = noise.astype(np.float64) * 10 ** ((level - snr_db) / 20)
    return signal.astype(np.float64) + scaled, scaled


@dataclass(frozen=True)
class _Room:
    mouth: Samples
    talkers: Samples
    background: Samples
    """Impulse responses, sources × air mics × taps (float32: many rooms stay cached)."""
    delay: int
    """Samples from the mouth to mic 0, where the bone channel is aligned."""


def _place(rng: np.random.Generator, head: F64, heights: tuple[float, float]) -> F64:
    while True:
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 3.0)
        spot = head[:2] + distance * np.array([np.cos(angle), np.sin(angle)])
        if all(_WALL_MARGIN <= spot[i] <= ROOM_DIMS[i] - _WALL_MARGIN for i in range(2)):
            return np.array([spot[0], spot[1], rng.uniform(*heights)])


def _late_tail(rirs: list[F64], rt60: float, start: int, rng: np.random.Generator) -> F64:
    """The image responses with their sparse end replaced by noise decaying at the RT60.

    A low reflection order lets the response die too early. The tail is shared by all mics
    below 600 Hz and independent above, roughly the coherence of a diffuse field over a frame.
    """
    length = max(max(h.size for h in rirs), int(rt60 * SAMPLE_RATE))
    out = np.zeros((len(rirs), length))
    for i, h in enumerate(rirs):
        out[i, : min(h.size, length)] = h[:length]
    if start >= length:
        return out
    noise = sosfilt(_TAIL_LOW, rng.standard_normal(length)) + sosfilt(
        _TAIL_HIGH, rng.standard_normal((len(rirs), length)), axis=-1
    )
    noise /= noise.std(axis=-1, keepdims=True)
    level = np.sqrt(np.mean(out[:, start - 320 : start] ** 2))
    t = np.arange(length)
    decay = np.exp(-6.91 * (t - start + 160) / (rt60 * SAMPLE_RATE))
    fade = np.clip((t - start) / 160.0, 0.0, 1.0)
    result: F64 = out * (1 - fade) + level * decay * noise * fade
    return result


@lru_cache(maxsize=32)
def _room(layout: int, rt60: float, air: tuple[Point, ...], mouth: Point) -> _Room:
    """Impulse responses for one room layout (head pose and source spots drawn from `layout`)."""
    rng = np.random.default_rng((layout, _ROOM))
    yaw = rng.uniform(0, 2 * np.pi)
    head = np.array(HEAD) + rng.uniform([-0.3, -0.3, -0.1], [0.3, 0.3, 0.1])
    right, forward = [np.sin(yaw), -np.cos(yaw), 0.0], [np.cos(yaw), np.sin(yaw), 0.0]
    to_room = np.column_stack([right, forward, [0.0, 0.0, 1.0]])
    mics = head + np.array(air) @ to_room.T
    mouth_at = head + to_room @ np.array(mouth)
    talkers = [_place(rng, head, (1.1, 1.75)) for _ in range(MAX_INTERFERERS)]
    background = [_place(rng, head, (0.8, 2.2)) for _ in range(_SLOTS)]
    absorption, order = pra.inverse_sabine(rt60, list(ROOM_DIMS))
    room = pra.ShoeBox(
        list(ROOM_DIMS),
        fs=SAMPLE_RATE,
        materials=pra.Material(absorption),
        max_order=min(order, MAX_ORDER),
    )
    room.add_microphone_array(mics.T)
    for source in [mouth_at, *talkers, *background]:
        room.add_source(source)
    room.compute_rir()
    offset = pra.constants.get("frac_delay_length") // 2
    start = int(MAX_ORDER * min(ROOM_DIMS) / _C * SAMPLE_RATE) if order > MAX_ORDER else 1 << 30
    per_source = [
        _late_tail([np.asarray(room.rir[m][s][offset:]) for m in range(len(air))], rt60, start, rng)
        for s in range(1 + MAX_INTERFERERS + _SLOTS)
    ]
    taps = max(r.shape[1] for r in per_source)
    padded = [np.pad(r, ((0, 0), (0, taps - r.shape[1]))) for r in per_source]
    rirs = np.stack(padded).astype(np.float32)
    delay = round(float(np.linalg.norm(mics[0] - mouth_at)) / _C * SAMPLE_RATE)
    return _Room(rirs[:1], rirs[1 : 1 + MAX_INTERFERERS], rirs[1 + MAX_INTERFERERS :], delay)


def _render(signals: F64, rirs: Samples) -> F64:
    """Sources × samples through sources × mics × taps responses: mics × samples, summed."""
    n = signals.shape[-1]
    nfft = fft.next_fast_len(n + rirs.shape[-1] - 1, real=True)
    spectra = np.einsum("sf,smf->mf", fft.rfft(signals, nfft), fft.rfft(rirs, nfft))
    out: F64 = fft.irfft(spectra, nfft)[:, :n]
    return out


def _rms(x: F64) -> float:
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


def _active_span(dry: F64) -> tuple[int, int]:
    frames = dry[: dry.size // 160 * 160].reshape(-1, 160)
    energy = np.mean(frames**2, axis=1) if frames.size else np.zeros(0)
    if not energy.size or energy.max() <= 0:
        return 0, 0
    active = np.flatnonzero(energy > energy.max() * 1e-4)
    return int(active[0]) * 160, min(dry.size, (int(active[-1]) + 1) * 160)


def _delayed(x: F64, delay: int) -> F64:
    return np.concatenate([np.zeros(delay), x])[: x.size]


def wearer_recording(
    speech: Samples, profile: Profile, scene: Scene, noise_bank: NoiseBank
) -> Recording:
    """The profile's channels as they would record the wearer saying `speech` in `scene`."""
    mics = profile.microphones
    if not mics.air_positions or mics.mouth is None:
        raise ConfigError(f"profile {profile.name!r} has no microphone positions or mouth")
    if mics.sample_rate != SAMPLE_RATE:
        raise ConfigError(f"profile {profile.name!r}: the simulation runs at {SAMPLE_RATE} Hz")
    dry = np.asarray(speech, dtype=np.float64).ravel()
    n, bones = dry.size, mics.channels - mics.air
    if n < 160:
        raise ValueError(f"speech of {n} samples is too short to simulate (10 ms at least)")
    room = _room(scene.layout, float(scene.rt60), mics.air_positions, mics.mouth)
    start, end = _active_span(dry)
    span = (min(start + room.delay, n), min(end + room.delay, n)) if end > start else (0, 0)
    measured = slice(*span) if span[1] > span[0] else slice(0, n)
    nominal = 10 ** (SPEECH_DBFS / 20)

    air = _render(dry[np.newaxis], room.mouth)
    if _rms(air[0, measured]) > 0:
        air *= nominal / _rms(air[0, measured])
    own = _delayed(sosfiltfilt(_BONE_SOS, dry), room.delay)
    own *= _rms(air[0, measured]) / max(_rms(own[measured]), 1e-12)
    bone_gains = 10 ** (np.random.default_rng((scene.seed, _BONE)).uniform(-3, 3, bones) / 20)

    rng = np.random.default_rng((scene.seed, _TALKERS))
    talker_air = np.zeros((mics.air, n))
    if scene.interferers:
        streams = np.stack([noise_bank.talker(n, rng) for _ in range(scene.interferers)])
        talker_air = _render(streams.astype(np.float64), room.talkers[: scene.interferers])
    field = noise_bank.field(scene.noise, n, np.random.default_rng((scene.seed, _NOISE)))
    background = _render(np.stack(field).astype(np.float64), room.background[: len(field)])
    background /= max(_rms(background[0]), 1e-12)
    mix_rng = np.random.default_rng((scene.seed, _MIX))
    talker_air *= 10 ** (mix_rng.uniform(0.0, 10.0) / 20) / max(_rms(talker_air[0]), 1e-12)
    sensor = np.random.default_rng((scene.seed, _SENSOR)).standard_normal((mics.air, n))
    sensor *= nominal * 10 ** (SENSOR_NOISE_DB / 20)
    external = talker_air[0, measured] + background[0, measured]
    wanted = nominal**2 / 10 ** (scene.snr_db / 10) - _rms(sensor[0, measured]) ** 2
    gain = math.sqrt(max(wanted, 0.0)) / max(_rms(external), 1e-12)
    talker_air, background = talker_air * gain, background * gain + sensor

    leak = 10 ** (BONE_LEAKAGE_DB / 20)
    body = sosfilt(_BODY_SOS, mix_rng.standard_normal((bones, n)), axis=-1)
    body *= nominal * 10 ** (BODY_NOISE_DB / 20) / max(_rms(body), 1e-12)
    wearer = np.vstack([air, bone_gains[:, np.newaxis] * own])
    talkers = np.vstack([talker_air, np.tile(leak * sosfilt(_BONE_SOS, talker_air[0]), (bones, 1))])
    noise_bone = bone_gains[:, np.newaxis] * body + leak * sosfilt(_BONE_SOS, background[0])
    noise = np.vstack([background, noise_bone])
    total = wearer + talkers + noise
    scale = min(1.0, 0.99 / max(float(np.abs(total).max()), 1e-12))
    parts = [(x * scale).astype(np.float32) for x in (total, wearer, talkers, noise)]
    return Recording(
        audio=Audio(parts[0], SAMPLE_RATE),
        clean=parts[1][0].copy(),
        speech_span=span,
        snr_db=measure_snr(parts[1], parts[2] + parts[3], slice(*span)) if span[1] else -math.inf,
        wearer=parts[1],
        talkers=parts[2],
        noise=parts[3],
    )


def non_wake_stream(
    minutes: float,
    noise_bank: NoiseBank,
    profile: Profile,
    seed: int,
    *,
    chunk_s: float = 10.0,
    exclude: tuple[str, ...] = ("oculi",),
) -> Iterator[Audio]:
    """Hours of everyday audio without the wake phrase, made lazily, for false accepts per hour.

    Each chunk is its own scene: the wearer says ordinary sentences (in the command voice) in
    60 % of chunks, with 0-2 other talkers, any noise kind at 0-25 dB SNR, and quiet stretches.
    The realism traded for speed: sentences and voices come from small pools and repeat, rooms
    come from 8 layouts x 3 RT60s so impulse responses are reused, and chunks do not continue
    one another (noise and talk restart every chunk).
    """
    bank = noise_bank.without(exclude)
    sentences = bank.sentences("en")
    rng = np.random.default_rng((seed, _STREAM))
    total = round(minutes * 60 * SAMPLE_RATE)
    step = round(chunk_s * SAMPLE_RATE)
    for offset in range(0, total, step):
        n = min(step, total - offset)
        speech = np.zeros(n, dtype=np.float32)
        if rng.random() < 0.6 and sentences:
            for _ in range(int(rng.integers(1, 3))):
                said = tts_command(sentences[int(rng.integers(len(sentences)))])[: n // 2]
                at = int(rng.integers(0, n - said.size + 1))
                speech[at : at + said.size] += said
        quiet = rng.random() < 0.15
        scene = Scene(
            noise=NOISE_KINDS[int(rng.integers(len(NOISE_KINDS)))],
            snr_db=35.0 if quiet else float(rng.uniform(0.0, 25.0)),
            interferers=0 if quiet else int(rng.integers(0, 3)),
            rt60=(0.25, 0.4, 0.6)[int(rng.integers(3))],
            seed=int(rng.integers(2**31)),
            room=int(rng.integers(8)),
        )
        yield wearer_recording(speech, profile, scene, bank).audio

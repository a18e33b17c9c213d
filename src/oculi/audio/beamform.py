"""Beamforming toward the wearer's mouth: delay-and-sum and MVDR over the frame's microphones.

The geometry is fixed and known (the profile says where each microphone and the mouth are), so
the steering vector is computed, not learned. MVDR learns only the noise: its covariance is
updated on frames where the bone-conduction pickup says the wearer is silent, so the wearer's
voice never leaks into the noise estimate and nearby talkers are what gets nulled.
With `bone_fusion`, the band below ~800 Hz is taken from the bone-conduction pickup instead
(fitted to the beam by a running least-squares gain, which noise does not bias because the bone
pickup does not hear it): a small array cannot steer at low frequencies, the skull can.
Processing is a streaming STFT (512-sample frames, 50 % overlap, √Hann windows): feeding a
recording in one piece or in 20 ms chunks gives the same output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from oculi.audio.signal import Samples
from oculi.errors import AudioInputError

SPEED_OF_SOUND = 343.0
FRAME = 512
HOP = FRAME // 2
BEAMFORMERS = ("mvdr", "delay_and_sum", "single")
_WINDOW = np.sqrt(np.hanning(FRAME + 1)[:FRAME]).astype(np.float32)

Complex = NDArray[np.complex128]


def steering_vector(
    positions: Sequence[Sequence[float]], source: Sequence[float], sample_rate: int
) -> Complex:
    """Near-field response of each mic to the source, relative to mic 0: frequencies × mics."""
    distances = np.array([math.dist(p, source) for p in positions])
    freqs = np.fft.rfftfreq(FRAME, 1.0 / sample_rate)
    delay = (distances - distances[0]) / SPEED_OF_SOUND
    gain = distances[0] / distances
    phase = np.exp(-2j * np.pi * freqs[:, np.newaxis] * delay[np.newaxis, :])
    response: Complex = gain[np.newaxis, :] * phase
    return response


def diffuse_coherence(positions: Sequence[Sequence[float]], sample_rate: int) -> Complex:
    """Coherence of a spherically diffuse noise field between mic pairs: frequencies × m × m."""
    pts = np.asarray(positions, dtype=float)
    spacing = np.linalg.norm(pts[:, np.newaxis, :] - pts[np.newaxis, :, :], axis=-1)
    freqs = np.fft.rfftfreq(FRAME, 1.0 / sample_rate)
    arg = 2 * freqs[:, np.newaxis, np.newaxis] * spacing[np.newaxis, :, :] / SPEED_OF_SOUND
    coherence: Complex = np.sinc(arg).astype(np.complex128)
    return coherence


class Beamformer:
    """Streams multichannel audio in, one enhanced channel out.

    `method`: `mvdr` (adaptive, the default), `delay_and_sum`, or `single` (mic 0 only, the
    baseline the benchmark compares against).
    """

    def __init__(
        self,
        positions: Sequence[Sequence[float]],
        mouth: Sequence[float],
        sample_rate: int,
        *,
        method: str = "mvdr",
        bone_channel: int | None = None,
        smoothing: float = 0.97,
        loading: float = 1e-3,
        update_every: int = 4,
        bone_fusion: bool = False,
        crossover_hz: float = 800.0,
    ) -> None:
        if method not in BEAMFORMERS:
            raise AudioInputError(f"beamformer {method!r}: allowed are {', '.join(BEAMFORMERS)}")
        if len(positions) < 1:
            raise AudioInputError("the profile declares no air microphone positions")
        self.method = method
        self.mics = len(positions)
        self.bone_channel = bone_channel
        self._steer = steering_vector(positions, mouth, sample_rate)
        self._noise = diffuse_coherence(positions, sample_rate)
        self._smoothing = smoothing
        self._loading = loading
        self._update_every = update_every
        self._frames_seen = 0
        self._bone_floor: float | None = None
        self._weights = self._solve()
        bins = np.fft.rfftfreq(FRAME, 1.0 / sample_rate)
        blend = np.clip((crossover_hz - bins) / (0.25 * crossover_hz), 0.0, 1.0)
        self._bone_blend = blend if bone_fusion and bone_channel is not None else None
        self._cross = np.zeros(bins.size, dtype=np.complex128)
        self._bone_power = np.full(bins.size, 1e-9)
        self._pending = np.zeros((self.mics + (bone_channel is not None), 0), dtype=np.float32)
        self._overlap = np.zeros(HOP, dtype=np.float32)

    def _solve(self) -> Complex:
        weights: Complex
        if self.method == "single":
            weights = np.zeros_like(self._steer)
            weights[:, 0] = 1.0
        elif self.method == "delay_and_sum":
            d = self._steer
            weights = d / np.sum(np.abs(d) ** 2, axis=1, keepdims=True)
        else:
            loaded = self._noise + self._loading * np.eye(self.mics)
            r_inv_d = np.linalg.solve(loaded, self._steer[:, :, np.newaxis])[:, :, 0]
            denom = np.einsum("fm,fm->f", self._steer.conj(), r_inv_d)[:, np.newaxis]
            weights = r_inv_d / denom
        return weights

    def process(self, samples: Samples) -> Samples:
        """Feed channels × samples (air mics first, then the bone channel if any); returns the
        enhanced mono samples that are ready, a multiple of 256, aligned with the input: output
        sample k is input sample k (the last 256 input samples wait for the next call)."""
        expected = self._pending.shape[0]
        if samples.ndim != 2 or samples.shape[0] != expected:
            raise AudioInputError(f"the beamformer expects {expected} channels")
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)], axis=1)
        count = (self._pending.shape[1] - FRAME) // HOP + 1
        if count <= 0:
            return np.zeros(0, dtype=np.float32)
        out = np.empty(count * HOP, dtype=np.float32)
        for t in range(count):
            frame = self._pending[:, t * HOP : t * HOP + FRAME] * _WINDOW
            spectrum = np.fft.rfft(frame, axis=1)
            enhanced = self._frame(spectrum)
            block = np.fft.irfft(enhanced, n=FRAME).astype(np.float32) * _WINDOW
            block[:HOP] += self._overlap
            out[t * HOP : (t + 1) * HOP] = block[:HOP]
            self._overlap = block[HOP:]
        self._pending = self._pending[:, count * HOP :]
        return out

    def _frame(self, spectrum: Complex) -> Complex:
        air = spectrum[: self.mics]
        silent = self.bone_channel is None or self._wearer_silent(spectrum)
        if self.method == "mvdr" and silent:
            outer = np.einsum("mf,nf->fmn", air, air.conj())
            power = np.real(np.einsum("fmm->f", outer)).mean() / self.mics + 1e-12
            self._noise = self._smoothing * self._noise + (1 - self._smoothing) * outer / power
            self._frames_seen += 1
            if self._frames_seen % self._update_every == 0:
                self._weights = self._solve()
        result: Complex = np.einsum("fm,mf->f", self._weights.conj(), air)
        if self._bone_blend is not None:
            result = self._fuse(result, spectrum[self.mics], update=not silent)
        return result

    def _fuse(self, beam: Complex, bone: Complex, update: bool) -> Complex:
        if update:
            a = 0.98
            self._cross = a * self._cross + (1 - a) * beam * bone.conj()
            self._bone_power = a * self._bone_power + (1 - a) * np.abs(bone) ** 2
        gain = self._cross / (self._bone_power + 1e-9)
        gain = np.where(np.abs(self._cross) > 0, gain, 1.0)
        blend = self._bone_blend
        assert blend is not None
        fused: Complex = blend * gain * bone + (1 - blend) * beam
        return fused

    def _wearer_silent(self, spectrum: Complex) -> bool:
        """True when the bone pickup is near its floor: the frame is noise, not the wearer."""
        if self.bone_channel is None:
            return True
        band = np.abs(spectrum[self.mics, 3:60]) ** 2
        energy = float(band.sum()) + 1e-12
        floor = energy if self._bone_floor is None else self._bone_floor
        floor = 0.5 * (floor + energy) if energy < floor else floor * 1.005
        self._bone_floor = floor
        return energy < 4.0 * floor

    def flush(self) -> Samples:
        """The last samples held back for overlap, once the stream ends."""
        tail = np.zeros((self._pending.shape[0], FRAME - 1), dtype=np.float32)
        return self.process(tail)

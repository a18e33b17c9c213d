"""The voice path, from the frame's microphones to what the wearer said.

beamform (toward the mouth) → optional noise suppression → VAD → endpointing → own-voice check
(bone conduction) → wake phrase (keyphrase spotting on the low-power path, confirmed by the ASR)
→ ASR. It streams: feed any chunk size, utterances come out as soon as their end is decided.

Whisper costs the same for any length, so the transcript is made speculatively at the first
silent chunk after speech, while the endpointer still waits to be sure the wearer has finished;
if they go on speaking the guess is dropped. When the end is decided, the transcript is usually
there already. The reported latency counts what a real-time device would wait: the ASR time that
did not fit in the silence before the end was decided.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from oculi.audio.asr import PrefixCheck, SpeechRecognizer, Transcript, normalise_text
from oculi.audio.beamform import HOP, Beamformer
from oculi.audio.endpoint import Endpointer, EndpointSettings, Span
from oculi.audio.own_voice import BoneActivity, own_voice
from oculi.audio.rescore import CommandPhrases, rescore
from oculi.audio.signal import SAMPLE_RATE, Audio, Samples, resample
from oculi.audio.suppress import make_suppressor
from oculi.audio.vad import CHUNK, SpeechDetector
from oculi.audio.wake import (
    KeyphraseWake,
    WakeDetector,
    forced_wake_agrees,
    strip_wake,
    transcript_has_wake,
)
from oculi.errors import AudioInputError
from oculi.runtime.profile import Microphones

KEEP_S, KEEP_MAX_S = 10, 40
"""Audio history kept between utterances: trimmed to 10 s whenever it passes 40 s."""
WAKE_HANGOVER_CHUNKS = 10
"""The spotter runs while the bone pickup hears the wearer, and 0.3 s after: on the always-on
chip nothing but the wearer's own voice costs keyword-spotting energy."""
VAD_HANGOVER_CHUNKS = 8
"""With a bone channel, Silero runs only while the bone pickup hears the wearer and 256 ms after
(elsewhere the probability is capped below the speech threshold anyway): the cost of the VAD
follows how much the wearer talks, not the length of the stream."""
FOLLOW_UP_S = 5.0
"""A wake phrase said on its own ("Hey Oculi." … "what does this cost?") makes the next
utterance a command when it begins within this many seconds of the phrase's end."""
SILENT_RMS = 1e-4
"""Below this (−80 dBFS) a recording is treated as silence, not as speech to look for."""


@dataclass(frozen=True)
class VoiceSettings:
    beamformer: str = "mvdr"
    bone_fusion: bool = True
    """Take the band below 800 Hz from the bone-conduction pickup (see beamform). On by
    default since it stopped costing anything at high SNR: `oculi bench voice`, babble and
    street at 0/5/20 dB, intent 80-100 % with it against 50-100 % without."""
    own_voice_threshold: float = 0.5
    wake_phrase: str = "hey oculi"
    wake_threshold: float = 1e-50
    """Keyword-spotting threshold: permissive, since the ASR confirms every spot. At 1e-40 the
    spotter missed 4 of 8 natural-voice wake phrases in 0 dB babble; 1e-50 caught 20 of 20
    (natural and eSpeak voices, 0 and 5 dB) for ~3x the spots an hour (90 → 264 on talk)."""
    wake_alternate_threshold: float = 1e-50
    """The same for the name's other pronunciations (wake.PRONUNCIATIONS). At 1e-15 they added
    almost nothing: the spotter missed 10.5 % of 200 wake phrases at -5..20 dB (30 % of the
    natural voice's); at 1e-50, 1.0 %, for 720 spots an hour of talk instead of 180 (each
    spot costs one ASR confirmation on the main chip)."""
    wake_prefix_score: float | None = -1.5
    """When the spotter fired but the transcript lacks the phrase, the ASR's mean
    log-probability of the phrase as the opening that still confirms it (None: never).
    Measured on spotted, unconfirmed utterances: wake phrases at -5..5 dB scored -2.3..-0.6
    (15 of 21 above -1.5); the wearer's own talk on everyday audio -1.66 and below (245 spots):
    at -1.7 the bench counted 3 false accepts an hour. The forced transcript must also agree
    with the free one (wake.forced_wake_agrees): with the spotter's 720 spots an hour, 1 of 2
    false accepts in an hour of everyday talk scored -1.15, and only that check stops it."""
    hint: str = ""
    """Command vocabulary for the ASR's prompt."""
    commands: CommandPhrases | None = None
    """The installed apps' phrasings, for rescoring woken commands (see rescore)."""
    rescore_margin: float | None = 10.0
    """How many nats less likely than the free transcript a nearby phrasing may be and still
    replace it (None: never rescore). Right phrasings scored 2-9 below, ordinary talk's nearest
    21 and more (see rescore)."""
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    speculative: bool = True
    """Transcribe at the first silence, before the end of the utterance is certain."""
    suppression: str = "off"
    """Single-channel noise suppression on the beam: "off" or "rnnoise" (see suppress)."""


def make_wake(settings: VoiceSettings) -> KeyphraseWake:
    """The low-power spotter for the configured phrase."""
    return KeyphraseWake(
        settings.wake_phrase,
        threshold=settings.wake_threshold,
        alternate_threshold=settings.wake_alternate_threshold,
    )


@dataclass
class Heard:
    """One utterance, with everything the front end knows about it."""

    text: str
    """The command, without the wake phrase."""
    transcript: str
    wake: bool
    own_voice: bool | None
    """None when there is no bone-conduction channel to tell."""
    own_voice_score: float | None
    snr_db: float
    start_s: float
    end_s: float
    timings_ms: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "transcript": self.transcript, "wake": self.wake,
            "own_voice": self.own_voice, "own_voice_score": _round(self.own_voice_score),
            "snr_db": round(self.snr_db, 1), "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }  # fmt: skip


@dataclass(frozen=True)
class _Guess:
    """A transcript made at the first silence; valid if no speech came after `speech_end`."""

    speech_end: int
    at_chunk: int
    transcript: Transcript
    seconds: float


class _History:
    """Channels × samples kept in one preallocated block: appending a 20 ms chunk copies the
    chunk only, and dropping old audio moves the start (the rest is moved down only when the
    block is full), instead of concatenating the whole history on every chunk."""

    def __init__(self, channels: int, capacity: int) -> None:
        self._data = np.zeros((channels, max(capacity, 1)), dtype=np.float32)
        self._start = self._end = 0

    @property
    def size(self) -> int:
        return self._end - self._start

    def view(self) -> NDArray[np.float32]:
        """The kept samples (a view: valid until the next append)."""
        return self._data[:, self._start : self._end]

    def append(self, samples: NDArray[np.floating]) -> None:
        n = samples.shape[-1]
        if self._end + n > self._data.shape[1]:
            size = self.size
            if size + n > self._data.shape[1] // 2:
                grown = np.zeros((self._data.shape[0], 2 * (size + n)), dtype=np.float32)
                grown[:, :size] = self.view()
                self._data = grown
            else:
                self._data[:, :size] = self.view()
            self._start, self._end = 0, size
        self._data[:, self._end : self._end + n] = samples
        self._end += n

    def drop(self, count: int) -> None:
        """Forget the oldest `count` samples."""
        self._start = min(self._start + count, self._end)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class VoicePipeline:
    """One wearer's voice path; keeps stream state between `feed` calls."""

    def __init__(
        self,
        microphones: Microphones,
        recognizer: SpeechRecognizer,
        wake: WakeDetector | None,
        settings: VoiceSettings | None = None,
        *,
        channels: int | None = None,
    ) -> None:
        self.settings = settings or VoiceSettings()
        self.channels = channels or microphones.channels
        self._air = min(microphones.air, self.channels)
        self._bone = microphones.bone_channel if self.channels > microphones.air else None
        positions = microphones.air_positions[: self._air]
        method = self.settings.beamformer if self._air > 1 and positions else "single"
        self._beam = Beamformer(
            positions or [(0.0, 0.0, 0.0)], microphones.mouth or (0.0, 0.0, -0.1), SAMPLE_RATE,
            method=method, bone_channel=self._air if self._bone is not None else None,
            bone_fusion=self.settings.bone_fusion,
        )  # fmt: skip
        self._suppressor = make_suppressor(self.settings.suppression)
        self._recognizer = recognizer
        self._wake = wake
        self._vad = SpeechDetector()
        self._bone_activity = BoneActivity() if self._bone is not None else None
        self._hangover = 0
        self._vad_hangover = 0
        self._unspotted = np.zeros(0, dtype=np.float32)
        self._endpointer = Endpointer(self.settings.endpoint)
        capacity = (KEEP_MAX_S + 2) * SAMPLE_RATE
        self._beam_history = _History(1, capacity)
        self._raw_history = _History(self.channels, capacity)
        self._vad_probs: list[float] = []
        self._wake_at: list[int] = []
        self._base = 0
        """Absolute sample index of the oldest sample still kept (older audio is dropped)."""
        self._guess: _Guess | None = None
        self._follow_up_until: int | None = None
        """Absolute sample by which an utterance must begin to be the awaited command."""
        self.busy_s: dict[str, float] = defaultdict(float)
        """CPU seconds per stage over the whole stream: the real-time factor's numerator."""

    @property
    def _beam_out(self) -> Samples:
        """The beamformer's output kept so far (from `_base` on)."""
        beam: Samples = self._beam_history.view()[0]
        return beam

    @property
    def _raw(self) -> NDArray[np.float32]:
        """The input channels kept so far (from `_base` on)."""
        return self._raw_history.view()

    def feed(self, audio: Audio) -> list[Heard]:
        if audio.channels != self.channels:
            raise AudioInputError(
                f"audio has {audio.channels} channel(s); this stream expects {self.channels}"
            )
        started, timed = time.perf_counter(), sum(self.busy_s.values())
        audio = resample(audio, SAMPLE_RATE)
        self._raw_history.append(audio.samples)
        channels = self._air + (self._bone is not None)
        beam = self._timed("beamform", self._beam.process, audio.samples[:channels])
        if self._suppressor is not None:
            beam = self._timed("suppress", self._suppressor.process, beam)
        heard = self._advance(beam)
        self._count_rest(started, timed)
        return heard

    def finish(self) -> list[Heard]:
        """End of stream: flush the beamformer and close an open utterance."""
        started, timed = time.perf_counter(), sum(self.busy_s.values())
        beam = self._timed("beamform", self._beam.flush)
        if self._suppressor is not None:
            beam = self._timed("suppress", self._suppressor.process, beam)
            beam = np.concatenate([beam, self._timed("suppress", self._suppressor.flush)])
        heard = self._advance(beam)
        span = self._endpointer.finish()
        if span is not None:
            heard.append(self._utterance(span))
        self._count_rest(started, timed)
        return heard

    def _count_rest(self, started: float, timed: float) -> None:
        """What the named stages did not account for (buffers, endpointing, resampling, the
        own-voice and SNR measures) goes to "pipeline", so that the stages add up to the
        front end's whole cost."""
        elapsed = time.perf_counter() - started
        self.busy_s["pipeline"] += max(0.0, elapsed - (sum(self.busy_s.values()) - timed))

    def _advance(self, beam: Samples) -> list[Heard]:
        offset = self._base + self._beam_history.size
        self._beam_history.append(beam)
        wearer_may_speak = True
        if self._bone_activity is not None and self._bone is not None:
            start = offset - self._base
            bone = self._raw[self._bone, start : start + beam.size]
            active = self._timed("vad", self._bone_activity.process, bone)
            wanted = []
            for a in active:
                self._vad_hangover = VAD_HANGOVER_CHUNKS if a else max(0, self._vad_hangover - 1)
                wanted.append(self._vad_hangover > 0)
            probabilities = self._timed("vad", self._vad.process, beam, wanted, 0.1)
            probabilities = [
                p if a else min(p, 0.1) for p, a in zip(probabilities, active, strict=False)
            ]
            self._hangover = WAKE_HANGOVER_CHUNKS if any(active) else max(0, self._hangover - 1)
            wearer_may_speak = self._hangover > 0
        else:
            probabilities = self._timed("vad", self._vad.process, beam)
        if self._wake is not None:
            self._spot(beam, offset, wearer_may_speak)
        heard: list[Heard] = []
        for probability in probabilities:
            self._vad_probs.append(probability)
            span = self._endpointer.push(probability)
            if span is not None:
                heard.append(self._utterance(span))
            elif self.settings.speculative and self._endpointer.silent_chunks == 1:
                self._speculate()
        if not self._endpointer.in_speech and self._beam_out.size > KEEP_MAX_S * SAMPLE_RATE:
            self._drop_old_audio()
        return heard

    def _spot(self, beam: Samples, offset: int, wearer_may_speak: bool) -> None:
        """Feed the spotter while the wearer may be speaking, with the half second before the
        bone pickup noticed them, so the start of "hey" is not cut off."""
        if not wearer_may_speak:
            self._unspotted = np.concatenate([self._unspotted, beam])[-SAMPLE_RATE // 2 :]
            return
        audio = np.concatenate([self._unspotted, beam]) if self._unspotted.size else beam
        self._unspotted = np.zeros(0, dtype=np.float32)
        assert self._wake is not None
        if self._timed("wake", self._wake.process, audio):
            self._wake_at.append(offset + beam.size)

    def _drop_old_audio(self) -> None:
        """Keep the last seconds only, so a session can listen all day in bounded memory."""
        keep = KEEP_S * SAMPLE_RATE
        drop = (self._beam_history.size - keep) // CHUNK * CHUNK
        self._beam_history.drop(drop)
        self._raw_history.drop(drop)
        self._vad_probs = self._vad_probs[drop // CHUNK :]
        self._base += drop
        self._wake_at = [at for at in self._wake_at if at >= self._base]

    @property
    def _chunks_heard(self) -> int:
        return self._base // CHUNK + len(self._vad_probs)

    def _speculate(self) -> None:
        start = self._endpointer.open_start
        if start is None:
            return
        speech_end = self._endpointer.last_voiced + HOP
        began = time.perf_counter()
        transcript = self._timed("asr", self._transcribe, start, speech_end)
        self._guess = _Guess(speech_end, self._chunks_heard, transcript,
                             time.perf_counter() - began)  # fmt: skip

    def _utterance(self, span: Span) -> Heard:
        ended_at = time.perf_counter()
        timings: dict[str, float] = {}
        end = min(span.end, self._base + self._beam_out.size)
        speech_end = min(span.speech_end + HOP, end)
        guess, self._guess = self._guess, None
        waited_ms = 0.0
        if guess is not None and guess.speech_end >= speech_end:
            transcript = guess.transcript
            silence_ms = (self._chunks_heard - guess.at_chunk) * CHUNK / SAMPLE_RATE * 1000
            waited_ms = max(0.0, guess.seconds * 1000 - silence_ms)
            timings["asr"] = guess.seconds * 1000
        else:
            t0 = time.perf_counter()
            transcript = self._timed("asr", self._transcribe, span.start, speech_end)
            timings["asr"] = (time.perf_counter() - t0) * 1000
        score = None
        if self._bone is not None:
            t0 = time.perf_counter()
            bone = self._raw[self._bone, span.start - self._base : end - self._base]
            air = self._beam_out[span.start - self._base : end - self._base]
            n = min(bone.size, air.size)
            score = own_voice(air[:n], bone[:n]).score if n > SAMPLE_RATE // 10 else 0.0
            timings["own_voice"] = (time.perf_counter() - t0) * 1000
        spotted = any(span.start <= at <= end + SAMPLE_RATE // 2 for at in self._wake_at)
        confirmed = transcript_has_wake(transcript.text, self.settings.wake_phrase)
        if spotted and not confirmed:
            t0 = time.perf_counter()
            transcript, confirmed = self._second_look(span.start, speech_end, transcript)
            timings["wake_check"] = (time.perf_counter() - t0) * 1000
        wake = confirmed and (spotted or self._wake is None)
        text = (
            strip_wake(transcript.text, self.settings.wake_phrase) if confirmed else transcript.text
        )
        awaited, self._follow_up_until = self._follow_up_until, None
        if wake and not normalise_text(text):
            self._follow_up_until = speech_end + round(FOLLOW_UP_S * SAMPLE_RATE)
        elif not wake and awaited is not None and span.start <= awaited:
            wake = True
        if wake and normalise_text(text):
            t0 = time.perf_counter()
            text = self._rescore(span.start, speech_end, transcript.text, text)
            timings["rescore"] = (time.perf_counter() - t0) * 1000
        timings["endpoint_to_text"] = waited_ms + (time.perf_counter() - ended_at) * 1000
        timings["endpoint_wait"] = (end - speech_end) / SAMPLE_RATE * 1000
        return Heard(
            text=normalise_text(text), transcript=transcript.text, wake=wake,
            own_voice=None if score is None else score >= self.settings.own_voice_threshold,
            own_voice_score=score, snr_db=self._snr_db(span),
            start_s=span.start / SAMPLE_RATE, end_s=speech_end / SAMPLE_RATE, timings_ms=timings,
        )  # fmt: skip

    def _transcribe(self, start: int, end: int) -> Transcript:
        segment = _normalise_level(self._beam_out[start - self._base : end - self._base])
        return self._recognizer.transcribe(segment, hint=self.settings.hint)

    def _second_look(self, start: int, end: int, heard: Transcript) -> tuple[Transcript, bool]:
        """The spotter heard the phrase and the transcript did not: see `second_look`."""
        segment = _normalise_level(self._beam_out[start - self._base : end - self._base])
        forced = second_look(self._recognizer, segment, heard.text, self.settings)
        return (heard, False) if forced is None else (replace(heard, text=forced), True)

    def _rescore(self, start: int, end: int, transcript: str, command: str) -> str:
        """The command as the nearest installed phrasing says it, when the audio allows."""
        scorer = getattr(self._recognizer, "score_texts", None)
        phrases, margin = self.settings.commands, self.settings.rescore_margin
        if scorer is None or phrases is None or margin is None:
            return command
        segment = _normalise_level(self._beam_out[start - self._base : end - self._base])
        return rescore(
            scorer, segment, self.settings.hint, transcript, command, phrases, margin
        ).text

    def _snr_db(self, span: Span) -> float:
        """Speech-to-noise at the reference mic: voiced chunks of the utterance against the
        unvoiced chunks of the stream so far."""
        probs = np.array(self._vad_probs)
        if not probs.size:
            return 0.0
        power = np.mean(self._raw[0, : probs.size * CHUNK].reshape(-1, CHUNK) ** 2, axis=1)
        start = (np.arange(probs.size) + self._base // CHUNK) * CHUNK
        in_span = (start >= span.start) & (start < span.end)
        speech = power[in_span & (probs > 0.6)]
        noise = power[probs < 0.2]
        if speech.size == 0:
            return 0.0
        noise_power = float(np.median(noise)) if noise.size else 1e-10
        signal = max(float(np.mean(speech)) - noise_power, 1e-12)
        return 10 * math.log10(signal / max(noise_power, 1e-12))

    def _timed(self, stage: str, fn: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args)
        self.busy_s[stage] += time.perf_counter() - start
        return result


def second_look(
    recognizer: SpeechRecognizer, audio: Samples, free: str, settings: VoiceSettings
) -> str | None:
    """After a spot whose transcript `free` lacks the phrase: ask the ASR how likely the phrase
    is as the opening (forced), and return its forced transcript when likely enough and in
    agreement with `free` (wake.forced_wake_agrees); None otherwise. Whisper tiny writes a
    robotic "Oculi" as "you like" or "your life" while still scoring the name well; on a spot
    only, so ordinary talk rarely pays for the extra decode."""
    checker = getattr(recognizer, "check_prefix", None)
    threshold = settings.wake_prefix_score
    if checker is None or threshold is None:
        return None
    prefix = f"{settings.wake_phrase.title()},"
    check: PrefixCheck | None = checker(audio, settings.hint, prefix, threshold)
    if check is None or check.rest is None:
        return None
    return check.rest if forced_wake_agrees(free, check.rest, settings.wake_phrase) else None


def _normalise_level(samples: Samples, target_rms: float = 0.05) -> Samples:
    """Automatic gain: bring the utterance to about −26 dBFS RMS without clipping."""
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    if rms < SILENT_RMS:
        return samples
    gain = min(target_rms / rms, 0.99 / (float(np.max(np.abs(samples))) + 1e-9))
    return (samples * gain).astype(np.float32)

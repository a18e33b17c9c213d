"""The voice stage: microphone chunks in, the wearer's utterances out.

Only the wearer gives commands: an utterance whose own-voice check fails is dropped, and one
without the wake phrase is dropped too unless the wearer touched the temple (push to talk) just
before. The wake phrase said on its own comes out as an empty woken utterance (the device's cue
that it listens). The ASR model is loaded when the first audio arrives, not when the session starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from oculi.audio.signal import from_pcm16
from oculi.audio.voice import Heard, VoicePipeline
from oculi.errors import AudioInputError
from oculi.events import AudioChunk, ErrorEvent, Event, Touch, Utterance
from oculi.runtime.profile import Microphones

PUSH_TO_TALK_GESTURES = ("tap", "long_press")


@dataclass(frozen=True)
class VoicePolicy:
    require_wake: bool = True
    push_to_talk_seconds: float = 8.0


class VoiceStage:
    name = "voice"

    def __init__(
        self,
        microphones: Microphones,
        pipeline_factory: Callable[[int], VoicePipeline],
        policy: VoicePolicy | None = None,
    ) -> None:
        self._microphones = microphones
        self._factory = pipeline_factory
        self._policy = policy or VoicePolicy()
        self._pipeline: VoicePipeline | None = None
        self._audio_s = 0.0
        """Seconds of audio received: the stream's own clock, the same in replays as live."""
        self._stream_began = 0.0
        self._armed_at: float | None = None

    def new_pipeline(self, channels: int) -> VoicePipeline:
        """A fresh voice path as this stage builds them: what `oculi bench voice` measures."""
        return self._factory(channels)

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, Touch) and event.gesture in PUSH_TO_TALK_GESTURES:
            self._armed_at = self._audio_s
            return ()
        if not isinstance(event, AudioChunk):
            return ()
        try:
            heard = await asyncio.to_thread(self._feed, event)
        except AudioInputError as err:
            self._pipeline = None
            return (ErrorEvent(stage=self.name, message=str(err)),)
        return [u for h in heard if (u := self._accept(h)) is not None]

    def _feed(self, chunk: AudioChunk) -> list[Heard]:
        expected = self._microphones.channels
        if chunk.channels not in (1, expected):
            raise AudioInputError(
                f"audio chunk has {chunk.channels} channels; this device streams {expected} "
                "(or 1 for a single microphone)"
            )
        if self._pipeline is None or self._pipeline.channels != chunk.channels:
            self._pipeline = self._factory(chunk.channels)
            self._stream_began = self._audio_s
        self._audio_s += len(chunk.pcm) / (2 * chunk.channels * chunk.sample_rate)
        heard = self._pipeline.feed(from_pcm16(chunk.pcm, chunk.channels, chunk.sample_rate))
        if chunk.last:
            heard += self._pipeline.finish()
            self._pipeline = None
        return heard

    def _accept(self, heard: Heard) -> Utterance | None:
        if heard.own_voice is False:
            return None
        if not heard.text:
            # the wake phrase on its own: an empty utterance tells the device to chime and
            # show that it listens; the pipeline takes the next utterance as the command
            return (
                Utterance(text="", source="asr", wake=True, own_voice_score=heard.own_voice_score)
                if heard.wake
                else None
            )
        if self._policy.require_wake and not heard.wake and not self._pushed_to_talk(heard):
            return None
        return Utterance(text=heard.text, source="asr", wake=heard.wake,
                         own_voice_score=heard.own_voice_score)  # fmt: skip

    def _pushed_to_talk(self, heard: Heard) -> bool:
        """The wearer touched the temple shortly before this utterance began (once per touch)."""
        if self._armed_at is None:
            return False
        began = self._stream_began + heard.start_s - self._armed_at
        if -1.0 <= began <= self._policy.push_to_talk_seconds:
            self._armed_at = None
            return True
        return False

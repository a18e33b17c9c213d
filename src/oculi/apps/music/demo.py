"""A tiny demo library, synthesised on first use, so music works before the wearer adds any.

Each track is a few seconds of its own tune and tempo — a pad, a piano, a band with drums —
encoded as FLAC and tagged like real music, so the scanner, search and moods see nothing special.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from mutagen.flac import FLAC

from oculi.apps.music.library import AUDIO_SUFFIXES

RATE = 22050
SECONDS = 4.0


@dataclass(frozen=True)
class DemoTrack:
    file: str
    title: str
    artist: str
    album: str
    genre: str
    bpm: int
    notes: tuple[int, ...]
    """MIDI note numbers, one per beat, looped; 0 is a rest."""
    voice: str
    """pad, piano, lead or pluck."""
    drums: bool = False
    track_no: int = 1


DEMO_TRACKS = (
    DemoTrack("Lumen Drift/Quiet Rooms/01 Morning Mist.flac", "Morning Mist", "Lumen Drift",
              "Quiet Rooms", "ambient", 64, (60, 67, 64, 72, 69, 67), "pad"),
    DemoTrack("Lumen Drift/Quiet Rooms/02 Deep Work.flac", "Deep Work", "Lumen Drift",
              "Quiet Rooms", "ambient", 72, (57, 64, 60, 64, 62, 64), "pad", track_no=2),
    DemoTrack("The Glass Quartet/Parlour Pieces/01 Little Sonata in G.flac", "Little Sonata in G",
              "The Glass Quartet", "Parlour Pieces", "classical", 84,
              (67, 71, 74, 71, 72, 69, 66, 67), "piano"),
    DemoTrack("Neon Static/Fuse/01 Highway Spark.flac", "Highway Spark", "Neon Static", "Fuse",
              "rock", 140, (52, 52, 55, 57, 52, 52, 59, 57), "lead", drums=True),
    DemoTrack("Midnight Trio/After Hours/01 Blue Corner.flac", "Blue Corner", "Midnight Trio",
              "After Hours", "jazz", 100, (62, 65, 69, 72, 70, 0, 67, 65), "pluck", drums=True),
    DemoTrack("Midnight Trio/After Hours/02 Grey Letters.flac", "Grey Letters", "Midnight Trio",
              "After Hours", "blues", 66, (57, 60, 62, 63, 62, 60, 57, 0), "piano", track_no=2),
    DemoTrack("Pixel Pop/Bright Side/01 Sunny Loop.flac", "Sunny Loop", "Pixel Pop",
              "Bright Side", "pop", 124, (72, 76, 79, 76, 74, 77, 81, 77), "pluck", drums=True),
    DemoTrack("琉璃乐团/夜色/01 月光小夜曲.flac", "月光小夜曲", "琉璃乐团", "夜色", "classical", 76,
              (64, 67, 72, 71, 69, 67, 65, 64), "piano"),
)  # fmt: skip


def ensure_demo_library(folder: Path) -> list[Path]:
    """Write the demo tracks into a folder that holds no audio yet; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(p.suffix.lower() in AUDIO_SUFFIXES for p in folder.rglob("*") if p.is_file()):
        return []
    written = []
    for track in DEMO_TRACKS:
        path = folder / track.file
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.partial.flac")
        soundfile.write(partial, render(track), RATE, format="FLAC", subtype="PCM_16")
        tags = FLAC(partial)  # type: ignore[no-untyped-call]
        tags.update(  # type: ignore[no-untyped-call]
            {
                "title": track.title,
                "artist": track.artist,
                "album": track.album,
                "genre": track.genre,
                "bpm": str(track.bpm),
                "tracknumber": str(track.track_no),
                "comment": "Oculi demo track, synthesised",
            }
        )
        tags.save()
        os.replace(partial, path)  # a crash never leaves a half-written track in the library
        written.append(path)
    return written


def render(track: DemoTrack) -> np.ndarray:
    """The track's audio, mono float32 in -1..1."""
    beat = 60.0 / track.bpm
    total = int(SECONDS * RATE)
    out = np.zeros(total, dtype=np.float64)
    step = int(beat * RATE)
    for index, start in enumerate(range(0, total, step)):
        note = track.notes[index % len(track.notes)]
        length = min(step * (3 if track.voice == "pad" else 1), total - start)
        if note:
            out[start : start + length] += _voice(track.voice, _hz(note), length)
        if track.drums:
            out[start : start + min(step, total - start)] += _drum(index, min(step, total - start))
    fade = min(total, int(0.05 * RATE))
    out[:fade] *= np.linspace(0, 1, fade)
    out[-fade:] *= np.linspace(1, 0, fade)
    peak = float(np.max(np.abs(out))) or 1.0
    return (0.8 * out / peak).astype(np.float32)


def _hz(note: int) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _voice(voice: str, hz: float, length: int) -> np.ndarray:
    t = np.arange(length) / RATE
    if voice == "pad":
        envelope = np.minimum(1, t / 0.4) * np.exp(-t / 2.0)
        wave = np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(2 * np.pi * hz * 1.005 * t)
    elif voice == "piano":
        envelope = np.exp(-t / 0.5)
        wave = sum(np.sin(2 * np.pi * hz * k * t) / k**1.5 for k in range(1, 5))
    elif voice == "lead":
        envelope = np.minimum(1, t / 0.01) * np.exp(-t / 0.6)
        wave = np.tanh(3 * np.sin(2 * np.pi * hz * t))
    else:
        envelope = np.exp(-t / 0.15)
        wave = np.sin(2 * np.pi * hz * t) + 0.5 * np.sin(4 * np.pi * hz * t)
    return np.asarray(envelope * wave)


def _drum(index: int, length: int) -> np.ndarray:
    """A kick on even beats, a snare (noise) on odd ones."""
    t = np.arange(length) / RATE
    if index % 2 == 0:
        return np.asarray(np.sin(2 * np.pi * (50 + 80 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.12))
    noise = np.random.default_rng(index).uniform(-1, 1, length)
    return np.asarray(0.5 * noise * np.exp(-t / 0.06))

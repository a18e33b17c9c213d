"""'Play something calm': moods as genres, tempi and words, and optionally by meaning.

Tags rarely name a mood, but genres and tempo say a lot: ambient at 70 BPM is calm, rock at 140
is upbeat. When an encoder is given, tracks whose tags say little are ranked by how close the
words "title artist genre" are to the mood's description, so a library of unusual genres still
gets a sensible queue. Vectors are kept in the library's index: each track is embedded once.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from oculi.agent.embedding import Encoder
from oculi.apps.music.library import MusicLibrary, Track
from oculi.apps.music.search import normalise


@dataclass(frozen=True)
class Mood:
    genres: frozenset[str]
    words: frozenset[str]
    """Words in a title or album that hint at the mood."""
    bpm: tuple[float, float]
    """Tempo range that fits, inclusive."""
    description: str
    """What the mood sounds like, for the embedding."""


MOODS: dict[str, Mood] = {
    "calm": Mood(
        frozenset({"ambient", "classical", "new age", "acoustic", "chill", "chillout", "lounge",
                   "easy listening", "lofi", "lo fi", "folk", "piano", "meditation"}),
        frozenset({"calm", "quiet", "slow", "soft", "mist", "dream", "lullaby", "sleep", "peace",
                   "still", "gentle", "harbour", "morning", "breeze"}),
        (0, 95),
        "calm quiet relaxing soft slow gentle ambient music",
    ),
    "upbeat": Mood(
        frozenset({"pop", "rock", "dance", "electronic", "edm", "disco", "funk", "house", "punk",
                   "hip hop", "latin", "ska", "reggaeton", "techno", "k pop"}),
        frozenset({"happy", "sun", "sunny", "party", "dance", "spark", "fire", "run", "up",
                   "summer", "jump", "shine"}),
        (110, 220),
        "upbeat happy energetic fast dance pop rock music",
    ),
    "sad": Mood(
        frozenset({"blues", "ballad", "soul", "emo", "slowcore", "sad"}),
        frozenset({"sad", "rain", "rainy", "tears", "alone", "grey", "gray", "goodbye", "lonely",
                   "blue", "cry", "letters", "lost", "winter"}),
        (0, 90),
        "sad melancholy slow lonely blues ballad music",
    ),
    "focus": Mood(
        frozenset({"ambient", "classical", "instrumental", "lofi", "lo fi", "jazz", "post rock",
                   "minimal", "soundtrack", "piano", "baroque"}),
        frozenset({"focus", "study", "work", "deep", "piano", "concentration", "sonata", "etude"}),
        (60, 130),
        "instrumental music for focus and concentration while working or studying",
    ),
}  # fmt: skip

SYNONYMS = {
    "calm": ("calm", "relaxing", "relaxed", "chill", "quiet", "soothing", "peaceful", "mellow",
             "soft", "gentle", "安静", "舒缓", "平静", "放松", "轻松", "柔和"),
    "upbeat": ("upbeat", "happy", "energetic", "lively", "party", "cheerful", "fun", "fast",
               "欢快", "动感", "开心", "有活力", "快乐", "热闹"),
    "sad": ("sad", "melancholy", "melancholic", "gloomy", "moody", "blue", "sorrowful",
            "伤感", "悲伤", "难过", "忧伤"),
    "focus": ("focus", "study", "studying", "work", "working", "concentration", "concentrate",
              "专注", "学习", "工作", "集中"),
}  # fmt: skip

_FRAME_WORDS = frozenset(
    {"some", "something", "anything", "a", "bit", "of", "little", "music", "songs", "song",
     "tunes", "tracks", "stuff", "vibes", "for", "to", "while", "when", "i", "me", "im", "am",
     "in", "the", "mood", "play", "put", "on", "listen", "with", "feel", "feeling"}
)  # fmt: skip
"""Words around a mood that do not change it: 'some music for studying' is just 'studying'."""

QUEUE_SIZE = 12
EMBED_LIMIT = 400
"""Most tracks embedded in one request; the rest are embedded on later ones."""


def mood_of(text: str | None) -> str | None:
    """The mood a query names ('something relaxing', 'music for studying', '安静的'), or None.

    Only when the rest are frame words: 'the album quiet rooms' names an album, not a mood.
    """
    if not text:
        return None
    words = normalise(text)
    if any("\u4e00" <= ch <= "\u9fff" for ch in words):  # no spaces: split on the particles
        candidates = [w for w in re.split(r"[的点些一首歌音乐\s]+", words) if w]
    else:
        rest = [w for w in words.split() if w not in _FRAME_WORDS]
        candidates = rest if len(rest) == 1 else []
    for word in candidates:
        for mood, names in SYNONYMS.items():
            if word in names:
                return mood
    return None


def fit(track: Track, mood: Mood) -> float:
    """How well a track's tags fit a mood: genre most, then tempo, then words in its names."""
    score = 0.0
    genre = normalise(track.genre)
    if genre and (genre in mood.genres or any(g in genre.split() for g in mood.genres)):
        score += 2.0
    if track.bpm is not None:
        low, high = mood.bpm
        score += 1.0 if low <= track.bpm <= high else -1.0
    names = set(normalise(f"{track.title} {track.album}").split())
    if names & mood.words:
        score += 0.5
    return score


def mood_queue(
    library: MusicLibrary,
    tracks: Sequence[Track],
    mood: str,
    encoder: Encoder | None = None,
    rng: random.Random | None = None,
) -> list[Track]:
    """Tracks for a mood, best fitting first (ties shuffled); empty when nothing fits at all.

    With an encoder, a short queue is topped up with the closer half of the other tracks by
    meaning — never with a track whose tempo contradicts the mood.
    """
    spec = MOODS[mood]
    rng = rng or random.Random()
    scores = {t.id: fit(t, spec) for t in tracks}
    ordered = sorted(tracks, key=lambda t: (-scores[t.id], rng.random()))
    fitting = [t for t in ordered if scores[t.id] >= 2.0]
    if encoder is None or len(fitting) >= QUEUE_SIZE:
        return (fitting or [t for t in ordered if scores[t.id] > 0])[:QUEUE_SIZE]
    others = [t for t in tracks if 0 <= scores[t.id] < 2.0]  # nothing of a contrary tempo
    nearest = by_meaning(library, others, spec.description, encoder)
    return [*fitting, *nearest[: max(1, len(nearest) // 2)]][:QUEUE_SIZE]


def by_meaning(
    library: MusicLibrary, tracks: Sequence[Track], description: str, encoder: Encoder
) -> list[Track]:
    """Tracks ranked by how close 'title artist genre' is to the description, closest first."""
    by_id = {t.id: t for t in tracks}
    vectors: dict[int, np.ndarray] = {
        i: np.frombuffer(blob, dtype=np.float32)
        for i, (text, blob) in library.vectors(tracks).items()
        if by_id[i].text == text
    }
    todo = [t for t in tracks if t.id not in vectors][:EMBED_LIMIT]
    if todo:
        fresh = np.asarray(encoder.encode([t.text for t in todo]), dtype=np.float32)
        pairs = list(zip(todo, fresh, strict=True))
        library.store_vectors([(t.id, t.text, v.tobytes()) for t, v in pairs])
        vectors.update({t.id: v for t, v in zip(todo, fresh, strict=True)})
    if not vectors:
        return []
    goal = np.asarray(encoder.encode([description]), dtype=np.float32)[0]
    return sorted(
        (t for t in tracks if t.id in vectors), key=lambda t: -float(vectors[t.id] @ goal)
    )

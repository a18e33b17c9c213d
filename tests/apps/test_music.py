"""The music app: a library scanned from a folder, played by song, artist, genre or mood."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile
from mutagen.flac import FLAC
from mutagen.id3 import TBPM, TIT2

from oculi.agent.dialogue import Agent
from oculi.agent.embedding import ExampleIndex, shared_encoder
from oculi.agent.parser import IntentParser
from oculi.apps.music.app import MusicApp
from oculi.apps.music.demo import DEMO_TRACKS, ensure_demo_library
from oculi.apps.music.library import DB_NAME, MusicLibrary, Tags, read_tags
from oculi.apps.music.moods import MOODS, mood_of, mood_queue
from oculi.apps.music.search import best_match
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Event, Intent


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo tracks, synthesised once; tests copy them where they change files."""
    folder = tmp_path_factory.mktemp("demo")
    ensure_demo_library(folder)
    return folder


@pytest.fixture
def library_dir(demo_folder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    shutil.copytree(demo_folder, folder)
    return folder


def _agent(app: MusicApp, tmp_path: Path, index: ExampleIndex | None = None) -> Agent:
    apps = [app, SystemApp()]
    parser = IntentParser([a.intents_file for a in apps if a.intents_file])
    return Agent(apps, parser, index=index, data_dir=tmp_path / "data")


def _say(agent: Agent, text: str) -> tuple[Intent, Answer, list[ErrorEvent]]:
    events: list[Event] = asyncio.run(agent.handle(text))
    intent = next(e for e in events if isinstance(e, Intent))
    answer = next(e for e in reversed(events) if isinstance(e, Answer))
    return intent, answer, [e for e in events if isinstance(e, ErrorEvent)]


def _card_fits_the_lens(answer: Answer) -> None:
    card = answer.card
    assert card is not None
    assert len(card.title) <= 28, card.title
    assert len(card.rows) <= 5
    for row in card.rows:
        assert len(row.label) + len(row.value) <= 36, row


# --- the library --------------------------------------------------------------------------------


def test_demo_library_is_tagged_flac_and_written_only_into_an_empty_folder(tmp_path: Path) -> None:
    written = ensure_demo_library(tmp_path / "demo")
    assert len(written) == len(DEMO_TRACKS) >= 5
    genres = set()
    for path in written:
        tags = read_tags(path)
        assert isinstance(tags, Tags), tags
        assert tags.title and tags.artist and tags.album and 1 < tags.duration_s < 10
        assert soundfile.info(str(path)).format == "FLAC"
        genres.add(tags.genre)
    assert {"ambient", "classical", "rock", "jazz", "pop"} <= genres
    assert ensure_demo_library(tmp_path / "demo") == []
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "song.mp3").write_bytes(b"not really")
    assert ensure_demo_library(mine) == []


def test_demo_tunes_differ(demo_folder: Path) -> None:
    audio = [soundfile.read(str(p))[0] for p in sorted(demo_folder.rglob("*.flac"))]
    spectra = [np.abs(np.fft.rfft(a[:8192])) for a in audio]
    for i in range(len(spectra)):
        for j in range(i + 1, len(spectra)):
            assert not np.allclose(spectra[i], spectra[j], rtol=0.05)


def test_rescan_reads_only_new_and_changed_files(library_dir: Path) -> None:
    library = MusicLibrary(library_dir)
    first = library.scan()
    assert first.added == len(DEMO_TRACKS) and first.skipped == 0
    assert (library_dir / DB_NAME).is_file()
    again = library.scan()
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(DEMO_TRACKS))

    changed = next(library_dir.rglob("*Highway Spark.flac"))
    tags = FLAC(changed)  # type: ignore[no-untyped-call]
    tags["title"] = "Highway Spark (Live)"
    tags.save()
    gone = next(library_dir.rglob("*Sunny Loop.flac"))
    gone.unlink()
    nested = library_dir / "new" / "deeper"
    nested.mkdir(parents=True)
    shutil.copy(next(library_dir.rglob("*Deep Work.flac")), nested / "copy.flac")
    report = library.scan()
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    titles = {t.title for t in library.tracks()}
    assert "Highway Spark (Live)" in titles and "Sunny Loop" not in titles


def test_corrupt_files_are_skipped_and_counted(library_dir: Path) -> None:
    (library_dir / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    (library_dir / "empty.flac").write_bytes(b"")
    (library_dir / "noise.ogg").write_bytes(np.random.default_rng(1).bytes(5000))
    (library_dir / "cover.jpg").write_bytes(b"jpeg")
    report = MusicLibrary(library_dir).scan()
    assert report.skipped == 3
    assert report.tracks == len(DEMO_TRACKS)
    assert MusicLibrary(library_dir).scan().skipped == 3


def test_untagged_file_is_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "03 - Blue in Green.wav"
    soundfile.write(str(path), np.zeros(8000, dtype=np.float32), 8000)
    tags = read_tags(path)
    assert isinstance(tags, Tags)
    assert tags.title == "Blue in Green" and tags.artist == ""
    assert abs(tags.duration_s - 1.0) < 0.01


@pytest.mark.parametrize(
    ("name", "fmt", "subtype"),
    [("a.ogg", "OGG", "VORBIS"), ("b.opus", "OGG", "OPUS"), ("c.mp3", "MP3", "MPEG_LAYER_III")],
)
def test_tags_of_other_formats(tmp_path: Path, name: str, fmt: str, subtype: str) -> None:
    if subtype not in soundfile.available_subtypes(fmt):
        pytest.skip(f"this libsndfile cannot write {fmt}/{subtype}")
    path = tmp_path / name
    tone = 0.3 * np.sin(np.arange(16000) / 10).astype(np.float32)
    soundfile.write(str(path), tone, 16000, format=fmt, subtype=subtype)
    audio = mutagen.File(path, easy=True)
    if audio.tags is None:
        audio.add_tags()
    audio["title"], audio["artist"], audio["genre"] = "Tagged", "Someone", "Jazz"
    audio.save()
    tags = read_tags(path)
    assert isinstance(tags, Tags)
    assert (tags.title, tags.artist, tags.genre) == ("Tagged", "Someone", "jazz")


def test_id3_tags_in_a_wav_file(tmp_path: Path) -> None:
    path = tmp_path / "tagged.wav"
    soundfile.write(str(path), np.zeros(8000, dtype=np.float32), 8000)
    audio = mutagen.File(path)
    audio.add_tags()
    audio.tags.add(TIT2(encoding=3, text="Wave Song"))
    audio.tags.add(TBPM(encoding=3, text="70"))
    audio.save()
    tags = read_tags(path)
    assert isinstance(tags, Tags) and tags.title == "Wave Song" and tags.bpm == 70


def test_index_can_live_elsewhere_and_uses_wal(library_dir: Path, tmp_path: Path) -> None:
    library = MusicLibrary(library_dir, tmp_path / "index" / "music.sqlite")
    library.scan()
    with sqlite3.connect(tmp_path / "index" / "music.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not (library_dir / DB_NAME).exists()


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("higway spark", "title", "Highway Spark"),
        ("the album quiet rooms", "album", "Quiet Rooms"),
        ("songs by midnight trio", "artist", "Midnight Trio"),
        ("grey letters by midnight trio", "title", "Grey Letters"),
        ("jazz music", "genre", "jazz"),
        ("月光小夜曲", "title", "月光小夜曲"),
        ("琉璃乐团的歌", "artist", "琉璃乐团"),
    ],
)
def test_queries_match_titles_artists_albums_and_genres(
    library_dir: Path, query: str, field: str, value: str
) -> None:
    library = MusicLibrary(library_dir)
    library.scan()
    found = best_match(query, library.tracks())
    assert found is not None
    assert (found.field, found.value) == (field, value)
    assert all(getattr(t, field) == value for t in found.tracks)


def test_unrelated_query_matches_nothing(library_dir: Path) -> None:
    library = MusicLibrary(library_dir)
    library.scan()
    assert best_match("bohemian rhapsody", library.tracks()) is None
    assert best_match("", library.tracks()) is None


# --- moods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mood"),
    [
        ("something relaxing", "calm"),
        ("focus music", "focus"),
        ("some upbeat songs", "upbeat"),
        ("安静的", "calm"),
        ("伤感的歌", "sad"),
        ("the album quiet rooms", None),
        ("highway spark", None),
    ],
)
def test_mood_words(text: str, mood: str | None) -> None:
    assert mood_of(text) == mood


def test_mood_queue_follows_genre_and_tempo(library_dir: Path) -> None:
    library = MusicLibrary(library_dir)
    library.scan()
    tracks = library.tracks()
    calm = mood_queue(library, tracks, "calm")
    assert calm and all(t.genre in MOODS["calm"].genres for t in calm)
    upbeat = mood_queue(library, tracks, "upbeat")
    assert upbeat and all(t.bpm is not None and t.bpm >= 110 for t in upbeat)
    assert {t.id for t in calm}.isdisjoint({t.id for t in upbeat})


class _CountingEncoder:
    """Vectors from letters: deterministic, and counts what it was asked to embed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = []
        for text in texts:
            vector = np.zeros(26, dtype=np.float32)
            for ch in text.lower():
                if "a" <= ch <= "z":
                    vector[ord(ch) - 97] += 1
            rows.append(vector / (np.linalg.norm(vector) or 1))
        return np.stack(rows)


def test_embedding_fills_a_mood_queue_and_is_cached(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    for i, genre in enumerate(["vaporwave", "shoegaze", "zouk"]):
        path = folder / f"{genre}.flac"
        folder.mkdir(exist_ok=True)
        soundfile.write(str(path), np.zeros(4000, dtype=np.float32), 8000)
        tags = FLAC(path)  # type: ignore[no-untyped-call]
        tags.update({"title": f"Track {i}", "genre": genre})  # type: ignore[no-untyped-call]
        tags.save()
    library = MusicLibrary(folder)
    library.scan()
    tracks = library.tracks()
    assert mood_queue(library, tracks, "calm") == []
    encoder = _CountingEncoder()
    queue = mood_queue(library, tracks, "calm", encoder)
    assert 1 <= len(queue) < len(tracks)
    goal = encoder.encode([MOODS["calm"].description])[0]
    closest = max(tracks, key=lambda t: float(encoder.encode([t.text])[0] @ goal))
    assert queue[0] == closest
    encoder.seen.clear()
    mood_queue(library, tracks, "calm", encoder)
    assert not [t for t in encoder.seen if t.startswith("Track")]  # vectors kept in the index


# --- the app through the agent ------------------------------------------------------------------


def test_play_something_calm_without_any_user_files(tmp_path: Path) -> None:
    app = MusicApp(seed=1)
    agent = _agent(app, tmp_path)
    intent, answer, errors = _say(agent, "play something calm")
    assert (intent.app, intent.action, intent.args) == ("music", "play", {"mood": "calm"})
    assert not errors
    assert answer.card is not None and answer.card.title == "Now playing"
    track = app.player.current
    assert track is not None and track.path.is_file()
    assert track.genre in MOODS["calm"].genres
    assert track.title in answer.speech
    _card_fits_the_lens(answer)
    assert (tmp_path / "data" / "apps" / "music" / "demo-library").is_dir()


def test_player_controls_keep_queue_and_state(library_dir: Path, tmp_path: Path) -> None:
    app = MusicApp(library_dir=library_dir, seed=2)
    agent = _agent(app, tmp_path)
    intent, answer, _ = _say(agent, "play songs by midnight trio")
    assert intent.action == "play"
    assert {t.artist for t in app.player.queue} == {"Midnight Trio"}
    assert len(app.player.queue) == 2
    first = app.player.current
    assert _say(agent, "pause")[0].action == "pause"
    assert app.player.state == "paused"
    _, answer, _ = _say(agent, "what's playing")
    assert answer.card is not None and answer.card.title == "Paused"
    _say(agent, "resume")
    assert app.player.state == "playing"
    _say(agent, "next song")
    assert app.player.index == 1 and app.player.current != first
    _, answer, _ = _say(agent, "skip")
    assert app.player.index == 1 and "last" in answer.speech
    _say(agent, "previous song")
    assert app.player.current == first
    _card_fits_the_lens(answer)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("play", lambda app: len(app.player.queue) == len(DEMO_TRACKS)),
        ("play jazz", lambda app: app.player.current.genre == "jazz"),
        ("play highway spark", lambda app: app.player.current.title == "Highway Spark"),
        ("play the album quiet rooms", lambda app: app.player.current.track_no == 1),
        ("play something upbeat", lambda app: app.player.current.bpm >= 110),
        ("put on some music for studying", lambda app: app.player.source == "Mood: focus"),
        ("播放月光小夜曲", lambda app: app.player.current.title == "月光小夜曲"),
        ("放点安静的音乐", lambda app: app.player.source == "Mood: calm"),
    ],
)
def test_play_requests(library_dir: Path, tmp_path: Path, text: str, check: object) -> None:
    app = MusicApp(library_dir=library_dir, seed=3)
    intent, answer, errors = _say(_agent(app, tmp_path), text)
    assert (intent.app, intent.action) == ("music", "play")
    assert not errors
    assert callable(check) and check(app)
    assert app.player.state == "playing"
    _card_fits_the_lens(answer)


def test_chinese_controls_answer_in_chinese(library_dir: Path, tmp_path: Path) -> None:
    app = MusicApp(library_dir=library_dir, seed=4)
    agent = _agent(app, tmp_path)
    _say(agent, "播放")
    for text, action in [("暂停", "pause"), ("继续播放", "resume"), ("下一首", "next"),
                         ("上一首", "previous"), ("这是什么歌", "now_playing")]:  # fmt: skip
        intent, answer, _ = _say(agent, text)
        assert intent.action == action, text
        assert answer.language == "zh"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.speech), answer.speech


def test_unknown_song_leaves_the_player_alone(library_dir: Path, tmp_path: Path) -> None:
    app = MusicApp(library_dir=library_dir)
    agent = _agent(app, tmp_path)
    _say(agent, "play highway spark")
    _, answer, errors = _say(agent, "play bohemian rhapsody")
    assert not errors
    assert "bohemian rhapsody" in answer.speech.lower()
    assert app.player.current is not None and app.player.current.title == "Highway Spark"


def test_controls_with_nothing_playing_say_so(library_dir: Path, tmp_path: Path) -> None:
    agent = _agent(MusicApp(library_dir=library_dir), tmp_path)
    for text in ("pause", "resume", "next", "previous", "what's playing"):
        intent, answer, errors = _say(agent, text)
        assert intent.app == "music" and not errors
        assert "nothing is playing" in answer.speech.lower()


@pytest.mark.parametrize("make", ["empty", "missing", "corrupt only"])
def test_unusable_library_gets_a_clear_reply(tmp_path: Path, make: str) -> None:
    folder = tmp_path / "music"
    if make != "missing":
        folder.mkdir()
    if make == "corrupt only":
        (folder / "a.mp3").write_bytes(b"\xff\xfb" + b"\x00" * 50)
    agent = _agent(MusicApp(library_dir=folder), tmp_path)
    _, answer, errors = _say(agent, "play something calm")
    assert errors
    assert str(folder) in answer.speech
    assert _say(agent, "what can you do")[0].app == "system"


def test_a_file_deleted_after_the_scan_is_skipped(library_dir: Path, tmp_path: Path) -> None:
    app = MusicApp(library_dir=library_dir)
    agent = _agent(app, tmp_path)
    _say(agent, "play the album after hours")
    assert [t.title for t in app.player.queue] == ["Blue Corner", "Grey Letters"]
    next(library_dir.rglob("*Grey Letters.flac")).unlink()
    _, answer, errors = _say(agent, "next")
    assert not errors
    assert "last" in answer.speech and len(app.player.queue) == 1


def test_rescan_reports_songs_and_unreadable_files(library_dir: Path, tmp_path: Path) -> None:
    agent = _agent(MusicApp(library_dir=library_dir), tmp_path)
    _say(agent, "play")
    (library_dir / "bad.flac").write_bytes(b"fLaC broken")
    intent, answer, _ = _say(agent, "rescan my music library")
    assert intent.action == "rescan"
    assert str(len(DEMO_TRACKS)) in answer.speech and "1 files could not be read" in answer.speech


def test_embedding_tier_catches_paraphrases(library_dir: Path, tmp_path: Path) -> None:
    app = MusicApp(library_dir=library_dir)
    apps = [app, SystemApp()]
    parser = IntentParser([a.intents_file for a in apps if a.intents_file])
    index = ExampleIndex(parser.labelled(), shared_encoder())
    agent = Agent(apps, parser, index=index, data_dir=tmp_path / "data")
    for text, action in [
        ("could you put some music on for me", "play"),
        ("I'd like to hear some music", "play"),
        ("what is this song called", "now_playing"),
        ("这首歌叫什么名字来着", "now_playing"),
    ]:
        assert parser.parse(text) is None, text
        intent, _, _ = _say(agent, text)
        assert (intent.app, intent.action, intent.path) == ("music", action, "embedding"), text

"""The music app: play from the wearer's own library by song, artist, album, genre or mood.

The glasses' audio output is not the app's to touch: the app keeps the player's state (queue,
position, playing or paused) and answers with what plays now; the runtime's player follows the
`track` and `state` in each reply's data.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from oculi.agent.embedding import Encoder
from oculi.apps.music.demo import ensure_demo_library
from oculi.apps.music.library import LibraryError, MusicLibrary, Track
from oculi.apps.music.moods import mood_of, mood_queue
from oculi.apps.music.search import Match, best_match, normalise
from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.events import Card, CardRow

MoodName = Literal["calm", "upbeat", "sad", "focus"]
State = Literal["stopped", "playing", "paused"]

RESCAN_AFTER_S = 600.0
"""A library older than this is checked for new files on the next request (only stat calls)."""
ROW_CHARS = 36
TITLE_CHARS = 28

# fmt: off
_ANYTHING = {"", "music", "some music", "something", "anything", "songs", "some songs", "a song",
             "all", "everything", "my music", "音乐", "歌", "点音乐", "首歌", "一首歌", "随便"}
# fmt: on
"""Queries that mean 'anything': the whole library, shuffled."""
_MOOD_NAMES = {"calm": "平静", "upbeat": "欢快", "sad": "伤感", "focus": "专注"}


@dataclass
class Player:
    """What would be playing: the queue, where in it, and whether it plays."""

    queue: list[Track] = field(default_factory=list)
    index: int = 0
    state: State = "stopped"
    source: str = ""
    """What the queue came from, in a few words ('Shuffle', 'Album: Fuse', 'Mood: calm')."""

    @property
    def current(self) -> Track | None:
        return self.queue[self.index] if self.queue else None

    def start(self, queue: list[Track], source: str) -> None:
        self.queue, self.index, self.state, self.source = queue, 0, "playing", source


class MusicApp(App):
    name = "music"
    description = "Play music from the wearer's library: a song, artist, album, genre or mood."
    permissions = ("storage",)
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(
        self,
        library_dir: Path | None = None,
        db_path: Path | None = None,
        encoder: Encoder | None = None,
        seed: int | None = None,
    ) -> None:
        """`library_dir` None: a demo library in the app's storage, written on first use.

        `db_path` None: the index beside the library. `encoder` ranks tracks by meaning for moods
        their tags do not cover (`shared_encoder()`); `seed` makes shuffles repeatable.
        """
        self._library_dir = library_dir
        self._db_path = db_path
        self._encoder = encoder
        self._rng = random.Random(seed)
        self._library: MusicLibrary | None = None
        self._scanned_at = 0.0
        self.player = Player()

    # --- the library ----------------------------------------------------------------------------

    def _open(self, ctx: Context) -> MusicLibrary:
        if self._library is None:
            if self._library_dir is None:
                folder = ctx.storage / "demo-library"
                try:
                    ensure_demo_library(folder)
                except (OSError, RuntimeError) as err:  # soundfile raises RuntimeError kin
                    raise LibraryError(f"the demo library cannot be written: {err}") from err
                db_path = self._db_path or ctx.storage / "demo-library.sqlite"
                self._library = MusicLibrary(folder, db_path)
            else:
                self._library = MusicLibrary(self._library_dir, self._db_path)
        return self._library

    async def _tracks(self, ctx: Context, rescan: bool = False) -> tuple[MusicLibrary, list[Track]]:
        """The library's tracks, scanned first when new or stale; ActionError when it has none."""
        try:
            library = self._open(ctx)
            stale = time.monotonic() - self._scanned_at > RESCAN_AFTER_S
            if rescan or stale or not library.scanned:
                if library.scanning:
                    raise ActionError(
                        ctx.say_in(
                            "I'm still reading your music library. Ask again in a moment.",
                            "我还在读取你的音乐库，请稍后再试。",
                        )
                    )
                await asyncio.to_thread(library.scan)
                self._scanned_at = time.monotonic()
            tracks = await asyncio.to_thread(library.tracks)
        except LibraryError as err:
            raise ActionError(
                ctx.say_in(f"I can't open your music library: {err}.", f"打不开音乐库：{err}。")
            ) from err
        if not tracks:
            raise ActionError(
                ctx.say_in(
                    f"Your music library at {library.folder} has no songs I can play.",
                    f"你的音乐库（{library.folder}）里没有可以播放的歌。",
                )
            )
        return library, tracks

    # --- actions --------------------------------------------------------------------------------

    @action
    async def play(
        self, ctx: Context, query: str | None = None, mood: MoodName | None = None
    ) -> Reply:
        """Play music: a song, artist, album or genre by name, a mood, or everything shuffled.

        Args:
            query: what to play — a song title, artist, album or genre; everything when not given
            mood: calm, upbeat, sad or focus
        """
        library, tracks = await self._tracks(ctx)
        if query is not None and normalise(query) in _ANYTHING:
            query = None
        mood = mood or _as_mood(mood_of(query))
        if mood is not None:
            queue = await asyncio.to_thread(
                mood_queue, library, tracks, mood, self._encoder, self._rng
            )
            if not queue:
                zh_mood = _MOOD_NAMES[mood]
                return ctx.reply(
                    ctx.say_in(
                        f"Nothing in your library sounds {mood} to me.",
                        f"你的音乐库里没有{zh_mood}的歌。",
                    ),
                    "No match",
                    f"Nothing {mood} in the library",
                )
            self.player.start(queue, f"Mood: {mood}")
            lead = "Music to focus: " if mood == "focus" else f"Something {mood}: "
            return self._playing(ctx, ctx.say_in(lead, f"{_MOOD_NAMES[mood]}的音乐："))
        if query is None:
            queue = list(tracks)
            self._rng.shuffle(queue)
            self.player.start(queue, "Shuffle")
            return self._playing(ctx, ctx.say_in("Shuffling your library. ", "随机播放。"))
        found = await asyncio.to_thread(best_match, query, tracks)
        if found is None:
            return ctx.reply(
                ctx.say_in(f"I can't find {query} in your library.", f"音乐库里没有找到{query}。"),
                "Not in your library",
                _fit(query),
                "Try a song, artist or album",
            )
        self.player.start(_queue_for(found, tracks, self._rng), _source(found))
        lead = {
            "artist": ctx.say_in(f"Songs by {found.value}: ", f"{found.value}的歌："),
            "album": ctx.say_in(f"The album {found.value}: ", f"专辑《{found.value}》："),
            "genre": ctx.say_in(f"Some {found.value}: ", f"{found.value}音乐："),
        }.get(found.field, "")
        return self._playing(ctx, lead)

    @action
    def pause(self, ctx: Context) -> Reply:
        """Pause the music."""
        if self.player.state == "stopped" or self.player.current is None:
            return self._nothing(ctx)
        if self.player.state == "paused":
            return self._playing(ctx, ctx.say_in("Already paused. ", "已经暂停了。"))
        self.player.state = "paused"
        return self._playing(ctx, ctx.say_in("Paused. ", "已暂停。"), speak_track=False)

    @action
    def resume(self, ctx: Context) -> Reply:
        """Carry on playing after a pause."""
        if self.player.current is None:
            return self._nothing(ctx)
        already = self.player.state == "playing"
        self.player.state = "playing"
        said = ctx.say_in(
            "Already playing: " if already else "Resuming ", "正在播放：" if already else "继续播放"
        )
        return self._playing(ctx, said)

    @action
    def next(self, ctx: Context) -> Reply:
        """Skip to the next song in the queue."""
        if self.player.current is None:
            return self._nothing(ctx)
        if not self._step(+1):
            return self._playing(
                ctx,
                ctx.say_in("That's the last song in the queue. ", "这是队列里最后一首。"),
                speak_track=False,
            )
        self.player.state = "playing"
        return self._playing(ctx, "")

    @action
    def previous(self, ctx: Context) -> Reply:
        """Go back to the previous song (or the start of the first one)."""
        if self.player.current is None:
            return self._nothing(ctx)
        self._step(-1)
        self.player.state = "playing"
        return self._playing(ctx, "")

    @action
    def now_playing(self, ctx: Context) -> Reply:
        """Say which song is playing, by whom, from which album."""
        if self.player.current is None:
            return self._nothing(ctx)
        return self._playing(ctx, "")

    @action
    async def rescan(self, ctx: Context) -> Reply:
        """Look for new, changed and removed files in the music library."""
        library, tracks = await self._tracks(ctx, rescan=True)
        skipped = len(library.unreadable())
        said = ctx.say_in(
            f"Your library has {len(tracks)} songs.", f"音乐库里有{len(tracks)}首歌。"
        )
        lines = [f"{len(tracks)} songs"]
        if skipped:
            said += ctx.say_in(f" {skipped} files could not be read.", f"{skipped}个文件无法读取。")
            lines.append(f"{skipped} unreadable files skipped")
        return ctx.reply(said, "Music library", *lines, songs=len(tracks), skipped=skipped)

    def _step(self, by: int) -> bool:
        """Move along the queue past files deleted since the scan; False at either end."""
        player, target = self.player, self.player.index + by
        while 0 <= target < len(player.queue) and not player.queue[target].path.is_file():
            del player.queue[target]
            self._scanned_at = 0.0
            target = target if by > 0 else target - 1
            player.index -= 0 if by > 0 else 1
        if not 0 <= target < len(player.queue):
            return False
        player.index = target
        return True

    # --- replies --------------------------------------------------------------------------------

    def _nothing(self, ctx: Context) -> Reply:
        return ctx.reply(
            ctx.say_in("Nothing is playing. Say 'play music'.", "现在没有在播放。请说“播放音乐”。"),
            "Nothing playing",
            "Say: play music",
            state="stopped",
        )

    def _playing(self, ctx: Context, lead: str, speak_track: bool = True) -> Reply:
        """The 'Now playing' card; a file gone since the last scan is skipped over."""
        player = self.player
        while player.current is not None and not player.current.path.is_file():
            del player.queue[player.index]
            player.index = min(player.index, max(0, len(player.queue) - 1))
            self._scanned_at = 0.0
        track = player.current
        if track is None:
            player.state = "stopped"
            raise ActionError(
                ctx.say_in(
                    "Those songs are no longer in your library.", "这些歌已经不在音乐库里了。"
                )
            )
        artist = track.artist or ctx.say_in("unknown artist", "未知歌手")
        speech = lead
        if speak_track:
            speech += ctx.say_in(f"{track.title} by {artist}.", f"{artist}的《{track.title}》。")
        title = {"playing": "Now playing", "paused": "Paused", "stopped": "Stopped"}[player.state]
        position = f"{player.index + 1} of {len(player.queue)}"
        rows = [
            CardRow(label=_fit(track.title), highlight=True),
            CardRow(label=_fit(artist)),
            *([CardRow(label=_fit(track.album))] if track.album else []),
            CardRow(label=position, value=_clock(track.duration_s)),
        ]
        data: dict[str, Any] = {
            "track": track.as_data(),
            "state": player.state,
            "queue": {"position": player.index + 1, "length": len(player.queue)},
            "source": player.source,
        }
        card = Card(
            layout="message",
            title=title[:TITLE_CHARS],
            subtitle=_fit(player.source),
            rows=tuple(rows),
        )
        return Reply(speech.strip(), card, data)


def _queue_for(found: Match, tracks: list[Track], rng: random.Random) -> list[Track]:
    """A song and then the rest of its artist's; an album in order; an artist or genre mixed."""
    if found.field == "title":
        first = found.tracks[0]
        rest = [t for t in tracks if t.artist == first.artist and t not in found.tracks]
        return [*found.tracks, *rest]
    queue = list(found.tracks)
    if found.field == "album":
        return sorted(queue, key=lambda t: (t.track_no or 0, t.title))
    rng.shuffle(queue)
    return queue


def _source(found: Match) -> str:
    return {"title": "Song", "artist": "Artist", "album": "Album", "genre": "Genre"}[
        found.field
    ] + f": {found.value}"


def _as_mood(name: str | None) -> MoodName | None:
    moods: dict[str | None, MoodName] = {
        "calm": "calm",
        "upbeat": "upbeat",
        "sad": "sad",
        "focus": "focus",
    }
    return moods.get(name)


def _fit(text: str, width: int = ROW_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"

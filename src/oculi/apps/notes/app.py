"""The notes app: dictate a note, list the latest, find one again by words or by meaning."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oculi.agent.embedding import Encoder, shared_encoder
from oculi.apps.notes.store import Note, NotesError, NoteStore
from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.apps.text import as_said, clip, rows, title
from oculi.events import Card, CardRow

MAX_NOTE_CHARS = 2000
LIST_ROWS = 5


class NotesApp(App):
    name = "notes"
    description = "Dictated notes: write one down, list the latest, find one by what it was about."
    permissions = ("storage",)
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, db_path: Path, encoder: Encoder | None = None) -> None:
        self._store = NoteStore(db_path, encoder or shared_encoder())

    @action
    async def add(self, ctx: Context, text: str) -> Reply:
        """Write down a note the wearer dictates.

        Args:
            text: what to note, in the wearer's words
        """
        text = as_said(text, ctx.text)
        if len(text) > MAX_NOTE_CHARS:
            raise ActionError(
                ctx.say_in(
                    f"That note is too long; keep it under {MAX_NOTE_CHARS} characters.",
                    f"这条笔记太长了，请少于{MAX_NOTE_CHARS}个字。",
                )
            )
        with _readable(ctx):
            note = await asyncio.to_thread(self._store.add, text)
        speech = ctx.say_in(f"Noted: {clip(text, 200)}", f"记好了：{clip(text, 200)}")
        return _card(speech, f"Note {note.id} saved", rows(text, 4), note=note.id)

    @action
    def recent(self, ctx: Context) -> Reply:
        """List the most recent notes, newest first."""
        with _readable(ctx):
            notes = self._store.recent(LIST_ROWS)
            total = self._store.count() if notes else 0
        if not notes:
            return _no_notes(ctx)
        latest = clip(notes[0].text, 160)
        speech = ctx.say_in(
            f"You have {total} note{'s' if total != 1 else ''}. The latest: {latest}",
            f"你有{total}条笔记。最新一条：{latest}",
        )
        return _card(speech, f"Notes ({total})", [_row(n) for n in notes], notes=_ids(notes))

    @action
    async def search(self, ctx: Context, query: str | None = None) -> Reply:
        """Find notes about something, by meaning and by the words in them.

        Args:
            query: what the note was about; the wearer's whole question when not given
        """
        query = as_said(query, ctx.text) if query else ctx.text
        if not query.strip():
            raise ActionError(ctx.say_in("What should I look for?", "要找什么？"))
        with _readable(ctx):
            found = await asyncio.to_thread(self._store.search, query)
        if not found:
            return _card(
                ctx.say_in(
                    f"I found no note about {clip(query, 80)}.",
                    f"没找到关于{clip(query, 80)}的笔记。",
                ),
                "No note found",
                [clip(query, 36)],
                notes=[],
            )
        best = found[0]
        more = len(found) - 1
        speech = ctx.say_in(
            f"Note {best.id}, {_when(best, 'en')}: {clip(best.text, 200)}"
            + (f" And {more} more." if more else ""),
            f"第{best.id}条，{_when(best, 'zh')}：{clip(best.text, 200)}"
            + (f" 还有{more}条。" if more else ""),
        )
        return _card(speech, title(f"Notes: {query}"), [_row(n) for n in found], notes=_ids(found))

    @action
    def delete_last(self, ctx: Context) -> Reply:
        """Delete the most recent note; the wearer confirms first."""
        with _readable(ctx):
            latest = self._store.recent(1)
        if not latest:
            return _no_notes(ctx)
        return self._delete(ctx, latest[0])

    @action
    def delete(self, ctx: Context, number: int) -> Reply:
        """Delete a note by its number; the wearer confirms first.

        Args:
            number: the note's number, as lists and search results show it
        """
        with _readable(ctx):
            note = self._store.get(number)
        if note is None:
            return ctx.reply(
                ctx.say_in(f"There is no note number {number}.", f"没有第{number}条笔记。"),
                "No such note",
                f"Note {number} not found",
                "Try: list my notes",
            )
        return self._delete(ctx, note)

    def _delete(self, ctx: Context, note: Note) -> Reply:
        short = clip(note.text, 60)
        if not ctx.confirmed:
            return ctx.confirm(
                ctx.say_in(
                    f"Delete note {note.id}, {short}? Say yes or no.",
                    f"删除第{note.id}条笔记“{short}”吗？请说确认或取消。",
                ),
                Card(
                    layout="message",
                    title=f"Delete note {note.id}?",
                    rows=(CardRow(label=clip(note.text, 36)), CardRow(label="Say yes or no")),
                ),
            )
        with _readable(ctx):
            gone = self._store.delete(note.id)
        if not gone:
            return ctx.reply(
                ctx.say_in("That note is already gone.", "那条笔记已经删掉了。"), "Already deleted"
            )
        return _card(
            ctx.say_in(f"Deleted note {note.id}.", f"已删除第{note.id}条笔记。"),
            f"Note {note.id} deleted",
            [clip(note.text, 36)],
            deleted=note.id,
        )


@contextmanager
def _readable(ctx: Context) -> Iterator[None]:
    """A notes file that cannot be used is said to the wearer, never half-written."""
    try:
        yield
    except NotesError as err:
        raise ActionError(
            ctx.say_in(f"I can't reach your notes: {err}.", f"无法读取笔记：{err}。")
        ) from err


def _no_notes(ctx: Context) -> Reply:
    return ctx.reply(
        ctx.say_in("You have no notes yet.", "你还没有笔记。"),
        "No notes yet",
        "Try: note that …",
        notes=[],
    )


def _card(speech: str, heading: str, lines: list[str], **data: object) -> Reply:
    card = Card(layout="message", title=title(heading), rows=tuple(CardRow(label=s) for s in lines))
    return Reply(speech, card, data)


def _row(note: Note) -> str:
    return clip(f"{note.id}. {note.text}", 36)


def _ids(notes: list[Note]) -> list[int]:
    return [n.id for n in notes]


def _when(note: Note, language: str) -> str:
    stamp = time.localtime(note.created)
    if language == "zh":
        return f"{stamp.tm_mon}月{stamp.tm_mday}日{stamp.tm_hour}:{stamp.tm_min:02d}"
    return time.strftime("%b %d, %H:%M", stamp)

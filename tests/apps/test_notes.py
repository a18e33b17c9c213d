"""The notes app driven by words through a real agent: dictate, list, search, delete."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from agent_driver import ALL_INTENTS, answer, assert_fits_lens, intent, parser_for, say

from oculi.agent.dialogue import Agent
from oculi.agent.embedding import ExampleIndex, shared_encoder
from oculi.apps.notes.app import NotesApp
from oculi.apps.notes.store import NotesError, NoteStore, fuse, match_expression
from oculi.apps.sdk import App
from oculi.apps.system.app import SystemApp
from oculi.events import ErrorEvent


def make_agent(db: Path, index: ExampleIndex | None = None) -> Agent:
    apps: list[App] = [NotesApp(db_path=db), SystemApp()]
    parser = parser_for(*[a.intents_file for a in apps if a.intents_file])
    return Agent(apps, parser, index=index, data_dir=db.parent / "data")


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    return make_agent(tmp_path / "notes.sqlite")


def test_a_dictated_note_is_kept_with_its_punctuation_and_listed(agent: Agent) -> None:
    events = say(agent, "Note that the gate code is 4711, not 4771.")
    assert (intent(events).app, intent(events).action) == ("notes", "add")
    assert "the gate code is 4711, not 4771." in answer(events).speech
    assert_fits_lens(answer(events).card)

    listed = say(agent, "list my notes")
    assert intent(listed).action == "recent"
    assert "4711, not 4771" in answer(listed).speech
    assert_fits_lens(answer(listed).card)


def test_notes_survive_a_new_session(tmp_path: Path) -> None:
    db = tmp_path / "notes.sqlite"
    say(make_agent(db), "remember that the spare key is with Anna")
    listed = say(make_agent(db), "show my notes")
    assert "spare key is with Anna" in answer(listed).speech
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_search_finds_the_note_by_its_words(agent: Agent) -> None:
    say(agent, "note that I parked on level B2, spot 114")
    say(agent, "note that the dentist appointment is Thursday at 3")
    events = say(agent, "what did I note about the parking")
    assert intent(events).action == "search"
    reply = answer(events)
    assert "level B2" in reply.speech
    assert "dentist" not in reply.speech
    assert_fits_lens(reply.card)


def test_search_finds_a_note_by_meaning_when_no_word_is_shared(tmp_path: Path) -> None:
    store = NoteStore(tmp_path / "notes.sqlite", shared_encoder())
    store.add("the car is on level B2, spot 114")
    shopping = store.add("buy milk, eggs and bread")
    wifi = store.add("the wifi password is tiger42")
    for query, note in [("groceries", shopping), ("internet", wifi), ("密码", wifi)]:
        assert store.word_hits(query) == []
        assert [n.id for n in store.search(query)] == [note.id], query


def test_an_unrelated_query_finds_nothing(agent: Agent) -> None:
    say(agent, "note that I parked on level B2, spot 114")
    say(agent, "note that Lisa's birthday is on June 3rd")
    events = say(agent, "what did I note about quantum physics")
    card = answer(events).card
    assert card is not None and card.title == "No note found"
    assert not [e for e in events if isinstance(e, ErrorEvent)]


def test_chinese_notes_are_searched_by_characters(agent: Agent) -> None:
    say(agent, "记一下明天给妈妈打电话")
    say(agent, "记一下周五交报告")
    events = say(agent, "我关于妈妈记了什么")
    reply = answer(events)
    assert intent(events).action == "search"
    assert reply.language == "zh"
    assert "妈妈" in reply.speech and "报告" not in reply.speech


def test_chinese_queries_index_character_pairs_not_whole_runs() -> None:
    expression = match_expression("关于停车的事")
    assert expression == 'grams : "停车"'
    assert match_expression("what did I note about the") is None
    assert match_expression("the parking") == 'words : "parking"'


def test_fusion_ranks_an_id_found_both_ways_first() -> None:
    assert fuse([[1, 2, 3], [3, 4]])[0] == 3
    assert fuse([[], []]) == []


def test_deleting_the_last_note_asks_first_and_no_keeps_it(agent: Agent) -> None:
    say(agent, "note that first thing")
    say(agent, "note that second thing")
    asked = say(agent, "delete the last note")
    assert "second thing" in answer(asked).speech
    say(agent, "no")
    assert "second thing" in answer(say(agent, "list my notes")).speech

    say(agent, "delete the last note")
    done = say(agent, "yes")
    assert intent(done).action == "delete_last"
    assert "Deleted" in answer(done).speech
    listed = answer(say(agent, "list my notes")).speech
    assert "second thing" not in listed and "first thing" in listed


def test_delete_by_number_and_unknown_numbers(agent: Agent) -> None:
    say(agent, "note that keep me")
    say(agent, "note that drop me")
    unknown = say(agent, "delete note 99")
    assert "99" in answer(unknown).speech
    assert not [e for e in unknown if isinstance(e, ErrorEvent)]

    say(agent, "delete note number two")
    say(agent, "yes")
    listed = answer(say(agent, "list my notes")).speech
    assert "drop me" not in listed and "keep me" in listed


def test_a_note_without_text_is_asked_for(agent: Agent) -> None:
    asked = say(agent, "take a note")
    assert answer(asked).speech == "What should I write?"
    say(agent, "call the plumber")
    assert "call the plumber" in answer(say(agent, "list my notes")).speech


def test_empty_notebook_gives_a_clear_reply(agent: Agent) -> None:
    for text in ("list my notes", "delete the last note", "what did I note about keys"):
        events = say(agent, text)
        assert answer(events).speech
        assert not [e for e in events if isinstance(e, ErrorEvent)]


def test_a_damaged_notes_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    agent = make_agent(db)
    events = say(agent, "note that this must not be lost")
    assert [e for e in events if isinstance(e, ErrorEvent)]
    assert "notes" in answer(events).speech
    assert db.read_bytes() == b"this is not a database" * 100
    assert intent(say(agent, "what can you do")).action == "help"


def test_a_failed_write_leaves_no_half_note(tmp_path: Path) -> None:
    db = tmp_path / "notes.sqlite"
    store = NoteStore(db, shared_encoder())
    store.add("a whole note")
    sqlite3.connect(db).execute("DROP TABLE notes_fts")
    with pytest.raises(NotesError):
        store.add("half a note")
    texts = [r[0] for r in sqlite3.connect(db).execute("SELECT text FROM notes")]
    assert texts == ["a whole note"]


def test_paraphrases_reach_notes_through_the_embedding_tier(tmp_path: Path) -> None:
    parser = parser_for(*ALL_INTENTS)
    index = ExampleIndex(parser.labelled(), shared_encoder())
    apps: list[App] = [NotesApp(db_path=tmp_path / "notes.sqlite"), SystemApp()]
    agent = Agent(apps, parser, index=index, data_dir=tmp_path)
    say(agent, "note that the wifi password is tiger42")
    for text, action in [
        ("could you show me the notes I wrote", "recent"),
        ("anything in my notes about the wifi", "search"),
        ("让我看看之前写下来的东西", "recent"),
    ]:
        events = say(agent, text)
        assert (intent(events).app, intent(events).action, intent(events).path) == (
            "notes",
            action,
            "embedding",
        ), text
        assert "tiger42" in answer(events).speech, text

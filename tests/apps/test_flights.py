"""The flights app: saved bookings, recorded status, reminders on a fixed clock, airports."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from oculi.agent.dialogue import Agent
from oculi.agent.embedding import ExampleIndex, shared_encoder
from oculi.agent.parser import IntentParser
from oculi.apps.flights.app import FlightsApp
from oculi.apps.flights.bookings import (
    BookingError,
    BookingStore,
    parse_day,
    parse_flight,
    split_flight_day,
)
from oculi.apps.flights.data import ATTRIBUTION, FlightData, load_builtin, load_openflights
from oculi.apps.flights.status import (
    DEMO_RECORDING,
    RecordedStatusProvider,
    StatusUnavailable,
    due_reminders,
    load_recording,
)
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Event, Intent

FRANKFURT = timezone(timedelta(hours=1))
TODAY = date(2026, 11, 20)


class Clock:
    """A fixed, settable clock: reminders are tested at chosen moments."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def builtin() -> FlightData:
    return load_builtin()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 9, 0, tzinfo=FRANKFURT))


def _agent(app: FlightsApp, tmp_path: Path, index: ExampleIndex | None = None) -> Agent:
    apps = [app, SystemApp()]
    parser = IntentParser([a.intents_file for a in apps if a.intents_file])
    return Agent(apps, parser, index=index, data_dir=tmp_path / "data")


def _say(agent: Agent, text: str) -> tuple[Intent, Answer, list[ErrorEvent]]:
    events: list[Event] = asyncio.run(agent.handle(text))
    intent = next(e for e in events if isinstance(e, Intent))
    answer = next(e for e in reversed(events) if isinstance(e, Answer))
    return intent, answer, [e for e in events if isinstance(e, ErrorEvent)]


def _fits_the_lens(answer: Answer) -> None:
    card = answer.card
    assert card is not None
    assert len(card.title) <= 28, card.title
    assert len(card.rows) <= 5
    for row in card.rows:
        assert len(row.label) + len(row.value) <= 36, row


# --- flight numbers and days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flight"),
    [
        ("lh400", "LH400"),
        ("LH 400", "LH400"),
        ("L H 400", "LH400"),
        ("lh-0400", "LH400"),
        ("Lufthansa 400", "LH400"),
        ("lufthansa flight 400", "LH400"),
        ("DLH400", "LH400"),
        ("flight CA 981", "CA981"),
        ("Air China 981", "CA981"),
        ("国航981", "CA981"),
        ("3U8888", "3U8888"),
        ("U2 1234", "U21234"),
        ("BA 117a", "BA117A"),
    ],
)
def test_flight_numbers_are_normalised(builtin: FlightData, text: str, flight: str) -> None:
    assert str(parse_flight(text, builtin)) == flight


@pytest.mark.parametrize("text", ["XX123", "Acme Air 12", "hello", "", "LH 0", "400"])
def test_unknown_airlines_and_non_numbers_are_refused(builtin: FlightData, text: str) -> None:
    with pytest.raises(BookingError):
        parse_flight(text, builtin)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("3 December", date(2026, 12, 3)),
        ("December 3rd", date(2026, 12, 3)),
        ("the 3rd of december", date(2026, 12, 3)),
        ("dec 3 2027", date(2027, 12, 3)),
        ("tomorrow", date(2026, 11, 21)),
        ("today", TODAY),
        ("friday", date(2026, 11, 20)),
        ("next monday", date(2026, 11, 23)),
        ("3 January", date(2027, 1, 3)),
        ("明天", date(2026, 11, 21)),
        ("12月3日", date(2026, 12, 3)),
        ("2027年1月5号", date(2027, 1, 5)),
        ("周一", date(2026, 11, 23)),
    ],
)
def test_days_as_people_say_them(text: str, day: date) -> None:
    assert parse_day(text, TODAY) == day


@pytest.mark.parametrize("text", ["31 February", "2026-13-01", "banana", "someday soon", ""])
def test_impossible_days_are_refused(text: str) -> None:
    with pytest.raises(BookingError):
        parse_day(text, TODAY)


@pytest.mark.parametrize(
    ("text", "flight", "day"),
    [
        ("LH 400 on 2026-12-03", "LH 400", date(2026, 12, 3)),
        ("lufthansa 400 for 3 december", "lufthansa 400", date(2026, 12, 3)),
        ("CA981 tomorrow", "CA981", date(2026, 11, 21)),
        ("MU5101 12月6日", "MU5101", date(2026, 12, 6)),
        ("LH 400", "LH 400", None),
    ],
)
def test_a_flight_slot_that_swallowed_its_day_is_split(
    text: str, flight: str, day: date | None
) -> None:
    assert split_flight_day(text, TODAY) == (flight, day)


# --- the built-in table and OpenFlights ---------------------------------------------------------


def test_builtin_table_is_complete_and_consistent(builtin: FlightData) -> None:
    assert len(builtin.airports) >= 60 and len(builtin.airlines) >= 40
    assert len({a.iata for a in builtin.airports}) == len(builtin.airports)
    assert len({a.iata for a in builtin.airlines}) == len(builtin.airlines)
    for airport in builtin.airports:
        assert airport.iata and len(airport.iata) == 3 and airport.icao and len(airport.icao) == 4
        assert -90 <= airport.lat <= 90 and -180 <= airport.lon <= 180
        assert airport.tz is not None
        zoneinfo.ZoneInfo(airport.tz)
    assert builtin.attribution == ""


def test_builtin_table_agrees_with_openflights(builtin: FlightData, shared_data: Path) -> None:
    folder = shared_data / "flights" / "openflights"
    if not (folder / "airports.dat").is_file():
        pytest.skip("OpenFlights data not in ../shared/data")
    openflights = load_openflights(folder)
    agree = 0
    for airport in builtin.airports:
        other = openflights.airport(airport.iata or "")
        if (
            other is not None
            and other.icao == airport.icao
            and abs(other.lat - airport.lat) < 0.1
            and abs(other.lon - airport.lon) < 0.1
        ):
            agree += 1
    assert agree >= 0.9 * len(builtin.airports)
    assert openflights.attribution == ATTRIBUTION
    assert len(openflights.airports) > 5000 and len(openflights.airlines) > 1000


def test_openflights_cards_credit_openflights(
    shared_data: Path, tmp_path: Path, clock: Clock
) -> None:
    folder = shared_data / "flights" / "openflights"
    if not (folder / "airports.dat").is_file():
        pytest.skip("OpenFlights data not in ../shared/data")
    app = FlightsApp(tmp_path / "flights", openflights_dir=folder, clock=clock)
    agent = _agent(app, tmp_path)
    _, answer, _ = _say(agent, "what airport is GKA")  # Goroka: only OpenFlights knows it
    assert answer.card is not None and "OpenFlights" in answer.card.footer
    assert "Goroka" in answer.speech
    _fits_the_lens(answer)
    _, answer, errors = _say(agent, "add flight Lufthansa 400 on 3 December")
    assert not errors and "LH400" in answer.speech
    _, answer, _ = _say(agent, "status of LH400")
    assert answer.card is not None and answer.card.footer == ATTRIBUTION


def test_builtin_airports_need_no_credit(tmp_path: Path, clock: Clock) -> None:
    agent = _agent(FlightsApp(tmp_path / "flights", clock=clock), tmp_path)
    _, answer, _ = _say(agent, "what airport is GKA")
    assert "don't know" in answer.speech
    _, answer, _ = _say(agent, "what airport is PVG")
    assert answer.card is not None and answer.card.footer == ""


def test_broken_openflights_folder_falls_back_and_says_so(tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "openflights"
    folder.mkdir()
    (folder / "airports.dat").write_text("garbage,\n", encoding="utf-8")
    agent = _agent(FlightsApp(tmp_path / "flights", openflights_dir=folder, clock=clock), tmp_path)
    _, answer, errors = _say(agent, "what airport is PVG")
    assert not errors
    assert "built-in" in answer.speech and "Pudong" in answer.speech
    _, answer, _ = _say(agent, "what airport is LHR")
    assert "built-in" not in answer.speech


# --- bookings -----------------------------------------------------------------------------------


def test_bookings_persist_once_per_flight_and_day_in_wal(tmp_path: Path) -> None:
    store = BookingStore(tmp_path)
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    first, created = store.add("LH400", date(2026, 12, 3), now)
    again, created_again = store.add("LH400", date(2026, 12, 3), now)
    assert created and not created_again and first == again
    store.add("LH400", date(2026, 12, 10), now)
    reopened = BookingStore(tmp_path)
    assert [b.day for b in reopened.find("LH400")] == [date(2026, 12, 3), date(2026, 12, 10)]
    assert reopened.remove(first.id) and not reopened.remove(first.id)
    with sqlite3.connect(tmp_path / "bookings.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_list_status_and_remove_by_voice(tmp_path: Path, clock: Clock) -> None:
    app = FlightsApp(tmp_path / "flights", clock=clock)
    agent = _agent(app, tmp_path)
    intent, answer, errors = _say(agent, "add flight LH 400 on 2026-12-03")
    assert (intent.app, intent.action) == ("flights", "add_booking") and not errors
    assert answer.card is not None and answer.card.title == "Flight saved"
    assert "LH400" in answer.speech
    _, answer, _ = _say(agent, "save my flight Air China 981 on December 5")
    assert "CA981" in answer.speech
    _, answer, _ = _say(agent, "add flight lh400 on 3 December")
    assert answer.card is not None and answer.card.title == "Already saved"

    intent, answer, _ = _say(agent, "list my flights")
    assert intent.action == "list_bookings"
    assert answer.card is not None
    assert [r.label for r in answer.card.rows] == ["LH400", "CA981"]
    _fits_the_lens(answer)

    intent, answer, _ = _say(agent, "is my flight on time")
    assert (intent.action, intent.args) == ("status", {})
    assert "LH400" in answer.speech and "FRA" in answer.card.rows[0].label  # type: ignore[union-attr]

    intent, answer, _ = _say(agent, "remove flight CA981")
    assert intent.action == "remove_booking" and "?" in answer.speech
    assert len(app._store.saved()) == 2  # nothing removed before the yes
    _, answer, _ = _say(agent, "no")
    assert len(app._store.saved()) == 2
    _say(agent, "remove flight CA981")
    _, answer, errors = _say(agent, "yes")
    assert not errors and "Removed" in answer.speech
    assert [b.flight for b in app._store.saved()] == ["LH400"]


def test_chinese_booking_and_status(tmp_path: Path, clock: Clock) -> None:
    agent = _agent(FlightsApp(tmp_path / "flights", clock=clock), tmp_path)
    intent, answer, errors = _say(agent, "添加12月6日的航班MU5101")
    assert intent.args == {"date": "12月6日", "flight": "MU5101"} and not errors
    assert answer.language == "zh" and "MU5101" in answer.speech
    intent, answer, _ = _say(agent, "我的航班准时吗")
    assert intent.action == "status"
    assert "准点" in answer.speech and "北京" in answer.speech
    intent, answer, _ = _say(agent, "PVG是哪个机场")
    assert intent.action == "airport" and "浦东" in answer.speech
    intent, answer, _ = _say(agent, "国航是哪家航空公司")
    assert intent.action == "airline" and "CA" in answer.speech


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("add flight XX 123 on 3 December", "XX"),
        ("add flight LH 400 on 31 February", "31 February"),
        ("add flight LH 400 on banana", "banana"),
        ("add flight LH 400 on 2026-01-05", "passed"),
        ("add flight BA117", "which day"),
        ("remove flight LH 999", "no saved booking"),
        ("status of QF1", "no status"),
        ("status of XX1", "XX"),
        ("what airport is XYZ", "don't know"),
        ("is flight my plane delayed", "no saved flights"),
        ("which airline is ZZ", "don't know"),
    ],
)
def test_bad_input_gets_a_clear_reply(tmp_path: Path, clock: Clock, text: str, said: str) -> None:
    agent = _agent(FlightsApp(tmp_path / "flights", clock=clock), tmp_path)
    intent, answer, errors = _say(agent, text)
    assert intent.app == "flights"
    assert said.lower() in answer.speech.lower()
    if not errors:  # the agent draws the card of an error itself
        _fits_the_lens(answer)
    assert _say(agent, "list my flights")[0].action == "list_bookings"


def test_status_without_bookings_asks_which_flight(tmp_path: Path, clock: Clock) -> None:
    agent = _agent(FlightsApp(tmp_path / "flights", clock=clock), tmp_path)
    _, answer, errors = _say(agent, "flight status")
    assert not errors and "which flight" in answer.speech.lower()


# --- recorded status and reminders --------------------------------------------------------------


def test_recorded_status_replays_snapshots_as_the_clock_moves(clock: Clock) -> None:
    provider = RecordedStatusProvider(clock=clock)
    day = date(2026, 12, 3)
    clock.now = datetime(2026, 12, 2, 12, 0, tzinfo=FRANKFURT)
    early = asyncio.run(provider.status("LH400", day))
    assert early is not None and early.gate == "Z25" and early.delay == timedelta(0)
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=FRANKFURT)
    later = asyncio.run(provider.status("LH400", day))
    assert later is not None and later.gate == "Z20" and later.previous_gate == "Z25"
    assert later.delay == timedelta(minutes=30)
    assert asyncio.run(provider.status("LH400")) == later  # the next departure by default
    assert asyncio.run(provider.status("LH400", date(2026, 12, 4))) is None
    assert asyncio.run(provider.status("ZZ1")) is None


def test_demo_recording_covers_flights_the_demo_books() -> None:
    flights = {s.flight for s in load_recording(DEMO_RECORDING)}
    assert {"LH400", "CA981", "BA117", "MU5101"} <= flights


@pytest.mark.parametrize(
    "body", ["not json", "{}", '{"flights": [{"flight": "LH1"}]}', '{"flights": 3}']
)
def test_malformed_recording_is_a_clear_error(tmp_path: Path, clock: Clock, body: str) -> None:
    path = tmp_path / "recording.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(StatusUnavailable, match="recording"):
        load_recording(path)
    app = FlightsApp(
        tmp_path / "flights", provider=RecordedStatusProvider(path, clock), clock=clock
    )
    _, answer, errors = _say(_agent(app, tmp_path), "status of LH400")
    assert errors and "unavailable" in answer.speech


def _reminders_at(moment: datetime, tmp_path: Path, said: set[str] | None = None) -> list[str]:
    clock = Clock(moment)
    app = FlightsApp(tmp_path / "flights", clock=clock)
    store = BookingStore(tmp_path / "flights")
    store.add("LH400", date(2026, 12, 3), moment)
    store.add("BA117", date(2026, 12, 4), moment)
    return [f"{r.kind}:{r.flight}" for r in asyncio.run(app.due(said))]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 1, 12, 0, tzinfo=FRANKFURT), []),
        (datetime(2026, 12, 2, 12, 0, tzinfo=FRANKFURT), []),
        (datetime(2026, 12, 3, 8, 45, tzinfo=FRANKFURT), ["delay:LH400", "gate_change:LH400"]),
        (
            datetime(2026, 12, 3, 9, 55, tzinfo=FRANKFURT),
            ["delay:LH400", "gate_change:LH400", "boarding:LH400"],
        ),
        (datetime(2026, 12, 3, 10, 40, tzinfo=FRANKFURT), []),
        (datetime(2026, 12, 3, 19, 0, tzinfo=UTC), ["cancelled:BA117"]),
    ],
)
def test_reminders_on_a_fixed_clock(moment: datetime, expected: list[str], tmp_path: Path) -> None:
    assert _reminders_at(moment, tmp_path) == expected


def test_boarding_is_due_40_minutes_before_departure_without_a_boarding_time() -> None:
    from oculi.apps.flights.bookings import Booking
    from oculi.apps.flights.status import FlightStatus

    departs = datetime(2026, 12, 5, 13, 0, tzinfo=timezone(timedelta(hours=8)))
    status = FlightStatus("CA981", departs.date(), "PEK", "JFK", departs, gate="E21")
    booking = Booking(1, "CA981", departs.date(), departs - timedelta(days=9))
    statuses = {("CA981", departs.date()): status}
    assert due_reminders([booking], statuses, departs - timedelta(minutes=41)) == []
    due = due_reminders([booking], statuses, departs - timedelta(minutes=40))
    assert [r.kind for r in due] == ["boarding"]
    assert due_reminders([booking], statuses, departs - timedelta(minutes=5), {due[0].key}) == []


def test_each_reminder_is_told_once_and_asked_for_any_time(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 3, 8, 45, tzinfo=FRANKFURT))
    app = FlightsApp(tmp_path / "flights", clock=clock)
    agent = _agent(app, tmp_path)
    _say(agent, "add flight LH 400 on 3 December")
    assert [r.kind for r in asyncio.run(app.pending_reminders())] == ["delay", "gate_change"]
    assert asyncio.run(app.pending_reminders()) == []
    clock.now = datetime(2026, 12, 3, 9, 50, tzinfo=FRANKFURT)
    assert [r.kind for r in asyncio.run(app.pending_reminders())] == ["boarding"]
    intent, answer, _ = _say(agent, "flight reminders")
    assert intent.action == "reminders"
    assert "Z20" in answer.speech and len(answer.card.rows) == 3  # type: ignore[union-attr]
    _fits_the_lens(answer)
    intent, answer, _ = _say(agent, "status of LH400")
    assert answer.card is not None and answer.card.title == "LH400 Boarding"
    assert any("Z25" in r.label for r in answer.card.rows)
    _fits_the_lens(answer)


def test_a_live_provider_brings_the_network_permission(tmp_path: Path) -> None:
    class Live:
        needs_network = True

        async def status(self, flight: str, day: date | None = None) -> None:
            return None

    assert FlightsApp(tmp_path, provider=Live()).permissions == ("storage", "network")
    assert FlightsApp(tmp_path).permissions == ("storage",)
    assert json.loads(DEMO_RECORDING.read_text(encoding="utf-8"))["flights"]


def test_embedding_tier_catches_paraphrases(tmp_path: Path, clock: Clock) -> None:
    apps = [FlightsApp(tmp_path / "flights", clock=clock), SystemApp()]
    parser = IntentParser([a.intents_file for a in apps if a.intents_file])
    index = ExampleIndex(parser.labelled(), shared_encoder())
    for text, action in [
        ("will my flight leave on time", "status"),
        ("remove one of my saved flights", "remove_booking"),
        ("which flights have I got coming up", "list_bookings"),
        ("我的飞机什么时候起飞", "status"),
    ]:
        assert parser.parse(text) is None, text
        intent, _, _ = _say(Agent(apps, parser, index=index, data_dir=tmp_path), text)
        assert (intent.app, intent.action, intent.path) == ("flights", action, "embedding"), text

"""Flight status behind a provider interface, and the reminders it makes due.

Live status needs a network service; the app only knows the `StatusProvider` protocol. The
offline `RecordedStatusProvider` replays JSON recordings — snapshots of a flight over time —
so demos and tests see gates change and delays grow against a fixed clock. `due_reminders` is a
pure function of bookings, statuses and the time: the runtime decides when to ask.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from oculi.apps.flights.bookings import Booking
from oculi.errors import OculiError

DEMO_RECORDING = Path(__file__).with_name("demo_status.json")
STATUSES = ("scheduled", "boarding", "departed", "landed", "delayed", "cancelled", "diverted")
BOARDING_LEAD = timedelta(minutes=40)
"""Boarding starts this long before departure when the airline gives no boarding time."""
DELAY_WORTH_SAYING = timedelta(minutes=15)
HORIZON = timedelta(hours=24)
"""Reminders concern departures at most this far ahead."""


class StatusUnavailable(OculiError):
    """The status source failed (unreadable recording, service down); the message says which."""


@dataclass(frozen=True)
class FlightStatus:
    flight: str
    day: date
    origin: str
    destination: str
    scheduled_departure: datetime
    """Aware times, in the airport's local offset."""
    status: str = "scheduled"
    estimated_departure: datetime | None = None
    scheduled_arrival: datetime | None = None
    estimated_arrival: datetime | None = None
    terminal: str | None = None
    gate: str | None = None
    previous_gate: str | None = None
    """The gate before the last change, when it changed."""
    boarding: datetime | None = None
    as_of: datetime | None = None
    source: str = ""

    @property
    def departure(self) -> datetime:
        return self.estimated_departure or self.scheduled_departure

    @property
    def delay(self) -> timedelta:
        return max(timedelta(0), self.departure - self.scheduled_departure)

    @property
    def boarding_time(self) -> datetime:
        return self.boarding or self.departure - BOARDING_LEAD


class StatusProvider(Protocol):
    """Where flight status comes from. `needs_network` gives the app the network permission."""

    needs_network: bool

    async def status(self, flight: str, day: date | None = None) -> FlightStatus | None:
        """The flight on that day (its current or next one when None); None when unknown.

        Raises StatusUnavailable when the source itself fails.
        """
        ...


class RecordedStatusProvider:
    """Status replayed from a JSON recording: the latest snapshot of each flight as of now."""

    needs_network = False

    def __init__(
        self, path: Path = DEMO_RECORDING, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._snapshots: list[FlightStatus] | None = None

    def _load(self) -> list[FlightStatus]:
        if self._snapshots is None:
            self._snapshots = load_recording(self.path)
        return self._snapshots

    async def status(self, flight: str, day: date | None = None) -> FlightStatus | None:
        now = self._clock()
        mine = [s for s in self._load() if s.flight == flight]
        if day is None:
            days = sorted({s.day for s in mine})
            upcoming = [d for d in days if d >= now.date()]
            if not days:
                return None
            day = upcoming[0] if upcoming else days[-1]
        snapshots = sorted(
            (s for s in mine if s.day == day),
            key=lambda s: s.as_of or datetime.min.replace(tzinfo=UTC),
        )
        if not snapshots:
            return None
        seen = [s for s in snapshots if s.as_of is None or s.as_of <= now] or snapshots[:1]
        latest = seen[-1]
        if latest.previous_gate is None:
            gates = [s.gate for s in seen if s.gate]
            earlier = [g for g in gates if g != latest.gate]
            if latest.gate and earlier:
                latest = replace(latest, previous_gate=earlier[-1])
        return latest


def load_recording(path: Path) -> list[FlightStatus]:
    """Snapshots from a recording: `{"flights": [{"flight": "LH400", "date": ..., ...}]}`."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        entries = body["flights"]
        if not isinstance(entries, list):
            raise TypeError("'flights' must be a list")
        source = str(body.get("source", path.name))
        return [_snapshot(entry, source) for entry in entries]
    except OSError as err:
        raise StatusUnavailable(f"the status recording {path} cannot be read: {err}") from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise StatusUnavailable(f"the status recording {path} is malformed: {err!r}") from err


def _snapshot(entry: Mapping[str, Any], source: str) -> FlightStatus:
    status = str(entry.get("status", "scheduled"))
    if status not in STATUSES:
        raise ValueError(f"{entry.get('flight')}: unknown status {status!r}")

    def when(key: str) -> datetime | None:
        value = entry.get(key)
        if value is None:
            return None
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise ValueError(f"{entry.get('flight')}: {key} needs a UTC offset: {value}")
        return moment

    def text(key: str) -> str | None:
        value = entry.get(key)
        return None if value is None else str(value)

    departure = when("scheduled_departure")
    if departure is None:
        raise KeyError("scheduled_departure")
    return FlightStatus(
        flight=str(entry["flight"]).upper().replace(" ", ""),
        day=date.fromisoformat(str(entry["date"])),
        origin=str(entry["origin"]).upper(),
        destination=str(entry["destination"]).upper(),
        scheduled_departure=departure,
        status=status,
        estimated_departure=when("estimated_departure"),
        scheduled_arrival=when("scheduled_arrival"),
        estimated_arrival=when("estimated_arrival"),
        terminal=text("terminal"),
        gate=text("gate"),
        previous_gate=text("previous_gate"),
        boarding=when("boarding"),
        as_of=when("as_of"),
        source=source,
    )


# --- reminders ----------------------------------------------------------------------------------

ReminderKind = Literal["cancelled", "delay", "gate_change", "boarding"]


@dataclass(frozen=True)
class Reminder:
    key: str
    """Stable for one piece of news: say each key once ('LH400/2026-12-03/gate/Z20')."""
    kind: ReminderKind
    flight: str
    day: date
    due: datetime
    status: FlightStatus


def due_reminders(
    bookings: Sequence[Booking],
    statuses: Mapping[tuple[str, date], FlightStatus],
    now: datetime,
    said: Collection[str] = (),
) -> list[Reminder]:
    """What the wearer should hear now about their booked flights, soonest due first.

    Boarding from its time (or 40 minutes before departure) until departure; a gate change, a
    delay of 15 minutes or more and a cancellation once the flight is within 24 hours. `said`
    holds keys already told, so polling never repeats news.
    """
    found = [
        Reminder(f"{b.flight}/{b.day.isoformat()}/{key}", kind, b.flight, b.day, due, status)
        for b in bookings
        if (status := statuses.get((b.flight, b.day))) is not None
        for kind, key, due in _news(status, now)
    ]
    return sorted((r for r in found if r.key not in said), key=lambda r: r.due)


def _news(status: FlightStatus, now: datetime) -> Iterator[tuple[ReminderKind, str, datetime]]:
    """(kind, key, due) of each thing worth saying about one flight now."""
    departure = status.departure
    if status.status in ("departed", "landed", "diverted"):
        return
    if not departure - HORIZON <= now < departure:
        return
    soon = departure - HORIZON
    if status.status == "cancelled":
        yield "cancelled", "cancelled", soon
        return
    if status.delay >= DELAY_WORTH_SAYING:
        yield "delay", f"delay/{departure.isoformat()}", soon
    if status.gate and status.previous_gate and status.gate != status.previous_gate:
        yield "gate_change", f"gate/{status.gate}", status.as_of or soon
    if now >= status.boarding_time:
        yield "boarding", "boarding", status.boarding_time

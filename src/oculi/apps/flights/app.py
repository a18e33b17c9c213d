"""The flights app: the wearer's saved flights, their status, and airports and airlines by code.

Bookings stay on the glasses (SQLite under the app's data folder). Status comes through a
`StatusProvider`: offline, a recorded one; a live one, when configured, brings the network
permission with it. Reminders (boarding, gate changes, delays) are data from `due_reminders`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

from oculi.apps.flights.bookings import (
    BookingError,
    BookingStore,
    FlightNumber,
    parse_day,
    parse_flight,
    split_flight_day,
)
from oculi.apps.flights.data import FlightData, FlightDataError, load_builtin, load_openflights
from oculi.apps.flights.replies import (
    MAX_ROWS,
    airline_reply,
    airport_reply,
    booking_data,
    bookings_reply,
    day_en,
    day_short,
    day_zh,
    fit,
    hm,
    reminder_text,
    status_reply,
)
from oculi.apps.flights.status import (
    FlightStatus,
    RecordedStatusProvider,
    Reminder,
    StatusProvider,
    StatusUnavailable,
    due_reminders,
)
from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.events import Card, CardRow

log = logging.getLogger(__name__)


@contextmanager
def _told(ctx: Context) -> Iterator[None]:
    """Booking and status failures become ActionErrors in the wearer's language."""
    try:
        yield
    except BookingError as err:
        raise ActionError(ctx.say_in(str(err), err.zh)) from err
    except StatusUnavailable as err:
        raise ActionError(
            ctx.say_in(f"Flight status is unavailable: {err}", f"暂时查不到航班状态：{err}")
        ) from err


class FlightsApp(App):
    name = "flights"
    description = "The wearer's flights: saved bookings, status, reminders, airports and airlines."
    permissions: tuple[str, ...] = ("storage",)
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(
        self,
        data_dir: Path,
        openflights_dir: Path | None = None,
        provider: StatusProvider | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`provider` None: the recorded demo status. `clock` gives aware local times (tests)."""
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._store = BookingStore(data_dir)
        self._openflights_dir = openflights_dir
        self._flight_data: FlightData | None = None
        self._data_note = ""
        self.provider: StatusProvider = provider or RecordedStatusProvider(clock=self._clock)
        self.permissions = ("storage", "network") if self.provider.needs_network else ("storage",)
        self._said: set[str] = set()

    def data(self) -> FlightData:
        """Airports and airlines, loaded on first use; the built-in table if OpenFlights fails."""
        if self._flight_data is None:
            if self._openflights_dir is not None:
                try:
                    self._flight_data = load_openflights(self._openflights_dir)
                except FlightDataError as err:
                    log.warning("%s; using the built-in airport table", err)
                    self._data_note = f"{err}; using the built-in table."
            if self._flight_data is None:
                self._flight_data = load_builtin()
        return self._flight_data

    def _data(self, ctx: Context) -> FlightData:
        data = self.data()
        if self._data_note:  # said once, so a broken OpenFlights folder does not go unnoticed
            ctx.say(self._data_note)
            self._data_note = ""
        return data

    def _today(self) -> date:
        return self._clock().date()

    def _flight_and_day(
        self, ctx: Context, flight: str, day: str | None
    ) -> tuple[FlightNumber, date | None]:
        """The flight and its day, said apart or together ('LH 400 on 3 December')."""
        if day:
            return parse_flight(flight, self._data(ctx)), parse_day(day, self._today())
        text, found = split_flight_day(flight, self._today())
        return parse_flight(text, self._data(ctx)), found

    # --- actions --------------------------------------------------------------------------------

    @action
    async def add_booking(self, ctx: Context, flight: str, date: str | None = None) -> Reply:
        """Save a flight the wearer is booked on, for status and reminders.

        Args:
            flight: the flight number, like LH 400 or Lufthansa 400
            date: the day of departure, like 2026-12-03 or 3 December
        """
        with _told(ctx):
            number, day = self._flight_and_day(ctx, flight, date)
        if day is None:
            return ctx.reply(
                ctx.say_in(
                    f"On which day is {number}? Say: add flight {number} on 3 December.",
                    f"{number}是哪一天？请说：添加12月3日的航班{number}。",
                ),
                "Which day?",
                f"Say: add flight {number}",
                "on 3 December",
                awaiting_date=str(number),
            )
        if day < self._today():
            return ctx.reply(
                ctx.say_in(f"{day_en(day)} has passed.", f"{day_zh(day)}已经过去了。"),
                "Date has passed",
                f"{number} · {day_short(day)}",
            )
        with _told(ctx):
            booking, created = self._store.add(str(number), day, self._clock())
        rows = [fit(f"{number} · {number.airline.name}"), day_short(day)]
        status = await self._quiet_status(str(number), day)
        if status is not None:
            rows.append(f"{status.origin} → {status.destination} {hm(status.departure)}")
        if created:
            speech = ctx.say_in(
                f"Saved {number.airline.name} {number} on {day_en(day)}.",
                f"已保存{day_zh(day)}的航班{number}。",
            )
        else:
            speech = ctx.say_in(
                f"{number} on {day_en(day)} is already saved.",
                f"{day_zh(day)}的{number}已经保存过了。",
            )
        title = "Flight saved" if created else "Already saved"
        return ctx.reply(speech, title, *rows, booking=booking_data(booking))

    @action
    def list_bookings(self, ctx: Context) -> Reply:
        """List the wearer's saved upcoming flights."""
        with _told(ctx):
            bookings = self._store.saved(since=self._today())
        if not bookings:
            return ctx.reply(
                ctx.say_in(
                    "You have no saved flights. Say: add flight LH 400 on 3 December.",
                    "你还没有保存航班。可以说：添加12月3日的航班LH400。",
                ),
                "No saved flights",
                "Say: add flight LH 400",
                "on 3 December",
                bookings=[],
            )
        return bookings_reply(ctx, bookings)

    @action
    def remove_booking(self, ctx: Context, flight: str, date: str | None = None) -> Reply:
        """Remove a saved flight (the wearer confirms first).

        Args:
            flight: the flight number of the saved booking
            date: its day, when the same flight is saved on several days
        """
        with _told(ctx):
            try:
                number, day = self._flight_and_day(ctx, flight, date)
                name = str(number)
            except BookingError:  # saved under an airline the current table lacks
                name = re.sub(r"[\s-]+", "", flight).upper()
                if name not in {b.flight for b in self._store.saved()}:
                    raise
                day = parse_day(date, self._today()) if date else None
            found = self._store.find(name, day)
        if not found:
            return ctx.reply(
                ctx.say_in(f"You have no saved booking for {name}.", f"你没有保存{name}航班。"),
                "No such booking",
                name,
            )
        if len(found) > 1:
            days = ", ".join(day_short(b.day) for b in found)
            return ctx.reply(
                ctx.say_in(f"{name} is saved on {days}. Which day?", f"{name}保存了多天：{days}。"),
                "Which day?",
                name,
                *(day_short(b.day) for b in found[: MAX_ROWS - 1]),
            )
        booking = found[0]
        what = ctx.say_in(f"{name} on {day_en(booking.day)}", f"{day_zh(booking.day)}的{name}")
        if not ctx.confirmed:
            rows = (
                CardRow(label=name, value=day_short(booking.day)),
                CardRow(label="Say yes or no"),
            )
            card = Card(layout="message", title="Remove booking?", rows=rows)
            return ctx.confirm(ctx.say_in(f"Remove {what}?", f"删除{what}吗？"), card)
        with _told(ctx):
            self._store.remove(booking.id)
        return ctx.reply(
            ctx.say_in(f"Removed {what}.", f"已删除{what}。"),
            "Booking removed",
            f"{name} · {day_short(booking.day)}",
            removed=booking_data(booking),
        )

    @action
    async def status(
        self, ctx: Context, flight: str | None = None, date: str | None = None
    ) -> Reply:
        """The status of a flight — times, gate, terminal, delays; the next saved one by default.

        Args:
            flight: the flight number; the next saved flight when not given
            date: the day of the flight; its saved day, or its next one, when not given
        """
        with _told(ctx):
            upcoming = self._store.saved(since=self._today())
            if flight is not None and not re.search(r"\d", flight):
                flight = None  # 'is my plane late': the wildcard caught words, not a number
            if flight is not None:
                number, day = self._flight_and_day(ctx, flight, date)
                name = str(number)
                saved = [b.day for b in upcoming if b.flight == name]
                day = day or (saved[0] if saved else None)
            else:
                day = parse_day(date, self._today()) if date else None
                mine = [b for b in upcoming if day is None or b.day == day]
                if not mine:
                    return ctx.reply(
                        ctx.say_in(
                            "You have no saved flights. Which flight do you mean?",
                            "你没有保存的航班。要查哪个航班？",
                        ),
                        "No saved flights",
                        "Say: status of LH 400",
                    )
                name, day = mine[0].flight, mine[0].day
            found = await self.provider.status(name, day)
        if found is None:
            when = day_short(day) if day else ""
            return ctx.reply(
                ctx.say_in(
                    f"I have no status for {name}{' on ' + day_en(day) if day else ''}.",
                    f"查不到{day_zh(day) + '的' if day else ''}{name}的状态。",
                ),
                "No status",
                f"{name} {when}".strip(),
                "The status service has no record"
                if self.provider.needs_network
                else "Offline: recorded status only",
            )
        return status_reply(ctx, found, self._data(ctx))

    @action
    def airport(self, ctx: Context, airport: str) -> Reply:
        """Which airport a code (IATA like PVG, ICAO like ZSPD) or a name stands for.

        Args:
            airport: an airport code or name
        """
        data = self._data(ctx)
        found = data.airport(airport)
        if found is None:
            return ctx.reply(
                ctx.say_in(f"I don't know an airport {airport}.", f"我不知道{airport}这个机场。"),
                "Unknown airport",
                fit(airport),
            )
        return airport_reply(ctx, found, data)

    @action
    def airline(self, ctx: Context, airline: str) -> Reply:
        """Which airline a code (LH, DLH) or a name stands for.

        Args:
            airline: an airline code or name
        """
        data = self._data(ctx)
        found = data.airline(airline)
        if found is None:
            return ctx.reply(
                ctx.say_in(
                    f"I don't know an airline {airline}.", f"我不知道{airline}这家航空公司。"
                ),
                "Unknown airline",
                fit(airline),
            )
        return airline_reply(ctx, found, data)

    @action
    async def reminders(self, ctx: Context) -> Reply:
        """What is due now for the wearer's flights: boarding, gate changes, delays."""
        with _told(ctx):
            due = await self.due()
        if not due:
            return ctx.reply(
                ctx.say_in("Nothing is due for your flights.", "你的航班目前没有提醒。"),
                "No reminders",
                reminders=[],
            )
        speech = " ".join(reminder_text(r, ctx.language) for r in due)
        return ctx.reply(
            speech,
            "Flight reminders",
            *(fit(reminder_text(r, "en")) for r in due[:MAX_ROWS]),
            reminders=[{"key": r.key, "kind": r.kind, "flight": r.flight} for r in due],
        )

    # --- reminders for the runtime --------------------------------------------------------------

    async def due(self, said: set[str] | None = None) -> list[Reminder]:
        """Reminders due now for the saved flights, less those in `said`.

        Raises BookingError or StatusUnavailable when the bookings or the status source fail.
        """
        now = self._clock()
        bookings = self._store.saved(since=self._today() - timedelta(days=1))
        statuses = {}
        for booking in bookings:
            found = await self.provider.status(booking.flight, booking.day)
            if found is not None:
                statuses[(booking.flight, booking.day)] = found
        return due_reminders(bookings, statuses, now, said or ())

    async def pending_reminders(self) -> list[Reminder]:
        """Reminders not yet told, marked as told: what a runtime poller says aloud."""
        try:
            fresh = await self.due(said=self._said)
        except (BookingError, StatusUnavailable) as err:
            log.warning("no flight reminders: %s", err)
            return []
        self._said.update(r.key for r in fresh)
        return fresh

    async def _quiet_status(self, flight: str, day: date) -> FlightStatus | None:
        """Status for a card's extra line; its absence or failure is not the wearer's problem."""
        try:
            return await self.provider.status(flight, day)
        except StatusUnavailable:
            return None

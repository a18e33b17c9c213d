"""The wearer's saved flights: flight numbers and days as people say them, kept in SQLite.

'lh400', 'LH 400', 'Lufthansa 400' and '汉莎400' are one flight, LH400: numbers are normalised
against the airline table so a typo is caught when the flight is saved, not at the airport.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from oculi.apps.flights.data import Airline, FlightData, fold
from oculi.errors import OculiError


class BookingError(OculiError):
    """A flight number, day or booking the wearer named does not work; the message says why."""

    def __init__(self, message: str, zh: str = "") -> None:
        super().__init__(message)
        self.zh = zh or message
        """The same in Chinese, for a wearer who asked in Chinese."""


@dataclass(frozen=True)
class FlightNumber:
    airline: Airline
    code: str
    """The airline's IATA code (its ICAO code when it has none)."""
    number: str
    """Digits without leading zeros, and an optional suffix letter."""

    def __str__(self) -> str:
        return f"{self.code}{self.number}"


_CODE_NUMBER = re.compile(r"^([a-z0-9]{2}|[a-z]{3})(\d{1,4})([a-z]?)$")
_NAME_NUMBER = re.compile(r"^(.*?)\s*(?:flight|航班)?\s*(?:number|no|号)?\s*(\d{1,4})([a-z]?)$")
_FILLER = re.compile(r"\b(?:flight|number|no|my|the)\b|航班|的")


def parse_flight(text: str, data: FlightData) -> FlightNumber:
    """A flight number in any usual spelling; BookingError when it or its airline is unknown."""
    words = fold(text)
    squeezed = re.sub(r"[\s\-]+", "", _FILLER.sub(" ", words))
    found = _CODE_NUMBER.match(squeezed)
    if found and re.search(r"[a-z]", found.group(1)):
        code = found.group(1)
        airline = data.airline(code)
        if airline is None:
            raise BookingError(
                f"I don't know an airline with the code {code.upper()}.",
                f"我不知道代码为{code.upper()}的航空公司。",
            )
        return _number(airline, found.group(2), found.group(3))
    named = _NAME_NUMBER.match(words)
    if named and named.group(1).strip():
        name = _FILLER.sub(" ", named.group(1)).strip()
        airline = data.airline(name) or data.airline(name.replace(" ", ""))
        if airline is None:
            raise BookingError(f"I don't know the airline {name}.", f"我不知道{name}这家航空公司。")
        return _number(airline, named.group(2), named.group(3))
    raise BookingError(
        f"{text.strip() or 'That'} is not a flight number I understand, like LH 400.",
        f"{text.strip()}不是我能听懂的航班号，比如LH400。",
    )


def _number(airline: Airline, digits: str, suffix: str) -> FlightNumber:
    code = airline.iata or airline.icao or ""
    number = str(int(digits))
    if number == "0":
        raise BookingError(f"{code}{digits} is not a flight number.", f"{code}{digits}不是航班号。")
    return FlightNumber(airline, code, number + suffix.upper())


def split_flight_day(text: str, today: date) -> tuple[str, date | None]:
    """'LH 400 on 3 December' → ('LH 400', that day): a flight slot that swallowed its date.

    Template parsers prefer one wildcard to two, so 'add flight {flight}' wins over
    'add flight {flight} on {date}'; the flight text is split here instead.
    """
    words = text.strip()
    parts = re.split(r"\s+(?:on|for)\s+|\s*[,，]\s*", words, maxsplit=1, flags=re.IGNORECASE)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parse_day(parts[1], today)
    tokens = words.split()
    for cut in range(max(1, len(tokens) - 4), len(tokens)):
        try:
            return " ".join(tokens[:cut]), parse_day(" ".join(tokens[cut:]), today)
        except BookingError:
            continue
    zh = re.fullmatch(r"(.*?\d+[a-zA-Z]?)\s*(\S*?(?:月\d{1,2}[日号]?|天|周.|星期.))", words)
    if zh:
        try:
            return zh[1], parse_day(zh[2], today)
        except BookingError:
            pass
    return words, None


# --- days ---------------------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("monday", "mon", "一"),
            ("tuesday", "tue", "二"),
            ("wednesday", "wed", "三"),
            ("thursday", "thu", "四"),
            ("friday", "fri", "五"),
            ("saturday", "sat", "六"),
            ("sunday", "sun", "日", "天"),
        ]
    )
    for name in names
}
_RELATIVE = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
    "今天": 0,
    "今晚": 0,
    "明天": 1,
    "后天": 2,
    "大后天": 3,
}
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"


def parse_day(text: str, today: date) -> date:
    """A day as said: '2026-12-03', '3 December', 'Dec 3rd 2026', 'tomorrow', '12月3日', '周五'.

    Without a year it is the next such day from today on.
    """
    raw = text.strip()
    words = re.sub(r"\b(?:on|the|of|this|next|coming)\b|[,.]", " ", raw.casefold())
    words = " ".join(words.split())
    if words in _RELATIVE:
        return today + timedelta(days=_RELATIVE[words])
    iso = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?", words.replace(" ", ""))
    if iso:
        return _day(int(iso[1]), int(iso[2]), int(iso[3]), raw)
    zh = re.fullmatch(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?", words.replace(" ", ""))
    if zh:
        return _next(today, int(zh[2]), int(zh[3]), int(zh[1]) if zh[1] else None, raw)
    weekday = re.fullmatch(r"(?:(?:周|星期|礼拜)(.)|(\w+))", words)
    if weekday and (weekday[1] or weekday[2]) in _WEEKDAYS:
        ahead = (_WEEKDAYS[weekday[1] or weekday[2]] - today.weekday()) % 7
        return today + timedelta(days=ahead)
    for pattern, order in (
        (rf"{_ORDINAL} ([a-z]+)(?: (\d{{4}}))?", "dmy"),
        (rf"([a-z]+) {_ORDINAL}(?: (\d{{4}}))?", "mdy"),
    ):
        found = re.fullmatch(pattern, words)
        if not found:
            continue
        day_text, month_text = (found[1], found[2]) if order == "dmy" else (found[2], found[1])
        month = _MONTHS.get(month_text)
        if month is not None:
            year = int(found[3]) if found[3] else None
            return _next(today, month, int(day_text), year, raw)
    raise BookingError(
        f"I don't understand the date {raw!r}; say it like 3 December or 2026-12-03.",
        f"我听不懂日期“{raw}”，请说像12月3日这样的日期。",
    )


def _day(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as err:
        raise BookingError(f"{raw} is not a date in the calendar.", f"{raw}不是有效日期。") from err


def _next(today: date, month: int, day: int, year: int | None, raw: str) -> date:
    if year is not None:
        return _day(year, month, day, raw)
    for ahead in range(9):  # 29 February comes back within eight years
        try:
            candidate = date(today.year + ahead, month, day)
        except ValueError:
            if (month, day) == (2, 29):
                continue
            raise BookingError(
                f"{raw} is not a date in the calendar.", f"{raw}不是有效日期。"
            ) from None
        if candidate >= today:
            return candidate
    raise BookingError(f"{raw} is not a date in the calendar.", f"{raw}不是有效日期。")


# --- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    id: int
    flight: str
    day: date
    added_at: datetime


class BookingStore:
    """Saved flights in `bookings.sqlite` under the app's data folder; one flight a day, once."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "bookings.sqlite"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY,"
                    " flight TEXT NOT NULL, day TEXT NOT NULL, added_at TEXT NOT NULL,"
                    " UNIQUE (flight, day))"
                )
                with db:
                    yield db
        except (sqlite3.Error, OSError) as err:
            raise BookingError(f"your saved flights ({self.path}) cannot be opened: {err}") from err

    def add(self, flight: str, day: date, now: datetime) -> tuple[Booking, bool]:
        """The booking, and False when it was already saved."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO bookings (flight, day, added_at) VALUES (?, ?, ?)",
                (flight, day.isoformat(), now.isoformat()),
            )
            created = cursor.rowcount == 1
            row = db.execute(
                "SELECT id, flight, day, added_at FROM bookings WHERE flight = ? AND day = ?",
                (flight, day.isoformat()),
            ).fetchone()
        return _booking(row), created

    def saved(self, since: date | None = None) -> list[Booking]:
        """Saved flights by day, from `since` on (all when None)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, flight, day, added_at FROM bookings WHERE day >= ?"
                " ORDER BY day, flight",
                ((since or date.min).isoformat(),),
            ).fetchall()
        return [_booking(r) for r in rows]

    def find(self, flight: str, day: date | None = None) -> list[Booking]:
        return [b for b in self.saved() if b.flight == flight and (day is None or b.day == day)]

    def remove(self, booking_id: int) -> bool:
        with self._db() as db:
            return db.execute("DELETE FROM bookings WHERE id = ?", (booking_id,)).rowcount == 1


def _booking(row: tuple[int, str, str, str]) -> Booking:
    return Booking(row[0], row[1], date.fromisoformat(row[2]), datetime.fromisoformat(row[3]))

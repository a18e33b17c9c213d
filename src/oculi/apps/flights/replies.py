"""What the flights app says and shows: status, reminders, airports, in the wearer's language.

Cards fit the lens (titles of at most 28 characters, five rows of 36); times are shown in the
airport's own local time, as the status source gives them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from oculi.apps.flights.bookings import Booking
from oculi.apps.flights.data import Airline, Airport, FlightData
from oculi.apps.flights.status import FlightStatus, Reminder
from oculi.apps.sdk import Context, Reply
from oculi.events import Card, CardRow

ROW_CHARS = 36
TITLE_CHARS = 28
MAX_ROWS = 5


def status_reply(ctx: Context, status: FlightStatus, data: FlightData) -> Reply:
    """The status card: route, departure (and the delay), terminal and gate, boarding."""
    destination = data.airport(status.destination)
    to_city = destination.city if destination else status.destination
    if destination is not None and destination.zh and ctx.language == "zh":
        to_city = destination.zh
    late = int(status.delay.total_seconds() // 60)
    label = {
        "cancelled": "Cancelled",
        "boarding": "Boarding",
        "departed": "Departed",
        "landed": "Landed",
        "diverted": "Diverted",
    }.get(status.status, f"Delayed {late} min" if late >= 5 else "On time")
    rows = [CardRow(label=f"{status.origin} → {status.destination}", value=day_short(status.day))]
    departs = hm(status.departure) + (
        f" (was {hm(status.scheduled_departure)})" if late >= 5 else ""
    )
    rows.append(CardRow(label="Departs", value=departs, highlight=late >= 5))
    place = " · ".join(
        p
        for p in (
            status.terminal and f"T{status.terminal}",
            status.gate and f"Gate {status.gate}",
        )
        if p
    )
    if place:
        rows.append(CardRow(label=place, highlight=bool(status.previous_gate)))
    if status.previous_gate and status.gate != status.previous_gate:
        rows.append(CardRow(label=f"Gate changed from {status.previous_gate}"))
    if status.status not in ("cancelled", "departed", "landed"):
        rows.append(CardRow(label="Boarding", value=hm(status.boarding_time)))
    speech = status_speech(ctx, status, to_city, late)
    card = Card(
        layout="message",
        title=f"{status.flight} {label}"[:TITLE_CHARS],
        subtitle=f"As of {status.as_of:%d %b %H:%M}" if status.as_of else "",
        rows=tuple(rows[:MAX_ROWS]),
        footer=data.attribution,
    )
    return Reply(
        speech,
        card,
        {
            "flight": status.flight,
            "date": status.day.isoformat(),
            "status": status_data(status),
        },
    )


def status_speech(ctx: Context, s: FlightStatus, to_city: str, late: int) -> str:
    if s.status == "cancelled":
        return ctx.say_in(
            f"{s.flight} to {to_city} is cancelled.", f"飞往{to_city}的{s.flight}已取消。"
        )
    gate = ctx.say_in(f" from gate {s.gate}", f"，登机口{s.gate}") if s.gate else ""
    terminal = (
        ctx.say_in(f", terminal {s.terminal}", f"，{s.terminal}号航站楼") if s.terminal else ""
    )
    if s.status in ("departed", "landed"):
        word = ctx.say_in(s.status, "已起飞" if s.status == "departed" else "已降落")
        return ctx.say_in(
            f"{s.flight} to {to_city} has {word}.", f"飞往{to_city}的{s.flight}{word}。"
        )
    lead = (
        ctx.say_in(
            f"{s.flight} to {to_city} is delayed {late} minutes, now leaving at",
            f"飞往{to_city}的{s.flight}延误{late}分钟，预计",
        )
        if late >= 5
        else ctx.say_in(
            f"{s.flight} to {to_city} is on time, leaving at", f"飞往{to_city}的{s.flight}准点，"
        )
    )
    said = ctx.say_in(
        f"{lead} {hm(s.departure)}{gate}{terminal}. Boarding at {hm(s.boarding_time)}.",
        f"{lead}{hm(s.departure)}起飞{terminal}{gate}。{hm(s.boarding_time)}开始登机。",
    )
    if s.previous_gate and s.gate != s.previous_gate:
        said += ctx.say_in(
            f" The gate changed from {s.previous_gate}.", f"登机口已从{s.previous_gate}更改。"
        )
    return said


def reminder_text(reminder: Reminder, language: str) -> str:
    """One reminder in words, in English or Chinese."""
    s, zh = reminder.status, language == "zh"
    gate = s.gate or "?"
    if reminder.kind == "cancelled":
        return f"{s.flight}已取消。" if zh else f"{s.flight} is cancelled."
    if reminder.kind == "delay":
        late = int(s.delay.total_seconds() // 60)
        return (
            f"{s.flight}延误{late}分钟，{hm(s.departure)}起飞。"
            if zh
            else f"{s.flight} delayed {late} min, departs {hm(s.departure)}."
        )
    if reminder.kind == "gate_change":
        return (
            f"{s.flight}登机口改为{gate}（原{s.previous_gate}）。"
            if zh
            else f"{s.flight} gate changed {s.previous_gate} → {gate}."
        )
    return (
        f"{s.flight}开始登机，登机口{gate}。"
        if zh
        else f"{s.flight} boarding at gate {gate}, {hm(s.boarding_time)}."
    )


def airport_reply(ctx: Context, airport: Airport, data: FlightData) -> Reply:
    where = ", ".join(p for p in (airport.city, airport.country) if p)
    speech = ctx.say_in(
        f"{airport.code} is {airport.name}, in {where}.",
        f"{airport.code}是{airport.zh}。"
        if airport.zh
        else f"{airport.code}是{airport.name}（{where}）。",
    )
    codes = " · ".join(f"{k} {v}" for k, v in (("IATA", airport.iata), ("ICAO", airport.icao)) if v)
    rows = [
        CardRow(label=fit(short_name(airport.name)), highlight=True),
        CardRow(label=fit(where)),
        CardRow(label=codes),
        CardRow(label=f"{airport.lat:.3f}, {airport.lon:.3f}", value=airport.tz or ""),
    ]
    card = Card(
        layout="message",
        title=fit(f"{airport.code} · {airport.city}", TITLE_CHARS),
        rows=tuple(rows),
        footer=data.attribution,
    )
    info: dict[str, Any] = {
        "iata": airport.iata,
        "icao": airport.icao,
        "name": airport.name,
        "city": airport.city,
        "country": airport.country,
        "lat": airport.lat,
        "lon": airport.lon,
        "tz": airport.tz,
    }
    return Reply(speech, card, {"airport": info, "source": data.source})


def short_name(name: str) -> str:
    """'Shanghai Pudong International Airport' → without 'Airport' when the row is too narrow."""
    return name if len(name) <= ROW_CHARS else name.removesuffix(" Airport")


def zh_alias(airline: Airline) -> str:
    return next((a for a in airline.aliases if any("\u4e00" <= c <= "\u9fff" for c in a)), "")


def booking_data(booking: Booking) -> dict[str, Any]:
    return {"id": booking.id, "flight": booking.flight, "date": booking.day.isoformat()}


def status_data(s: FlightStatus) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "status": s.status,
        "origin": s.origin,
        "destination": s.destination,
        "scheduled_departure": iso(s.scheduled_departure),
        "estimated_departure": iso(s.estimated_departure),
        "boarding": iso(s.boarding_time),
        "terminal": s.terminal,
        "gate": s.gate,
        "previous_gate": s.previous_gate,
        "delay_min": int(s.delay.total_seconds() // 60),
        "source": s.source,
    }


def hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def day_short(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def day_en(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def day_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def fit(text: str, width: int = ROW_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def airline_reply(ctx: Context, airline: Airline, data: FlightData) -> Reply:
    code = airline.iata or airline.icao
    codes = " · ".join(f"{k} {v}" for k, v in (("IATA", airline.iata), ("ICAO", airline.icao)) if v)
    speech = ctx.say_in(
        f"{code} is {airline.name}, from {airline.country}.",
        f"{code}是{zh_alias(airline) or airline.name}（{airline.country}）。",
    )
    card = Card(
        layout="message",
        title=fit(airline.name, TITLE_CHARS),
        rows=(CardRow(label=codes), CardRow(label=fit(airline.country))),
        footer=data.attribution,
    )
    info = {"iata": airline.iata, "icao": airline.icao, "name": airline.name}
    return Reply(speech, card, {"airline": info, "source": data.source})


def bookings_reply(ctx: Context, bookings: list[Booking]) -> Reply:
    """The saved flights: three spoken, up to five rows shown."""
    spoken = ", ".join(
        ctx.say_in(f"{b.flight} on {day_en(b.day)}", f"{day_zh(b.day)}的{b.flight}")
        for b in bookings[:3]
    )
    count, more = len(bookings), len(bookings) - 3
    speech = ctx.say_in(
        f"You have {count} saved flight{'s' if count != 1 else ''}: {spoken}"
        + (f", and {more} more." if more > 0 else "."),
        f"你保存了{count}个航班：{spoken}" + (f"，还有{more}个。" if more > 0 else "。"),
    )
    shown = bookings if count <= MAX_ROWS else bookings[: MAX_ROWS - 1]
    rows = [CardRow(label=b.flight, value=day_short(b.day)) for b in shown]
    if len(shown) < count:
        rows.append(CardRow(label=f"+{count - len(shown)} more"))
    card = Card(layout="message", title="Your flights", rows=tuple(rows))
    return Reply(speech, card, {"bookings": [booking_data(b) for b in bookings]})

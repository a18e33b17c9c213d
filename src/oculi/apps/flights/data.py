"""Airports and airlines: the OpenFlights database when configured, else a built-in table.

OpenFlights (openflights.org, ODbL) knows some 7,700 airports and 6,000 airlines; when the
wearer points `apps.openflights_dir` at its `airports.dat` and `airlines.dat`, cards built from
it say so. Without it a compact table of major airports and airlines written for Oculi
(`reference.yaml`) keeps codes, names and flight numbers working offline.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oculi.errors import OculiError

REFERENCE = Path(__file__).with_name("reference.yaml")
ATTRIBUTION = "Data: OpenFlights (ODbL)"
_NULL = ("\\N", "", "-", "N/A")


class FlightDataError(OculiError):
    """Airport or airline data cannot be read; the message names the file."""


@dataclass(frozen=True)
class Airport:
    iata: str | None
    icao: str | None
    name: str
    city: str
    country: str
    lat: float
    lon: float
    tz: str | None
    zh: str = ""

    @property
    def code(self) -> str:
        return self.iata or self.icao or "?"


@dataclass(frozen=True)
class Airline:
    iata: str | None
    icao: str | None
    name: str
    country: str
    aliases: tuple[str, ...] = ()
    active: bool = True


@dataclass
class FlightData:
    """Airports and airlines indexed by code and by name."""

    airports: list[Airport]
    airlines: list[Airline]
    source: str = "built-in"
    """'built-in' or 'OpenFlights'."""
    _by_code: dict[str, Airport] = field(default_factory=dict, repr=False)
    _airline_codes: dict[str, Airline] = field(default_factory=dict, repr=False)
    _airline_names: dict[str, Airline] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for airport in self.airports:
            for code in (airport.icao, airport.iata):
                if code:
                    self._by_code.setdefault(code.upper(), airport)
        # an active airline with an ICAO code wins a shared IATA code over defunct ones
        ranked = sorted(self.airlines, key=lambda a: (not a.active, not a.icao))
        for airline in ranked:
            for code in (airline.iata, airline.icao):
                if code:
                    self._airline_codes.setdefault(code.upper(), airline)
            for name in (airline.name, *airline.aliases):
                if name:
                    self._airline_names.setdefault(fold(name), airline)

    @property
    def attribution(self) -> str:
        """What a card built from this data must credit."""
        return ATTRIBUTION if self.source == "OpenFlights" else ""

    def airport(self, text: str) -> Airport | None:
        """An airport by IATA or ICAO code, else by name or city ('Heathrow', '浦东')."""
        code = text.strip().upper()
        if code in self._by_code:
            return self._by_code[code]
        return next(iter(self.find_airports(text)), None)

    def find_airports(self, text: str, limit: int = 5) -> list[Airport]:
        """Airports whose name, city or Chinese name holds the words, best first."""
        words = fold(re.sub(r"(?i)\b(airport|international)\b|机场|国际", " ", text))
        if not words:
            return []
        scored = []
        for airport in self.airports:
            name, city = fold(airport.name), fold(airport.city)
            if words in (city, name):
                rank = 0
            elif f" {words} " in f" {name} " or (airport.zh and words in airport.zh):
                rank = 1
            elif words in name or words in city:
                rank = 2
            else:
                continue
            scored.append((rank, not airport.iata, len(name), airport))
        scored.sort(key=lambda s: s[:3])
        return [s[3] for s in scored[:limit]]

    def airline(self, text: str) -> Airline | None:
        """An airline by IATA or ICAO code, or by name or alias ('Lufthansa', '国航')."""
        code = text.strip().upper()
        if code in self._airline_codes:
            return self._airline_codes[code]
        return self._airline_names.get(fold(text))


def fold(text: str) -> str:
    """Lower case, no accents or punctuation: 'Aeroméxico' and 'aeromexico' are one name."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def load_builtin() -> FlightData:
    """The table written for Oculi: ~70 major airports, ~50 airlines."""
    try:
        data = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
        airports = [
            Airport(
                str(r[0]),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                float(r[5]),
                float(r[6]),
                str(r[7]),
                str(r[8]) if len(r) > 8 else "",
            )
            for r in data["airports"]
        ]
        airlines = [
            Airline(str(r[0]), str(r[1]), str(r[2]), str(r[3]), tuple(str(a) for a in r[4]))
            for r in data["airlines"]
        ]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as err:
        raise FlightDataError(f"the built-in airport table {REFERENCE} is broken: {err}") from err
    return FlightData(airports, airlines)


def load_openflights(folder: Path) -> FlightData:
    """`airports.dat` and `airlines.dat` from an OpenFlights data folder.

    The built-in aliases (short and Chinese names) are kept for airlines and airports the
    folder also has, so '国航 981' works with either source.
    """
    builtin = load_builtin()
    zh_names = {a.iata: a.zh for a in builtin.airports}
    aliases = {a.iata: a.aliases for a in builtin.airlines}
    airports = []
    for r in _rows(folder / "airports.dat", 14):
        try:
            lat, lon = float(r[6]), float(r[7])
        except ValueError:
            continue
        iata = _code(r[4], 3)
        airports.append(
            Airport(
                iata,
                _code(r[5], 4),
                r[1],
                r[2],
                r[3],
                lat,
                lon,
                _value(r[11]),
                zh_names.get(iata, ""),
            )
        )
    airlines = []
    for r in _rows(folder / "airlines.dat", 8):
        iata, icao = _code(r[3], 2), _code(r[4], 3)
        if not (iata or icao) or _value(r[1]) is None:
            continue
        alias = _value(r[2])
        extra = (*aliases.get(iata, ()), *([alias] if alias else []))
        airlines.append(Airline(iata, icao, r[1], r[6], extra, active=r[7].upper() == "Y"))
    return FlightData(airports, airlines, source="OpenFlights")


def _rows(path: Path, width: int) -> Iterable[list[str]]:
    """CSV rows of the expected width; a malformed row is left out, a missing file is an error."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise FlightDataError(f"OpenFlights file {path} cannot be read: {err}") from err
    rows = [row for row in csv.reader(text.splitlines()) if len(row) == width]
    if not rows:
        raise FlightDataError(f"OpenFlights file {path} has no rows in the expected format")
    return rows


def _value(text: Any) -> str | None:
    value = str(text).strip()
    return None if value in _NULL else value


def _code(text: str, length: int) -> str | None:
    value = _value(text)
    if value is None or len(value) != length or not value.isalnum():
        return None
    return value.upper()

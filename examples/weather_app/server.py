"""An example third-party Oculi app: a weather app served over the Model Context Protocol.

Any MCP server can be an Oculi app; this one is written with the `mcp` package's `MCPServer`
and answers from a fixed sample forecast (forecast.json) so it runs offline and the same every
time. Swap `load_forecast` for a real provider to make it useful. Each tool's type hints become
its input schema, its docstring its description, and its annotations tell Oculi which tools
change something (those the wearer must confirm).

    python server.py                      # stdio: Oculi starts it as a subprocess
    python server.py --http --port 8765   # streamable HTTP at http://127.0.0.1:8765/mcp
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations

FORECAST_FILE = Path(__file__).with_name("forecast.json")

server = MCPServer(
    "weather",
    instructions="Weather forecasts for today and tomorrow, and temperature conversion.",
)


class Forecast(TypedDict):
    """One day's forecast: what Oculi keeps for follow-ups and may show on a card."""

    city: str
    day: str
    summary: str
    high_c: float
    low_c: float
    rain_chance: int


def load_forecast() -> dict[str, Any]:
    """The sample forecast by lower-case city name."""
    data: dict[str, Any] = json.loads(FORECAST_FILE.read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


class _State:
    """What the app remembers while it runs: the wearer's home city."""

    home_city: str | None = None


def _find_city(city: str) -> dict[str, Any]:
    known = load_forecast()
    entry = known.get(" ".join(city.lower().split()))
    if entry is None:
        names = ", ".join(v["name"] for v in known.values())
        raise ToolError(f"I have no forecast for {city}. I know {names}.")
    return entry


@server.tool(title="Forecast", annotations=ToolAnnotations(read_only_hint=True))
def forecast(
    city: str | None = None, day: Literal["today", "tomorrow"] = "today"
) -> Annotated[CallToolResult, Forecast]:
    """The weather forecast for a city, today or tomorrow.

    Args:
        city: the city, e.g. London; the home city when not given
        day: today or tomorrow
    """
    city = city or _State.home_city
    if not city:
        raise ToolError("Which city? Say a city, or set a home city first.")
    entry = _find_city(city)
    weather = entry[day]
    data = Forecast(
        city=entry["name"],
        day=day,
        summary=weather["summary"],
        high_c=weather["high_c"],
        low_c=weather["low_c"],
        rain_chance=weather["rain_chance"],
    )
    sentence = (
        f"{entry['name']} {day}: {weather['summary']}, high {weather['high_c']}°C, "
        f"low {weather['low_c']}°C, {weather['rain_chance']}% chance of rain."
    )
    return CallToolResult(content=[TextContent(text=sentence)], structured_content=dict(data))


@server.tool(title="Convert temperature", annotations=ToolAnnotations(read_only_hint=True))
def convert_temperature(value: float, to_unit: Literal["C", "F"]) -> str:
    """Convert a temperature between Celsius and Fahrenheit.

    Args:
        value: the temperature to convert
        to_unit: C for Celsius (value is in Fahrenheit) or F for Fahrenheit (value is in Celsius)
    """
    if to_unit == "F":
        return f"{value:g}°C is {value * 9 / 5 + 32:.1f}°F."
    return f"{value:g}°F is {(value - 32) * 5 / 9:.1f}°C."


@server.tool(
    title="Set home city",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True),
)
def set_home_city(city: str) -> str:
    """Remember the wearer's home city, replacing the one saved before.

    Args:
        city: the city to use when a forecast names none
    """
    entry = _find_city(city)
    _State.home_city = entry["name"]
    return f"Your home city is now {entry['name']}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP, not stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args()
    if options.http:
        server.run("streamable-http", host=options.host, port=options.port)
    else:
        server.run()


if __name__ == "__main__":
    main()

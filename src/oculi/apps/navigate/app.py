"""The navigate app: walking directions on the lens from the offline map, turn by turn.

"Take me to the station" routes from the wearer's position over the OpenStreetMap walking graph;
while a walk is on, every GPS fix moves the navigator, which speaks before each turn, shows the
turn card, and reroutes when the wearer strays.
"""

from __future__ import annotations

from pathlib import Path

from oculi.apps.sdk import ActionError, App, Context, Position, Reply, action
from oculi.errors import MapError
from oculi.services.maps import Navigator, WalkMap, load_map


class NavigateApp(App):
    name = "navigate"
    description = "Walking directions to a place or address on the offline map, turn by turn."
    permissions = ("location",)
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, map_path: Path | None, cache_dir: Path, avoid_steps: bool = False) -> None:
        self._map_path = map_path
        self._cache_dir = cache_dir
        self._avoid_steps = avoid_steps
        self._map: WalkMap | None = None
        self._nav: Navigator | None = None
        self._destination = ""

    def walk_map(self) -> WalkMap:
        """Loaded on first use (parsed once, then from the cache keyed by the file's hash)."""
        if self._map is None:
            self._map = load_map(self._map_path, cache_dir=self._cache_dir)
        return self._map

    @action
    def go(self, ctx: Context, destination: str) -> Reply:
        """Walking directions from here to a place.

        Args:
            destination: a place name from the map (station, museum, street) or "LAT,LON"
        """
        here = ctx.position
        if here is None:
            raise ActionError(
                ctx.say_in(
                    "I don't know where you are yet; I need a GPS fix.",
                    "我还不知道你的位置，需要GPS定位。",
                )
            )
        try:
            walk_map = self.walk_map()
            stop = walk_map.resolve(destination, near=(here.lat, here.lon))
            route = walk_map.route((here.lat, here.lon), stop, avoid_steps=self._avoid_steps)
        except MapError as err:
            raise ActionError(str(err)) from err
        self._nav = walk_map.navigator(route, avoid_steps=self._avoid_steps)
        self._destination = stop.label
        minutes = max(1, round(route.duration_s / 60))
        first = route.steps[0].instruction if route.steps else ""
        speech = ctx.say_in(
            f"Walking to {stop.label}: {route.distance_m:.0f} metres, about {minutes} minutes. "
            f"{first}.",
            f"步行去{stop.label}：{route.distance_m:.0f}米，大约{minutes}分钟。",
        )
        return Reply(speech, self._nav.card(), self._progress())

    @action
    def distance(self, ctx: Context) -> Reply:
        """How far it still is, and how long, on the walk under way."""
        nav = self._nav
        if nav is None:
            return ctx.reply(
                ctx.say_in("You are not navigating anywhere.", "你现在没有在导航。"),
                "No walk under way",
            )
        minutes = max(1, round(nav.remaining_s / 60))
        speech = ctx.say_in(
            f"{nav.remaining_m:.0f} metres to {self._destination}, about {minutes} minutes.",
            f"离{self._destination}还有{nav.remaining_m:.0f}米，大约{minutes}分钟。",
        )
        return Reply(speech, nav.card(), self._progress())

    @action
    def stop(self, ctx: Context) -> Reply:
        """Stop the directions."""
        was, self._nav = self._destination, None
        if not was:
            return ctx.reply(
                ctx.say_in("You are not navigating.", "你现在没有在导航。"), "Navigation"
            )
        self._destination = ""
        return ctx.reply(
            ctx.say_in("Navigation stopped.", "导航已停止。"),
            "Navigation stopped",
            f"to {was}"[:36],
        )

    def moved(self, ctx: Context, position: Position, t: float) -> list[Reply]:
        """A GPS fix while walking: prompts before turns, rerouting, arrival."""
        nav = self._nav
        if nav is None:
            return []
        replies = []
        for event in nav.update(position.lat, position.lon, t, position.accuracy_m or 0.0):
            if event.kind == "arrived":
                self._nav, self._destination = None, ""
            if event.speech:
                replies.append(Reply(event.speech, event.card, self._progress()))
        return replies

    def _progress(self) -> dict[str, object]:
        nav = self._nav
        if nav is None:
            return {"navigating": False}
        return {
            "navigating": True,
            "destination": self._destination,
            "remaining_m": round(nav.remaining_m),
            "remaining_s": round(nav.remaining_s),
        }

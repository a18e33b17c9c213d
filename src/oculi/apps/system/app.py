"""The system app: what the glasses themselves can do, and the dialogue words (yes, no, back).

`confirm`, `cancel` and `back` are carried out by the agent's dialogue (they act on what is
pending or was shown); they are declared here so that their phrasings live beside an app like
every other action.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from oculi.apps.sdk import App, Context, Reply, action


class SystemApp(App):
    name = "system"
    description = "The glasses themselves: volume, battery, help, and yes/no/back."
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, describe_apps: Callable[[], list[tuple[str, str]]] | None = None) -> None:
        self.volume_percent = 60
        self.battery_percent: int | None = None
        """Set by the device's power report; None when the device has not said."""
        self._describe_apps = describe_apps or (lambda: [])

    @action
    def unknown(self, ctx: Context) -> Reply:
        """The polite answer when no app fits the request."""
        heard = ctx.text.strip()
        shown = f'"{heard[:60]}"' if heard else "(nothing heard)"
        speech = ctx.say_in(
            "Sorry, I can't do that yet. A language model could help with that; "
            "none is configured.",
            "抱歉，这个我还不会。",
        )
        return ctx.reply(speech, "I can't do that yet", shown, "Try: what can you do?")

    @action
    def help(self, ctx: Context) -> Reply:
        """What the glasses can do: each app and what it is for."""
        apps = [(n, d) for n, d in self._describe_apps() if n != "system"]
        names = ", ".join(n for n, _ in apps)
        speech = ctx.say_in(f"I can help with {names}.", f"我可以帮你：{names}。")
        return ctx.reply(speech, "What I can do", *(f"{n}: {d}"[:48] for n, d in apps))

    @action
    def volume(self, ctx: Context, level: int | None = None, change: str | None = None) -> Reply:
        """Set or change the speaker volume.

        Args:
            level: the volume in percent, 0 to 100
            change: up or down
        """
        if level is not None:
            self.volume_percent = max(0, min(100, level))
        elif change in ("up", "louder", "大"):
            self.volume_percent = min(100, self.volume_percent + 10)
        elif change in ("down", "quieter", "softer", "小"):
            self.volume_percent = max(0, self.volume_percent - 10)
        v = self.volume_percent
        return ctx.reply(
            ctx.say_in(f"Volume {v} percent.", f"音量{v}%。"),
            f"Volume {v}%",
            "█" * (v // 10) + "░" * (10 - v // 10),
            volume=v,
        )

    @action
    def battery(self, ctx: Context) -> Reply:
        """How much battery is left."""
        if self.battery_percent is None:
            return ctx.reply(
                ctx.say_in("This device does not report its battery.", "这个设备不报告电量。"),
                "Battery",
                "not reported",
            )
        b = self.battery_percent
        return ctx.reply(
            ctx.say_in(f"Battery at {b} percent.", f"电量{b}%。"), f"Battery {b}%", battery=b
        )

    @action
    def confirm(self, ctx: Context) -> Reply:
        """Yes: go ahead with what was asked to be confirmed."""
        return ctx.reply(ctx.say_in("There is nothing to confirm.", "没有需要确认的事。"), "OK")

    @action
    def cancel(self, ctx: Context) -> Reply:
        """No / stop: drop what is pending."""
        return ctx.reply(ctx.say_in("OK.", "好的。"), "OK")

    @action
    def back(self, ctx: Context) -> Reply:
        """Show the previous card again."""
        return ctx.reply(ctx.say_in("There is nothing to go back to.", "返回不了了。"), "Back")

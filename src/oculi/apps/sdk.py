"""The app SDK: what an app declares and the narrow world an action sees.

An app is a class with a name, the permissions it needs and its actions: typed methods marked
`@action`. The SDK reads each action's JSON schema from its type hints and docstring, so the
same declaration serves the template parser, the embedding tier, an LLM's tool list and MCP.
An action gets a `Context` — say, show, ask to confirm, read what is in view and where the wearer
is, keep its own files — and nothing else: no hardware, no other app's data.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from oculi.errors import OculiError
from oculi.events import Card, CardRow

Permission = Literal["camera", "microphone", "location", "payment", "network", "storage"]
PERMISSIONS: tuple[str, ...] = typing.get_args(Permission)


class ActionError(OculiError):
    """An action could not do what was asked; the message is said to the wearer."""


class ArgumentError(OculiError):
    """Arguments that do not fit an action's schema (from a template, an LLM or MCP)."""


class PermissionDenied(OculiError):
    """An action reached for something its app did not declare."""


# --- what an action gets ------------------------------------------------------------------------


@dataclass(frozen=True)
class InView:
    """What the wearer is looking at: a product code and/or text read from the scene."""

    gtin: str | None = None
    text: str = ""
    payload: str | None = None
    """A QR code's raw content (merchant payment codes)."""
    image: bytes | None = None
    """The frame as JPEG, for apps with the camera permission."""


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Reply:
    """An action's result: the words spoken, a card, and data the dialogue keeps for follow-ups."""

    speech: str
    card: Card | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    confirm: str | None = None
    """Set by `Context.confirm`: the question put to the wearer before the action runs for real."""
    ask: str | None = None
    """Set by `Context.ask_for`: the argument the wearer's next words fill."""


@dataclass
class Context:
    """The narrow session API of one action call; built by the dispatcher, checked on each use."""

    app: str
    permissions: frozenset[str]
    language: str = "en"
    text: str = ""
    """The wearer's words that led here."""
    confirmed: bool = False
    """True once the wearer said yes to this very call."""
    cancelled: bool = False
    """For previewing actions: the wearer said no (or did not answer); undo what the preview
    prepared and say so."""
    own_voice: float | None = None
    """0..1 from the bone-conduction check of the words that led here; None when unknown."""
    last: Mapping[str, Any] = field(default_factory=dict)
    """This app's previous result (`Reply.data`), for follow-ups such as 'and the cheaper one?'."""
    data_dir: Path | None = None
    _in_view: InView | None = None
    _frame: Callable[[], bytes | None] | None = None
    """The frame in view, through the privacy gate: called once, on the first `in_view`."""
    _position: Position | None = None
    _llm: Callable[[str, str], Awaitable[str]] | None = None
    _said: list[str] = field(default_factory=list)
    _cards: list[Card] = field(default_factory=list)

    def _need(self, permission: str, what: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(
                f"app {self.app!r} asked for {what} without the {permission!r} permission"
            )

    @property
    def in_view(self) -> InView | None:
        self._need("camera", "what is in view")
        if self._frame is not None:
            release, self._frame = self._frame, None
            image = release()
            if image is not None:
                self._in_view = dataclasses.replace(self._in_view or InView(), image=image)
        return self._in_view

    @property
    def position(self) -> Position | None:
        self._need("location", "the wearer's position")
        return self._position

    @property
    def storage(self) -> Path:
        """The app's own folder; no other app can reach it."""
        self._need("storage", "its storage")
        if self.data_dir is None:
            raise ActionError("this session has no storage")
        folder = self.data_dir / "apps" / self.app
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    async def complete(self, instruction: str, text: str) -> str:
        """Ask the configured language model (network permission); ActionError without one."""
        self._need("network", "the language model")
        if self._llm is None:
            raise ActionError(
                self.say_in(
                    "That needs a language model; none is configured (agent.llm_url).",
                    "这需要语言模型，但还没有配置（agent.llm_url）。",
                )
            )
        return await self._llm(instruction, text)

    def say(self, text: str) -> None:
        """Say something before the reply (progress, a warning)."""
        self._said.append(text)

    def show(self, card: Card) -> None:
        """Show a card before the reply's own."""
        self._cards.append(card)

    def confirm(self, question: str, card: Card | None = None) -> Reply:
        """Return this from an action to have the wearer say yes before it runs again, confirmed."""
        return Reply(speech=question, card=card, confirm=question)

    def ask_for(self, argument: str, question: str) -> Reply:
        """Return this to have the wearer's next words become `argument` of this same action."""
        return Reply(speech=question, card=Card(layout="message", title=question), ask=argument)

    def reply(self, speech: str, title: str, *lines: str, **data: Any) -> Reply:
        """A plain reply: the words, a message card with a title and lines, and data kept."""
        card = Card(layout="message", title=title, rows=tuple(CardRow(label=s) for s in lines))
        return Reply(speech=speech, card=card, data=data)

    def say_in(self, en: str, zh: str) -> str:
        """Pick the wearer's language: apps answer in the language they were asked in."""
        return zh if self.language == "zh" else en


# --- declaring apps and actions -----------------------------------------------------------------

ActionFunc = Callable[..., Reply | Awaitable[Reply]]


@dataclass(frozen=True)
class ActionSpec:
    """One action as the agent, an LLM or MCP sees it."""

    app: str
    name: str
    description: str
    parameters: dict[str, Any]
    """JSON schema (type object) of the arguments."""
    risky: bool
    func: ActionFunc
    previews: bool = False
    """Called unconfirmed, the action changes nothing and returns `ctx.confirm(...)` describing
    what it would do; called with `ctx.cancelled`, it undoes what the preview prepared."""

    @property
    def tool_name(self) -> str:
        return f"{self.app}__{self.name}"

    def tool(self) -> dict[str, Any]:
        """The OpenAI chat-completions tool form."""
        return {
            "type": "function",
            "function": {
                "name": self.tool_name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def action(func: _F) -> _F: ...


@overload
def action(*, risky: bool = False, previews: bool = False) -> Callable[[_F], _F]: ...


def action(func: Any = None, *, risky: bool = False, previews: bool = False) -> Any:
    """Mark an app method as an action; `risky=True` makes the wearer confirm every call.

    A risky action that `previews` is first called unconfirmed so that it can put the details in
    the question ("Pay 12.50 BRL to Padaria Central?"); others get a generic question.
    """

    def mark(f: Any) -> Any:
        f.__oculi_action__ = {"risky": risky, "previews": previews}
        return f

    return mark(func) if func is not None else mark


class App:
    """Base class of apps. Subclasses set `name`, `description`, `permissions` and add actions."""

    name: str
    description: str = ""
    permissions: tuple[str, ...] = ()
    """Of `PERMISSIONS`: what the app's actions may reach through their context."""
    risky: bool = False
    """Every action of the app needs confirmation (payments)."""
    third_party: bool = False
    """Runs outside Oculi (an MCP server): camera frames reach it only as the wearer's privacy
    settings allow, with faces blurred."""
    intents_file: Path | None = None
    """The app's phrasings (hassil templates EN/ZH and labelled examples), beside its code."""

    def actions(self) -> dict[str, ActionSpec]:
        found = {}
        for attr in dir(type(self)):
            member = getattr(type(self), attr, None)
            marks = getattr(member, "__oculi_action__", None)
            if marks is None:
                continue
            bound = getattr(self, attr)
            found[attr] = ActionSpec(
                app=self.name,
                name=attr,
                description=_summary(bound),
                parameters=schema_of(bound),
                risky=self.risky or bool(marks["risky"]),
                previews=bool(marks["previews"]),
                func=bound,
            )
        return found


# --- schemas ------------------------------------------------------------------------------------

_ARG_LINE = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


def _summary(func: Callable[..., Any]) -> str:
    doc = inspect.getdoc(func) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _arg_docs(func: Callable[..., Any]) -> dict[str, str]:
    """`name: what it is` lines after an `Args:` line of the docstring."""
    doc = inspect.getdoc(func) or ""
    _, _, rest = doc.partition("Args:")
    found = {}
    for line in rest.splitlines():
        match = _ARG_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _json_type(hint: Any) -> tuple[dict[str, Any], bool]:
    """JSON schema of a type hint, and whether None is allowed."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unions other than X | None are not supported: {hint}")
        return _json_type(options[0])[0], True
    if origin is Literal:
        values = list(typing.get_args(hint))
        return {"type": _SCALARS[type(values[0])], "enum": values}, False
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return {"type": "array", "items": _json_type(item)[0]}, False
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, False
    raise TypeError(f"action arguments must be str, int, float, bool, Literal or list: {hint}")


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def schema_of(func: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of an action's arguments (all but the leading `ctx`)."""
    hints = typing.get_type_hints(func)
    docs = _arg_docs(func)
    properties: dict[str, Any] = {}
    required = []
    for index, (name, param) in enumerate(inspect.signature(func).parameters.items()):
        if index == 0 and name == "ctx":
            continue
        prop, optional = _json_type(hints[name])
        if name in docs:
            prop["description"] = docs[name]
        if param.default is not inspect.Parameter.empty and param.default is not None:
            prop["default"] = param.default
        properties[name] = prop
        if param.default is inspect.Parameter.empty and not optional:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def validate_args(spec: ActionSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments checked and coerced against the schema; ArgumentError names the first misfit.

    Parser slots arrive as strings ("3"), LLM arguments as any JSON: both go through here before
    anything runs.
    """
    if not isinstance(args, Mapping):
        raise ArgumentError(f"{spec.tool_name}: arguments must be an object")
    schema = spec.parameters
    properties: dict[str, Any] = schema["properties"]
    unknown = sorted(set(args) - set(properties))
    if unknown and schema.get("additionalProperties") is False:
        raise ArgumentError(f"{spec.tool_name}: unknown argument(s) {', '.join(unknown)}")
    clean = {}
    for name, value in args.items():
        if name in properties and value is not None:
            clean[name] = _coerce(spec.tool_name, name, value, properties[name])
    missing = [n for n in schema.get("required", ()) if n not in clean]
    if missing:
        raise ArgumentError(f"{spec.tool_name}: missing argument(s) {', '.join(missing)}")
    return clean


def _coerce(tool: str, name: str, value: Any, prop: Mapping[str, Any]) -> Any:
    kind = prop.get("type")
    try:
        if kind == "array":
            if not isinstance(value, list):
                raise ValueError("expected a list")
            result: Any = [_coerce(tool, name, v, prop["items"]) for v in value]
        elif kind == "string":
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError("expected text")
            result = str(value).strip()
        elif kind == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected a whole number")
            result = int(value)
        elif kind == "number":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            result = float(value)
            if result != result or result in (float("inf"), float("-inf")):
                raise ValueError("expected a finite number")
        elif kind == "boolean":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            result = value
        else:
            result = value
    except (TypeError, ValueError) as err:
        raise ArgumentError(f"{tool}: argument {name!r} = {value!r}: {err}") from err
    if "enum" in prop and result not in prop["enum"]:
        allowed = ", ".join(map(str, prop["enum"]))
        raise ArgumentError(f"{tool}: argument {name!r} = {value!r} is not one of {allowed}")
    return result

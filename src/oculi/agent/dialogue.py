"""The agent: understanding in three tiers, then the dialogue around each action call.

For each request it keeps the context (what is in view, where the wearer is, each app's last
result, the cards shown), asks for a missing argument, holds risky actions until the wearer says
yes, and lets "cancel" and "go back" work whatever app is in front. Every call runs through one
place, `_run`, so arguments are always checked, permissions always enforced and a failing app
never takes the session down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from oculi.agent.embedding import ExampleIndex
from oculi.agent.llm import ChatClient, LlmError, ToolCall, run_tools
from oculi.agent.parser import IntentParser, Parsed, detect_language
from oculi.apps.sdk import (
    ActionError,
    ActionSpec,
    App,
    ArgumentError,
    Context,
    InView,
    PermissionDenied,
    Position,
    Reply,
    validate_args,
)
from oculi.events import Answer, Card, CardRow, ErrorEvent, Event, Intent, RecordingState
from oculi.privacy.gate import PrivacyGate, Recipient, Refused

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
"""Longer requests are refused: nobody says that much to their glasses in one breath."""
IN_VIEW_SECONDS = 30.0
"""How long something seen stays 'this'."""
HISTORY = 20
"""Replies kept for 'go back'."""
ACTION_TIMEOUT_S = 30.0
CONFIRM_SECONDS = 30.0
"""A yes later than this does not count: the question has lapsed (and a payment is cancelled)."""
OWN_VOICE_MIN = 0.5
"""Below this bone-conduction score, a yes is someone else's and cannot confirm."""
_NOT_YOU = ("I need to hear that from you.", "需要你本人确认。")

WORLD = "world"
"""Origin of requests that come from text read in the scene, not from the wearer."""

_DIALOGUE_ACTIONS = {"confirm", "cancel", "back"}


@dataclass(frozen=True)
class Decision:
    """What the local tiers understood: an app action, its arguments, how, and how sure."""

    app: str
    action: str
    args: Mapping[str, Any]
    path: str
    confidence: float


@dataclass
class _Pending:
    call: ToolCall
    origin: str
    path: str
    confidence: float
    text: str
    missing: str | None = None
    """The argument the agent asked for; None when it waits for a yes."""
    at: float = field(default_factory=time.time)


@dataclass
class _Scene:
    """What the agent knows of the wearer's surroundings; each thing seen ages on its own."""

    seen: dict[str, tuple[Any, float]] = field(default_factory=dict)
    position: Position | None = None

    def in_view(self) -> InView | None:
        now = time.time()
        fresh = {k: v for k, (v, t) in self.seen.items() if now - t <= IN_VIEW_SECONDS}
        return InView(**fresh) if fresh else None


class Agent:
    """Understands requests and runs the actions they ask for, for one session."""

    def __init__(
        self,
        apps: Sequence[App],
        parser: IntentParser,
        index: ExampleIndex | None = None,
        llm: ChatClient | None = None,
        data_dir: Path | None = None,
        privacy: PrivacyGate | None = None,
    ) -> None:
        self.apps = {app.name: app for app in apps}
        self.actions: dict[str, ActionSpec] = {}
        for app in apps:
            for spec in app.actions().values():
                self.actions[spec.tool_name] = spec
        self.parser = parser
        self.index = index
        self.llm = llm
        self.data_dir = data_dir
        self.privacy = privacy or PrivacyGate.for_data_dir(data_dir)
        """Every frame an action reads goes through it (`_context`)."""
        self.scene = _Scene()
        self._last: dict[str, Mapping[str, Any]] = {}
        self._history: deque[Answer] = deque(maxlen=HISTORY)
        self._pending: _Pending | None = None
        self._undone: list[Event] = []

    # --- context --------------------------------------------------------------------------------

    def see(self, **seen: Any) -> None:
        """Something entered the view: `gtin`, scene `text`, a QR `payload`, the frame `image`."""
        now = time.time()
        for name, value in seen.items():
            if name not in InView.__dataclass_fields__:
                raise ValueError(f"unknown thing seen: {name}")
            if value is not None:
                self.scene.seen[name] = (value, now)

    def locate(self, position: Position) -> None:
        self.scene.position = position

    async def moved(self, position: Position, t: float) -> list[Event]:
        """A new GPS fix: apps that follow the wearer (navigation) may speak up unasked."""
        self.locate(position)
        events: list[Event] = []
        for app in self.apps.values():
            follow = getattr(app, "moved", None)
            if follow is None or "location" not in app.permissions:
                continue
            context = Context(app=app.name, permissions=frozenset(app.permissions),
                              _position=position, data_dir=self.data_dir)  # fmt: skip
            try:
                replies = follow(context, position, t)
            except Exception as err:  # an app's bug must not end the session
                log.exception("app %s failed on a position", app.name)
                events.append(ErrorEvent(stage="agent", message=f"{app.name}: {err!r}"))
                continue
            for reply in replies:
                answer = Answer(app=app.name, action="follow", speech=reply.speech,
                                card=reply.card)  # fmt: skip
                self._history.append(answer)
                if reply.data:
                    self._last[app.name] = dict(reply.data)
                events.append(answer)
        return events

    # --- one request ----------------------------------------------------------------------------

    async def handle(
        self, text: str, origin: str = "wearer", own_voice: float | None = None
    ) -> list[Event]:
        """The words of one request → the Intent(s) it became and the Answer; errors as events."""
        problem = _bad_text(text)
        if problem is not None:
            if not text.strip():
                return []
            language = detect_language(text[:MAX_TEXT_CHARS]) if problem != "binary" else "en"
            reply = message(
                _PROBLEMS[problem][language == "zh"],
                "I can't take that",
                _PROBLEMS[problem][0],
            )
            intent = Intent(
                app="system", action="unknown", path="none", confidence=0.0, text=text[:200]
            )
            return [
                ErrorEvent(stage="agent", message=f"request refused: {problem}"),
                intent,
                self._answer(intent, reply, language),
            ]
        text = text.strip()
        language = detect_language(text)
        pending, self._pending = self._pending, None
        parsed = self.parser.parse(text)
        if pending is not None and origin != WORLD:
            events = await self._resume(pending, text, language, parsed, own_voice)
            if events is not None:
                return events
            undone, self._undone = self._undone, []
            return [*undone, *await self._respond(text, language, origin, parsed, None)]
        return await self._respond(text, language, origin, parsed, pending)

    async def _respond(
        self, text: str, language: str, origin: str, parsed: Parsed | None, pending: _Pending | None
    ) -> list[Event]:
        decision = await self.understand(text, parsed)
        if decision is not None:
            if decision.app == "system" and decision.action in _DIALOGUE_ACTIONS:
                return self._dialogue(decision.action, text, language, pending)
            return await self._call(
                decision.app,
                decision.action,
                decision.args,
                decision.path,
                decision.confidence,
                text,
                language,
                origin,
            )
        if self.llm is not None:
            return await self._ask_llm(text, language, origin)
        return await self._call("system", "unknown", {}, "none", 0.0, text, language, origin)

    async def understand(self, text: str, parsed: Parsed | None = None) -> Decision | None:
        """The local tiers: templates, then the nearest labelled example; None when neither is
        sure (the LLM tier, when configured, takes it from there)."""
        parsed = parsed or self.parser.parse(text)
        if parsed is not None:
            return Decision(parsed.app, parsed.action, parsed.args, "parser", 1.0)
        if self.index is not None:
            near = await asyncio.to_thread(self.index.decide, text)
            if near is not None:
                return Decision(near.app, near.action, near.args, "embedding", round(near.score, 3))
        if self.llm is None and "ask__question" in self.actions and is_question(text):
            # a general question no app claims: the ask app says what answering it needs
            return Decision("ask", "question", {}, "parser", 0.5)
        return None

    async def _resume(
        self, pending: _Pending, text: str, language: str, parsed: Any, own_voice: float | None
    ) -> list[Event] | None:
        """A yes, a no, or the missing argument for the held call; None when it is a new request
        (a held preview is undone first: its events come back through `self._undone`)."""
        said = (parsed.app, parsed.action) if parsed is not None else None
        if pending.missing is None:
            late = time.time() - pending.at > CONFIRM_SECONDS
            if said == ("system", "confirm") and not late:
                if own_voice is not None and own_voice < OWN_VOICE_MIN:
                    self._pending = pending
                    reply = message(
                        _NOT_YOU[language == "zh"],
                        "Not you?",
                        "Only the wearer can confirm",
                    )
                    intent = Intent(app="system", action="confirm", path="parser", text=text)
                    return [
                        ErrorEvent(
                            stage="agent",
                            message="confirmation refused: the voice was not the wearer's",
                        ),
                        intent,
                        self._answer(intent, reply, language),
                    ]
                return await self._execute(
                    pending.call,
                    pending.path,
                    pending.confidence,
                    pending.text,
                    language,
                    confirmed=True,
                    own_voice=own_voice,
                )
            if said in (("system", "confirm"), ("system", "cancel")):
                if pending.call.spec.previews:
                    return await self._execute(
                        pending.call,
                        pending.path,
                        pending.confidence,
                        pending.text,
                        language,
                        cancelled=True,
                    )
                return self._dialogue("cancel", text, language, pending)
            same = said == (pending.call.spec.app, pending.call.spec.name)
            if pending.call.spec.previews and not same:  # the same request again: re-ask
                self._undone = await self._execute(
                    pending.call,
                    pending.path,
                    pending.confidence,
                    pending.text,
                    language,
                    cancelled=True,
                )
            return None  # anything else drops the question and is a request of its own
        if said is not None and said[0] == "system":
            if pending.call.spec.previews:
                undone = await self._execute(pending.call, pending.path, pending.confidence,
                                             pending.text, language, cancelled=True)  # fmt: skip
                if said == ("system", "cancel"):
                    return undone
                self._undone = undone
            return None
        if parsed is not None:  # a whole request of its own, even for the same action
            return None
        args = {**pending.call.args, pending.missing: text}
        return await self._call(
            pending.call.spec.app,
            pending.call.spec.name,
            args,
            pending.path,
            pending.confidence,
            pending.text,
            language,
            pending.origin,
        )

    def _dialogue(
        self, action: str, text: str, language: str, pending: _Pending | None
    ) -> list[Event]:
        intent = Intent(app="system", action=action, path="parser", text=text)
        zh = language == "zh"
        if action == "back" and len(self._history) >= 2:
            self._history.pop()
            previous = self._history[-1]
            return [
                intent,
                Answer(
                    app=previous.app,
                    action=previous.action,
                    speech=previous.speech,
                    card=previous.card,
                    language=previous.language,
                ),
            ]
        if action == "back":
            reply = message(
                "返回不了了。" if zh else "There is nothing to go back to.",
                "Nothing to go back to",
            )
        elif pending is not None:
            what = pending.call.spec.description.rstrip(".") or pending.call.spec.name
            reply = message("已取消。" if zh else "Cancelled.", "Cancelled", what)
        elif action == "cancel":
            reply = message("好的。" if zh else "OK.", "OK")
        else:
            reply = message(
                "没有需要确认的事。" if zh else "There is nothing to confirm.",
                "Nothing to confirm",
            )
        return [intent, self._answer(intent, reply, language)]

    async def _call(
        self,
        app: str,
        action: str,
        args: Mapping[str, Any],
        path: str,
        confidence: float,
        text: str,
        language: str,
        origin: str,
    ) -> list[Event]:
        spec = self.actions.get(f"{app}__{action}")
        if spec is None:
            return await self._call(
                "system", "unknown", {}, path, confidence, text, language, origin
            )
        try:
            call = ToolCall(spec, validate_args(spec, args))
        except ArgumentError as err:
            missing = _missing_argument(spec, args)
            if missing is None:
                return self._failed(spec, path, confidence, text, language, args, err)
            call = ToolCall(
                spec, {k: v for k, v in args.items() if k in spec.parameters["properties"]}
            )
            self._pending = _Pending(call, origin, path, confidence, text, missing=missing)
            prompt = _ask_for(missing, language)
            intent = Intent(
                app=app,
                action=action,
                args=dict(call.args),
                path=path,
                confidence=confidence,
                text=text,
            )
            reply = message(prompt, prompt)
            return [intent, self._answer(intent, reply, language)]
        if spec.risky:
            return await self._hold(call, path, confidence, text, language, origin)
        return await self._execute(call, path, confidence, text, language)

    async def _hold(
        self, call: ToolCall, path: str, confidence: float, text: str, language: str, origin: str
    ) -> list[Event]:
        """Risky actions wait for the wearer's yes; requests from scene text never get that far."""
        intent = Intent(
            app=call.spec.app,
            action=call.spec.name,
            args=dict(call.args),
            path=path,
            confidence=confidence,
            text=text,
        )
        zh = language == "zh"
        if origin == WORLD:
            reply = message(
                "我不会根据看到的文字去做这件事。请亲口说。"
                if zh
                else "I won't do that because of text I read. Ask me yourself.",
                "Not from scene text",
                "Risky actions need your own words",
            )
            return [
                ErrorEvent(
                    stage="agent",
                    message=f"{call.spec.tool_name} refused: requested by text read from the scene",
                ),
                intent,
                self._answer(intent, reply, language),
            ]
        if call.spec.previews:
            return await self._execute(call, path, confidence, text, language)
        self._pending = _Pending(call, origin, path, confidence, text)
        what = call.spec.description.rstrip(".") or call.spec.name
        details = ", ".join(f"{k} {v}" for k, v in call.args.items())
        question = (
            f"要{what}吗？请说确认或取消。"
            if zh
            else f"{what}{' — ' + details if details else ''}? Say yes to confirm or no to cancel."
        )
        reply = message(question, "Confirm?", what, details, "Say yes or no")
        return [intent, self._answer(intent, reply, language)]

    async def _execute(
        self,
        call: ToolCall,
        path: str,
        confidence: float,
        text: str,
        language: str,
        confirmed: bool = False,
        cancelled: bool = False,
        own_voice: float | None = None,
    ) -> list[Event]:
        intent = Intent(
            app=call.spec.app,
            action=call.spec.name,
            args=dict(call.args),
            path=path,
            confidence=confidence,
            text=text,
        )
        events: list[Event] = [intent]
        capture: list[Event] = []
        context = self._context(call.spec, text, language, confirmed, capture)
        context.cancelled, context.own_voice = cancelled, own_voice
        await self._prepare_frame(call.spec)
        try:
            reply = await self._run(call, context)
        except (ActionError, ArgumentError, PermissionDenied) as err:
            events.append(ErrorEvent(stage="agent", message=f"{call.spec.tool_name}: {err}"))
            reply = message(str(err), "Sorry", str(err)[:120])
        except Exception as err:  # an app's bug must not end the session
            log.exception("action %s failed", call.spec.tool_name)
            events.append(
                ErrorEvent(stage="agent", message=f"{call.spec.tool_name} failed: {err!r}")
            )
            said = f"The {call.spec.app} app ran into a problem."
            reply = message(said, "Something went wrong", said)
        events.extend(capture)
        if reply.ask is not None and not cancelled:
            self._pending = _Pending(call, "wearer", path, confidence, text, missing=reply.ask)
        elif reply.confirm is not None and not (confirmed or cancelled):
            self._pending = _Pending(call, "wearer", path, confidence, text)
        for card in context._cards:
            events.append(
                Answer(
                    app=call.spec.app,
                    action=call.spec.name,
                    speech="",
                    card=card,
                    language=language,
                )
            )
        speech = " ".join([*context._said, reply.speech]).strip()
        events.append(self._answer(intent, Reply(speech, reply.card, reply.data), language))
        if any(isinstance(e, RecordingState) for e in capture):
            events.append(RecordingState(camera=False, microphone=False, reason="done"))
        if reply.data:
            self._last[call.spec.app] = dict(reply.data)
        return events

    async def _run(self, call: ToolCall, context: Context) -> Reply:
        result = call.spec.func(context, **call.args)
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, ACTION_TIMEOUT_S)
        if not isinstance(result, Reply):
            raise ActionError(f"{call.spec.tool_name} returned no reply")
        return result

    def _context(
        self,
        spec: ActionSpec,
        text: str,
        language: str,
        confirmed: bool,
        capture: list[Event] | None = None,
    ) -> Context:
        """The action's context; the frame in view only through the privacy gate, when read
        (what happened to it goes to `capture`)."""
        app = self.apps[spec.app]
        seen = self.scene.in_view()
        frame = seen.image if seen is not None else None
        return Context(
            app=spec.app,
            permissions=frozenset(app.permissions),
            language=language,
            text=text,
            confirmed=confirmed,
            last=self._last.get(spec.app, {}),
            data_dir=self.data_dir,
            _in_view=replace(seen, image=None) if seen is not None else None,
            _frame=self._gated(app, frame, capture) if frame is not None else None,
            _position=self.scene.position,
            _llm=self._complete if self.llm is not None else None,
        )

    def _gated(
        self, app: App, frame: bytes, capture: list[Event] | None
    ) -> Callable[[], bytes | None]:
        """The frame as the privacy gate releases it to `app`; a refusal is an error event and
        no image, a release turns the recording indicator on until the action ends."""
        notes: list[Event] = capture if capture is not None else []

        def release() -> bytes | None:
            try:
                released = self.privacy.release(frame, _recipient(app))
            except Refused as err:
                notes.append(ErrorEvent(stage="privacy", message=str(err)))
                return None
            blurred = f", {released.faces} face(s) blurred" if released.faces else ""
            reason = f"frame released to {app.name}{blurred}"
            notes.append(
                RecordingState(camera=True, microphone=False, recipient=app.name, reason=reason)
            )
            return released.data

        return release

    async def _prepare_frame(self, spec: ActionSpec) -> None:
        """Blur the frame in view ahead, in a thread, for an app that would get it blurred."""
        seen = self.scene.in_view()
        if seen is None or seen.image is None:
            return
        to = _recipient(self.apps[spec.app])
        if self.privacy.refusal(to) is None and self.privacy.blurs(to):
            await asyncio.to_thread(self.privacy.prepare, seen.image)

    def _failed(
        self,
        spec: ActionSpec,
        path: str,
        confidence: float,
        text: str,
        language: str,
        args: Mapping[str, Any],
        err: Exception,
    ) -> list[Event]:
        intent = Intent(
            app=spec.app,
            action=spec.name,
            args=dict(args),
            path=path,
            confidence=confidence,
            text=text,
        )
        said = "我没听懂参数。" if language == "zh" else f"I couldn't use that: {err}"
        reply = message(said, "Sorry", str(err)[:120])
        return [
            ErrorEvent(stage="agent", message=str(err)),
            intent,
            self._answer(intent, reply, language),
        ]

    async def _complete(self, instruction: str, text: str) -> str:
        """A plain completion for apps (translate, ask): no tools, the app's own instruction."""
        assert self.llm is not None
        try:
            message = await self.llm.complete(
                [{"role": "system", "content": instruction}, {"role": "user", "content": text}], []
            )
        except LlmError as err:
            raise ActionError(str(err)) from err
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ActionError("the language model gave an empty answer")
        return content.strip()

    def _answer(self, intent: Intent, reply: Reply, language: str) -> Answer:
        answer = Answer(
            app=intent.app,
            action=intent.action,
            speech=reply.speech,
            card=reply.card,
            language=language,
        )
        self._history.append(answer)
        return answer

    # --- the LLM tier ---------------------------------------------------------------------------

    async def _ask_llm(self, text: str, language: str, origin: str) -> list[Event]:
        assert self.llm is not None
        context = self._llm_context()
        events: list[Event] = []

        async def run(call: ToolCall) -> Reply:
            ran = await self._execute(call, "llm", 1.0, text, language)
            events.extend(ran)
            answer = next(e for e in reversed(ran) if isinstance(e, Answer))
            return Reply(answer.speech, answer.card, self._last.get(call.spec.app, {}))

        try:
            outcome = await run_tools(self.llm, text, context, self._tools(), run)
        except LlmError as err:
            intent = Intent(app="system", action="unknown", path="llm", confidence=0.0, text=text)
            said = (
                "语言模型没有回应。"
                if language == "zh"
                else "The language model isn't answering right now."
            )
            reply = message(said, "No answer", str(err)[:120])
            return [
                *events,
                ErrorEvent(stage="agent", message=str(err)),
                intent,
                self._answer(intent, reply, language),
            ]
        for why in outcome.rejected:
            events.append(ErrorEvent(stage="agent", message=f"tool call refused: {why}"))
        if outcome.needs_confirmation is not None:
            held = outcome.needs_confirmation
            origin = WORLD if any("SCENE TEXT" in line for line in context) else origin
            return [*events, *await self._hold(held, "llm", 1.0, text, language, origin)]
        answers = [e for e in events if isinstance(e, Answer)]
        if outcome.text and answers:
            last = answers[-1]
            events[events.index(last)] = self._answer(
                Intent(app=last.app, action=last.action), Reply(outcome.text, last.card), language
            )
            return events
        if outcome.text:
            intent = Intent(app="ask", action="question", path="llm", text=text)
            reply = Reply(outcome.text, Card(layout="message", title="Answer"))
            return [*events, intent, self._answer(intent, reply, language)]
        if answers:
            return events
        return await self._call("system", "unknown", {}, "llm", 0.0, text, language, origin)

    def _tools(self) -> list[ActionSpec]:
        """Actions offered to the model: all but the dialogue words and the fallback."""
        hidden = {f"system__{name}" for name in (*_DIALOGUE_ACTIONS, "unknown")}
        return [spec for name, spec in self.actions.items() if name not in hidden]

    def _llm_context(self) -> list[str]:
        lines = []
        seen = self.scene.in_view()
        if seen is not None:
            if seen.gtin:
                lines.append(f"The wearer looks at a product with barcode {seen.gtin}.")
            if seen.text:
                lines.append(f'SCENE TEXT (read by the camera): "{seen.text[:500]}"')
            if seen.payload:
                lines.append("A payment QR code is in view.")
        if self.scene.position is not None:
            lines.append(f"Wearer at {self.scene.position.lat:.5f}, {self.scene.position.lon:.5f}.")
        for app, data in self._last.items():
            lines.append(f"Last {app} result: {dict(data)}"[:300])
        return lines


def message(speech: str, title: str, *lines: str) -> Reply:
    """A plain reply of the dialogue itself: the words and a message card."""
    card = Card(layout="message", title=title, rows=tuple(CardRow(label=s) for s in lines))
    return Reply(speech=speech, card=card)


_PROBLEMS = {
    "long": ("That request is too long.", "这个请求太长了。"),
    "binary": ("That wasn't text I can read.", "这不是我能读的文字。"),
    "empty": ("I heard nothing.", "我什么也没听到。"),
}


_QUESTION_EN = re.compile(
    r"^(?:who|whom|whose|what|what's|when|where|why|how|which|is|are|was|were|does|do|did|"
    r"can|could|will|would|should|has|have)\b",
    re.IGNORECASE,
)
_QUESTION_ZH = re.compile(r"吗|什么|多少|为什么|谁|哪|怎么|几|多长|多远|多高|多大")


def is_question(text: str) -> bool:
    """Worded as a question (or ends with a question mark)."""
    text = text.strip()
    if text.endswith(("?", "？")):
        return True
    return bool(
        _QUESTION_ZH.search(text) if detect_language(text) == "zh" else _QUESTION_EN.match(text)
    )


def _bad_text(text: str) -> str | None:
    if not text.strip():
        return "empty"
    if len(text) > MAX_TEXT_CHARS:
        return "long"
    controls = sum(
        1
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\t\r"
    )
    if controls or "\ufffd" in text:
        return "binary"
    return None


def _missing_argument(spec: ActionSpec, args: Mapping[str, Any]) -> str | None:
    """The first required argument not given, when that is the only thing wrong."""
    required = spec.parameters.get("required", [])
    missing = [name for name in required if args.get(name) in (None, "")]
    if not missing:
        return None
    try:
        validate_args(spec, {**args, **{name: "x" for name in missing}})
    except ArgumentError:
        return None
    return str(missing[0])


_QUESTIONS = {
    "destination": ("Where to?", "去哪里？"),
    "text": ("What should I write?", "要写什么？"),
    "query": ("What should I look for?", "要找什么？"),
    "flight": ("Which flight?", "哪个航班？"),
    "language": ("Into which language?", "翻译成哪种语言？"),
    "amount": ("How much?", "多少钱？"),
    "date": ("On which day?", "哪一天？"),
}


def _recipient(app: App) -> Recipient:
    if app.third_party:
        return Recipient(app.name, frozenset(app.permissions), "third_party")
    return Recipient(app.name, frozenset(app.permissions))


def _ask_for(argument: str, language: str) -> str:
    words = argument.replace("_", " ")
    en, zh = _QUESTIONS.get(argument, (f"What {words}?", f"请说{words}。"))
    return zh if language == "zh" else en

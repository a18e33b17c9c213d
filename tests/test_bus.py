"""The event bus: order, feedback of outputs, and failing stages turned into error events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from oculi.errors import OculiError
from oculi.events import ErrorEvent, Event, TextInput, Utterance
from oculi.runtime.bus import EventBus


class Echo:
    """Turns typed text into an utterance, as a stand-in upstream stage."""

    name = "echo"

    async def __call__(self, event: Event) -> Sequence[Event]:
        return (Utterance(text=event.text),) if isinstance(event, TextInput) else ()


class Broken:
    name = "broken"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, Utterance):
            raise self.error
        return ()


def test_outputs_are_fed_back_in_order() -> None:
    seen: list[str] = []
    bus = EventBus(stages=[Echo()], listeners=[lambda e: seen.append(e.kind)])
    out = asyncio.run(bus.publish(TextInput(text="hi")))
    assert [e.kind for e in out] == ["text_input", "utterance"]
    assert seen == ["text_input", "utterance"]


def test_a_failing_stage_becomes_an_error_event_and_others_still_run() -> None:
    bus = EventBus(stages=[Echo(), Broken(ValueError("boom"))])
    out = asyncio.run(bus.publish(TextInput(text="hi")))
    errors = [e for e in out if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert errors[0].stage == "broken"
    assert "boom" in errors[0].message
    out = asyncio.run(bus.publish(TextInput(text="again")))
    assert [e.kind for e in out] == ["text_input", "utterance", "error"]


def test_an_oculi_error_keeps_its_message() -> None:
    bus = EventBus(stages=[Echo(), Broken(OculiError("catalog is locked"))])
    out = asyncio.run(bus.publish(TextInput(text="hi")))
    assert [e.message for e in out if isinstance(e, ErrorEvent)] == ["catalog is locked"]


def test_stages_that_answer_each_other_forever_are_stopped() -> None:
    class Loop:
        name = "loop"

        async def __call__(self, event: Event) -> Sequence[Event]:
            return (TextInput(text="again"),)

    bus = EventBus(stages=[Loop()])
    try:
        asyncio.run(bus.publish(TextInput(text="start")))
    except OculiError as err:
        assert "over" in str(err)
    else:
        raise AssertionError("an endless loop of events was not stopped")

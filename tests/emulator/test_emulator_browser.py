"""The emulator in a real headless Chromium against a real device server: pairing, a photo and a
gaze, a typed question, the price card on the HUD and the spoken answer; the g1 switch; the GPS.

The page keeps what it received in `window.oculiEmulator`; the tests read it there and in the
timeline, and leave a screenshot of the price card in test-artifacts/emulator/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from emulatorkit import ARTIFACTS, TOKEN, Served

from oculi.apps.shop.money import say_price, show_price
from oculi.services.catalog import open_catalog
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

VIEW = "window.oculiEmulator"


def _received(page: Any, kind: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = page.evaluate(
        f"kind => {VIEW}.received.filter(e => e.kind === kind)", kind
    )
    return events


def _wait(page: Any, condition: str, arg: Any = None, timeout_ms: int = 30_000) -> None:
    """Until a JavaScript expression over `view` (window.oculiEmulator) holds."""
    page.wait_for_function(
        f"arg => {{ const view = {VIEW}; return Boolean(view && ({condition})); }}",
        arg=arg,
        timeout=timeout_ms,
    )


def _open_paired(page: Any, served: Served) -> None:
    """Open the emulator and pair it with a code from the server, as the wearer types it."""
    page.goto(served.url + "/emulator/")
    page.locator("#pair-code").fill(served.pairing_code())
    page.locator("#pair-form button").click()
    _wait(page, "view.state === 'online'")


def _best_price(served: Served, gtin: str) -> tuple[str, str]:
    """The best offer as the wearer should hear and see it, read from the server's catalog."""
    config = served.config
    with open_catalog(config.catalog_target, files_dir=config.data_dir) as catalog:
        comparison = catalog.compare_prices(gtin)
    assert comparison is not None and comparison.best is not None
    best = comparison.best
    return say_price(best.price_cents, best.currency), show_price(best.price_cents, best.currency)


def test_how_much_is_this_on_an_uploaded_photo_shows_the_price_card(
    page: Any, served: Served, tmp_path: Path
) -> None:
    product = DEMO_PRODUCTS[0]
    spec = PackSpec(product.gtin, product.name, product.brand, product.colour)
    photo = tmp_path / "pack.jpg"
    photo.write_bytes(to_jpeg(render_pack_photo(spec, centre=(0.55, 0.5), seed=3)))
    spoken, shown = _best_price(served, product.gtin)

    _open_paired(page, served)
    page.locator("#photo").set_input_files(photo)
    lens = page.locator("#lens")
    _wait(page, "document.querySelector('#lens').dataset.source === 'image'")
    box = lens.bounding_box()
    lens.click(position={"x": box["width"] * 0.55, "y": box["height"] * 0.5})
    seen = "view.received.some(e => e.kind === 'barcode_seen' && e.gtin === arg)"
    _wait(page, seen, product.gtin)
    page.locator("#text").fill("how much is this")
    page.locator("#text").press("Enter")
    _wait(page, "view.cards.length > 0 && view.speech.length > 0")
    page.wait_for_function(
        "() => { const img = document.querySelector('#hud-card');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "price_card.png"), full_page=True)

    gaze = _timeline(page, "out", "gaze")
    assert gaze, "the click on the lens sends a gaze event"
    (answer,) = _received(page, "answer")
    assert spoken in answer["speech"], answer["speech"]
    assert any(spoken in line for line in _timeline(page, "in", "answer"))
    card = page.evaluate(f"{VIEW}.cards.at(-1)")
    assert card["card"]["title"] == product.name
    assert [row["value"] for row in card["card"]["rows"] if row["highlight"]] == [shown]
    hud = page.evaluate(
        "() => { const img = document.querySelector('#hud-card');"
        " return [img.naturalWidth, img.naturalHeight, img.closest('#hud').dataset.shown]; }"
    )
    assert hud == [640, 480, "true"], "the HUD shows the card at the s1 display's resolution"
    speech = page.evaluate(f"{VIEW}.speech.at(-1)")
    assert speech["riff"] == "RIFF" and speech["bytes"] > 1000
    assert speech["text"] == answer["speech"]
    assert page.evaluate(f"{VIEW}.refused") == []


def test_the_g1_switch_starts_an_audio_only_session_and_push_to_talk_streams_audio(
    page: Any, served: Served
) -> None:
    hellos: list[dict[str, Any]] = []

    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: _keep_hello(payload, hellos))

    page.on("websocket", watch)
    page.goto(served.url + "/emulator/")
    page.locator("#pairing summary").click()
    page.locator("#admin-token").fill(TOKEN)
    page.locator("#pair-browser").click()
    _wait(page, "view.state === 'online'")
    first = page.evaluate(f"{VIEW}.welcome")
    assert first["profile"] == "s1"

    page.locator("#profile-switch label", has_text="g1").click()
    _wait(page, "view.state === 'online' && view.welcome.session !== arg", first["session"])
    assert hellos[-1].get("profile") == "g1", "the switch asks for g1 in hello"
    welcome = page.evaluate(f"{VIEW}.welcome")
    assert welcome["profile"] == "g1" and not welcome["resumed"]
    assert page.locator("#hud-none").is_visible()
    assert not page.locator("#hud-card").is_visible()

    page.locator("#text").fill("volume up")
    page.locator("#text").press("Enter")
    _wait(page, "view.speech.length > 0")
    assert _received(page, "answer")
    assert not _received(page, "card_shown"), "g1 has no display: no cards"

    talk = page.locator("#talk")
    talk.hover()
    page.mouse.down()
    page.wait_for_timeout(1000)
    page.mouse.up()
    _wait(page, "document.querySelector('#talk').dataset.live === 'false'")
    page.wait_for_timeout(300)
    page.locator("#stats").click()
    _wait(page, "view.stats && view.stats.unacked === 0")
    chunks = page.evaluate(f"{VIEW}.sent.audio_chunk")
    assert 35 <= chunks <= 80, f"about 50 chunks of 20 ms for a 1 s press, got {chunks}"
    stats = page.evaluate(f"{VIEW}.stats")
    assert stats["accepted"] >= chunks + 2, stats  # and the touch and the text
    assert page.evaluate(f"{VIEW}.refused") == [], "every audio frame is accepted"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "g1_session.png"), full_page=True)


def test_map_clicks_and_walks_send_gps_fixes_and_a_dropped_connection_resumes(
    page: Any, served: Served
) -> None:
    _open_paired(page, served)
    _wait(page, "document.querySelector('#gps-info').textContent.includes('ways')")
    session = page.evaluate(f"{VIEW}.welcome.session")

    page.locator("#map").click()  # the middle of the map: the middle of central Helsinki
    (fix,) = _timeline(page, "out", "gps_fix")
    lat, lon = (float(v) for v in re.findall(r"-?\d+\.\d+", fix)[:2])
    assert 60.16 < lat < 60.18 and 24.93 < lon < 24.96, fix

    page.locator("#drop").click()
    _wait(page, "view.state === 'online' && view.welcome.resumed")
    assert page.evaluate(f"{VIEW}.welcome.session") == session

    page.locator("#text").fill("take me to Kiasma")
    page.locator("#text").press("Enter")
    _wait(page, "view.received.some(e => e.kind === 'answer')")
    (answer,) = _received(page, "answer")
    assert answer["app"] == "navigate", answer
    assert "GPS" not in answer["speech"], "the fix from the map arrived before the question"

    page.locator("label", has_text="walk to").click()
    box = page.locator("#map").bounding_box()
    page.locator("#map").click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.45})
    _wait(page, "view.sent.gps_fix >= 3", timeout_ms=10_000)  # one a second along the route
    page.locator("#gps-stop").click()
    walked = _timeline(page, "out", "gps_fix")[-1]
    assert walked.startswith("walking: ×"), walked

    page.locator("#webcam").click()  # Chromium's fake camera: 2 frames a second
    _wait(page, "view.sent.video_frame >= 2", timeout_ms=10_000)
    page.locator("#webcam").click()
    page.locator("#stats").click()
    _wait(page, "view.stats && view.stats.unacked === 0")
    assert page.evaluate(f"{VIEW}.refused") == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gps_walk.png"), full_page=True)


def _timeline(page: Any, direction: str, kind: str) -> list[str]:
    lines: list[str] = page.evaluate(
        "([dir, kind]) => [...document.querySelectorAll("
        "`#timeline li[data-dir='${dir}'][data-kind='${kind}'] .summary`)].map(e => e.textContent)",
        [direction, kind],
    )
    return lines


def _keep_hello(payload: str | bytes, hellos: list[dict[str, Any]]) -> None:
    if isinstance(payload, str) and '"hello"' in payload:
        hellos.append(json.loads(payload))


_TONE = """async ([hz, seconds]) => {
  const context = new AudioContext({ sampleRate: 48000 });
  await context.audioWorklet.addModule("pcm-worklet.js");
  const node = new AudioWorkletNode(context, "oculi-pcm");
  const chunks = [];
  node.port.onmessage = (m) => chunks.push([...new Int16Array(m.data.pcm)]);
  const tone = new OscillatorNode(context, { frequency: hz });
  const gain = new GainNode(context, { gain: 0.5 });
  const mute = new GainNode(context, { gain: 0 });
  tone.connect(gain).connect(node).connect(mute).connect(context.destination);
  tone.start();
  await context.resume();
  node.port.postMessage("start");
  await new Promise((done) => setTimeout(done, seconds * 1000));
  node.port.postMessage("stop");
  await new Promise((done) => setTimeout(done, 200));
  await context.close();
  return chunks;
}"""


def test_the_worklet_makes_16_khz_pcm_in_20_ms_chunks_without_aliasing(
    page: Any, served: Served
) -> None:
    page.goto(served.url + "/emulator/")
    low: list[list[int]] = page.evaluate(_TONE, [1000, 0.6])
    assert {len(chunk) for chunk in low} == {320}, "20 ms of 16 kHz audio per chunk"
    samples = _pcm(low)
    crossings = np.count_nonzero(np.diff(np.signbit(samples)))
    assert crossings / 2 / (len(samples) / 16000) == pytest.approx(1000, rel=0.02)
    assert np.sqrt(np.mean(samples**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    folded = _pcm(page.evaluate(_TONE, [13000, 0.6]))
    assert np.sqrt(np.mean(folded**2)) < 0.01, "13 kHz is filtered out, not folded to 3 kHz"


def _pcm(chunks: list[list[int]]) -> Any:
    """The samples as floats, without the first chunks (the tone starting) and the padded last."""
    return np.concatenate([np.array(c, dtype=np.float64) for c in chunks[2:-1]]) / 32768

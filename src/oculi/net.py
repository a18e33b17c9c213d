"""Listening sockets for the servers Oculi runs (the device server, the wallet)."""

from __future__ import annotations

import socket

from oculi.errors import OculiError


def tcp_listener(host: str, port: int, error: type[OculiError] = OculiError) -> socket.socket:
    """A listening TCP socket for uvicorn, bound (and its port known) before uvicorn runs. Made
    by hand so that `proto` is IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets, and
    without it every keep-alive request waits for a delayed ACK (about 40 ms on Linux). A
    failure is raised as `error`, the caller's own kind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as err:
        raise error(f"cannot listen on {host}:{port}: {err}") from err
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise error(f"cannot listen on {host}:{port}: {err}") from err
    return sock

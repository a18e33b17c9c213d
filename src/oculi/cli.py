"""The `oculi` command.

Exit codes: 0 success, 1 a scenario expectation failed, 2 bad input (config, scenario, files).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from oculi import __version__
from oculi.agent.commands import add_commands as add_ask_commands
from oculi.apps.pay.demo import prepare_demo_wallet
from oculi.devices.replay import Check, ScenarioResult, describe_input, replay
from oculi.devices.scenario import load_scenario
from oculi.errors import ConfigError, OculiError
from oculi.runtime.config import PROFILES, Config, load_config
from oculi.runtime.power.commands import add_commands as add_power_commands
from oculi.runtime.session import Session
from oculi.server.commands import add_commands as add_server_commands
from oculi.services.catalog.commands import add_commands as add_catalog_commands
from oculi.services.maps.commands import add_commands as add_route_commands
from oculi.services.wallet.commands import add_commands as add_pay_commands
from oculi.vision.commands import add_commands as add_vision_commands

console = Console()
err_console = Console(stderr=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        code: int = args.handler(args, config)
        return code
    except OculiError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oculi", description="Oculi, an open OS for AI glasses")
    parser.add_argument("--version", action="version", version=f"oculi {__version__}")
    parser.add_argument("--config", type=Path, help="TOML config file (also $OCULI_CONFIG)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="replay a scenario file through the runtime")
    run.add_argument("scenario", type=Path)
    run.add_argument("--profile", choices=PROFILES, help="device profile (default from config)")
    run.add_argument(
        "--out",
        type=Path,
        help="event log, card PNGs, reply WAVs and the replay's own data folder "
        "(default oculi-out/NAME-PROFILE)",
    )
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(handler=_run)

    listen = sub.add_parser("listen", help="run a recording or a live microphone through the "
                            "voice path")  # fmt: skip
    listen.add_argument("file", type=Path, nargs="?",
                        help="WAV/FLAC: mono, or the profile's channels")  # fmt: skip
    listen.add_argument(
        "--mic",
        action="store_true",
        help="listen to a live microphone instead (needs sounddevice + PortAudio)",
    )
    listen.add_argument("--seconds", type=float, help="with --mic: stop after this long")
    listen.add_argument(
        "--device",
        metavar="NAME_OR_INDEX",
        help="with --mic: the input device (default: the system's)",
    )
    listen.add_argument("--profile", choices=PROFILES, help="device profile (default from config)")
    listen.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (with --mic: one line per utterance)",
    )
    listen.set_defaults(handler=_listen)

    demo = sub.add_parser("demo", help="replay the shipped scenarios on both profiles")
    demo.add_argument("--out", type=Path, default=Path("oculi-demo-out"))
    demo.set_defaults(handler=_demo)

    add_catalog_commands(sub)
    add_ask_commands(sub)
    add_pay_commands(sub)
    add_route_commands(sub)
    add_vision_commands(sub)
    add_power_commands(sub)
    add_server_commands(sub)

    bench = sub.add_parser("bench", help="run benchmarks and print their tables")
    bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    bench.add_argument("--runs", type=int, default=50, help="measured runs per benchmark")
    bench.add_argument("--json", type=Path, help="also save the tables as JSON here")
    bench.add_argument("--plot", type=Path, metavar="DIR", help="save figures and histograms (PNG)")
    bench.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="benchmark option, e.g. --set wake_hours=3")  # fmt: skip
    bench.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    bench.set_defaults(handler=_bench)
    return parser


def _run(args: argparse.Namespace, config: Config) -> int:
    scenario = load_scenario(args.scenario)
    if args.profile:
        config = config.with_overrides(profile=args.profile)
    profile = config.profile
    out = args.out or Path("oculi-out") / f"{args.scenario.stem}-{profile}"
    # a replay is a rehearsal: its notes, photos and payments go to a sandbox beside its
    # outputs, never into the wearer's own data (an explicit catalog.path is still used)
    sandbox = out / "data"
    if sandbox.exists():
        shutil.rmtree(sandbox)
    prepare_demo_wallet(sandbox)
    session = Session(config.with_overrides(data_dir=str(sandbox)))
    try:
        result = asyncio.run(replay(scenario, session, out))
    finally:
        session.close()
    if args.json:
        print(json.dumps(result.summary(), indent=2, ensure_ascii=False))
    else:
        _print_result_table(result)
        console.print(f"outputs in {out}")
    return 0 if result.passed else 1


def _print_result_table(result: ScenarioResult) -> None:
    table = Table(title=f"{result.scenario.name} · profile {result.profile}")
    for column in ("step", "input", "answer", "check", "result"):
        table.add_column(column)
    for step in result.steps:
        answer = " / ".join(step.answers)
        checks: list[Check | None] = [*step.checks] or [None]
        for i, check in enumerate(checks):
            first = i == 0
            table.add_row(
                str(step.step.number) if first else "",
                f"{step.step.kind}: {describe_input(step.step)}"[:48] if first else "",
                answer[:60] if first else "",
                check.what if check else "",
                ("[green]pass[/]" if check.passed else f"[red]FAIL[/] {check.detail[:60]}")
                if check
                else "",
            )
    console.print(table)
    verdict = "[green]passed[/]" if result.passed else "[red]failed[/]"
    passed = sum(c.passed for c in result.checks)
    console.print(f"{result.scenario.name}: {verdict} ({passed}/{len(result.checks)} checks)")


def _listen(args: argparse.Namespace, config: Config) -> int:
    from oculi.agent.parser import IntentParser
    from oculi.apps.registry import first_party_intent_files
    from oculi.audio.listen import listen_file, recognizer_from, voice_settings_from
    from oculi.audio.rescore import CommandPhrases
    from oculi.runtime.profile import load_profile

    if (args.file is None) == (not args.mic):
        raise ConfigError("give a recording FILE or --mic (not both)")
    if not args.mic and (args.seconds is not None or args.device is not None):
        raise ConfigError("--seconds and --device go with --mic")
    profile = load_profile(args.profile or config.profile)
    phrasings = IntentParser(first_party_intent_files()).phrasings("en")
    settings = replace(voice_settings_from(config), commands=CommandPhrases(phrasings))
    recognizer = recognizer_from(config)
    if args.mic:
        return _listen_mic(args, profile, settings, recognizer)
    result = listen_file(args.file, profile, settings, recognizer)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    own = {None: "n/a", True: "yes", False: "no"}[result["own_voice"]]
    console.print(f"[bold]{result['text'] or '(nothing heard from the wearer)'}[/]")
    console.print(f"wake: {'yes' if result['wake'] else 'no'} · own voice: {own} "
                  f"(score {result['own_voice_score']}) · SNR {result['snr_db']} dB")  # fmt: skip
    for note in result["notes"]:
        console.print(f"note: {note}", style="yellow")
    table = Table(title="segments")
    for column in ("start s", "end s", "transcript", "wake", "own voice"):
        table.add_column(column)
    for seg in result["segments"]:
        table.add_row(str(seg["start_s"]), str(seg["end_s"]), seg["transcript"],
                      str(seg["wake"]), str(seg["own_voice_score"]))  # fmt: skip
    console.print(table)
    console.print("timings (ms): " + ", ".join(f"{k} {v}" for k, v in result["timings_ms"].items()))
    return 0


def _listen_mic(args: argparse.Namespace, profile: Any, settings: Any, recognizer: Any) -> int:
    from oculi.audio.listen import listen_live, live_notes
    from oculi.audio.microphone import open_microphone

    if args.seconds is not None and args.seconds <= 0:
        raise ConfigError("--seconds must be positive")
    mic = open_microphone(args.device, profile.microphones.channels)

    def report(result: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
            return
        own = {None: "n/a", True: "yes", False: "no"}[result["own_voice"]]
        segment = result["segments"][0]
        text = result["text"] or f"(not the wearer: {segment['transcript'] or '…'})"
        console.print(f"[bold]{text}[/]  wake: {'yes' if result['wake'] else 'no'} · "
                      f"own voice: {own} · SNR {result['snr_db']} dB · "
                      f"at {segment['start_s']} s")  # fmt: skip

    if not args.json:
        until = f"for {args.seconds:g} s" if args.seconds else "until Ctrl-C"
        err_console.print(f"listening to {mic.description} {until}", highlight=False)
        for note in live_notes(mic, profile, mic.channels):
            err_console.print(f"note: {note}", style="yellow", highlight=False)
    count = listen_live(mic, profile, report, settings=settings, recognizer=recognizer,
                        seconds=args.seconds)  # fmt: skip
    if not args.json:
        err_console.print(f"{count} utterance(s); {mic.overflows} block(s) dropped by the device")
    return 0


def _demo(args: argparse.Namespace, config: Config) -> int:
    from oculi.demo import run_demo

    run = run_demo(config, args.out, console)
    table = Table(title="Oculi demo")
    for column in ("scenario", "profile", "steps", "checks passed", "result"):
        table.add_column(column)
    for result in run.results:
        passed = sum(c.passed for c in result.checks)
        table.add_row(result.scenario.name, result.profile, str(len(result.steps)),
                      f"{passed}/{len(result.checks)}",
                      "[green]pass[/]" if result.passed else "[red]FAIL[/]")  # fmt: skip
    console.print(table)
    console.print(f"open {run.index} to see the cards and hear the replies")
    return 0 if run.passed else 1


def _bench(args: argparse.Namespace, config: Config) -> int:
    from oculi.bench import benchmarks_dir, discover, run_benchmarks, save_json

    if args.list:
        for name, module in discover(benchmarks_dir()).items():
            console.print(f"{name}: {module.DESCRIPTION}")
        return 0
    if args.runs < 1:
        raise OculiError("--runs must be at least 1")
    with Progress(console=console, transient=True) as progress:

        def advance_factory(name: str, total: int) -> Callable[[], None]:
            task = progress.add_task(name, total=total)
            return lambda: progress.advance(task)

        options = dict(_key_value(item) for item in args.set)
        tables = run_benchmarks(args.names, args.runs, advance_factory, options)
    for bench_table in tables:
        table = Table(title=bench_table.title)
        for column in bench_table.columns:
            table.add_column(
                column, justify="left" if column == bench_table.columns[0] else "right"
            )
        for row in bench_table.rows:
            table.add_row(*(str(v) for v in row))
        console.print(table)
        for note in bench_table.notes:
            console.print(f"  {note}", style="dim")
    if args.json:
        save_json(tables, args.json)
        console.print(f"saved {args.json}")
    if args.plot:
        from oculi.bench_plot import plot_latencies

        for bench_table in tables:
            if saved := plot_latencies(bench_table, args.plot / f"{bench_table.name}.png"):
                console.print(f"saved {saved}")
            for file_name, png in bench_table.figures.items():
                args.plot.mkdir(parents=True, exist_ok=True)
                (args.plot / file_name).write_bytes(png)
                console.print(f"saved {args.plot / file_name}")
    return 0


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise OculiError(f"--set {item!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


if __name__ == "__main__":
    sys.exit(main())

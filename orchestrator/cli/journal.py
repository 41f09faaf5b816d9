"""``pitchside journal status|replay|drain``: what the sinks' journals and dead letters hold, and emptying them.

The sinks and the state directory come from the same places ``pitchside run`` reads them (``--config``,
``--sink``, ``--state-dir`` / ``PITCHSIDE_STATE_DIR``), so in a pod
``pitchside journal status --config /etc/pitchside/pitchside.toml`` looks at that replica's volume.
"""

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer

from orchestrator.cli.options import StateDirOption
from orchestrator.config.run_config import ConfigError, RunConfig, from_mapping, load_toml
from orchestrator.sinks import backlog
from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.settings import DeliverySettings, Durability

DEFAULT_REPLAY_TIMEOUT_S: Final = 60.0

app = typer.Typer(help="Inspect, replay or drain the sinks' on-disk journals.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", exists=True, help="The pitchside.toml the orchestrator runs with.")
]
SinkOption = Annotated[
    list[str] | None, typer.Option("--sink", help="Sink URI (repeatable); default: the config file's sinks.")
]


@app.command()
def status(
    config: ConfigOption = None,
    sink: SinkOption = None,
    state_dir: StateDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of a table.")] = False,
) -> None:
    """Events waiting in each sink's journal (and journals no configured sink owns), and the dead letters."""
    sinks, settings = _load(config, sink, state_dir)
    try:
        found = backlog.scan(sinks, settings)
    except SinkConfigError as exc:
        _fail(exc, code=2)
    now = time.time()
    if as_json:
        typer.echo(json.dumps(found.to_json(now), indent=2))
        return
    for line in _table(found, now):
        typer.echo(line)


@app.command()
def replay(
    config: ConfigOption = None,
    sink: SinkOption = None,
    state_dir: StateDirOption = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout", min=0.0, help="Give up after this many seconds; the rest stays journaled.")
    ] = DEFAULT_REPLAY_TIMEOUT_S,
) -> None:
    """Deliver the journaled events to their feeds. Exits 1 if any are left. Not while a run uses this state."""
    sinks, settings = _load(config, sink, state_dir)
    before = backlog.scan(sinks, settings).journaled
    try:
        after = asyncio.run(backlog.replay(sinks, settings, timeout_s))
    except SinkConfigError as exc:
        _fail(exc, code=1)
    left = sum(j.records for j in after.journals if j.sink is not None)
    typer.echo(f"replayed {before - after.journaled} event(s); {left} still journaled for the configured sinks")
    if left:
        raise typer.Exit(code=1)


@app.command()
def drain(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file the events are appended to.")],
    config: ConfigOption = None,
    sink: SinkOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Move every journaled event into a JSON Lines file and out of the journals (a feed gone for good, a disk
    to free). Each line is the event as journaled plus its sink. Not while a run uses this state."""
    sinks, settings = _load(config, sink, state_dir)
    try:
        moved = asyncio.run(backlog.drain(sinks, settings, out))
    except (SinkConfigError, OSError) as exc:
        _fail(exc, code=1)
    typer.echo(f"drained {moved} event(s) to {out}")


def _load(config: Path | None, sinks: list[str] | None, state_dir: Path | None) -> tuple[list[str], DeliverySettings]:
    try:
        run = load_toml(config, state_dir=state_dir) if config is not None else from_mapping({}, state_dir=state_dir)
    except ConfigError as exc:
        for line in exc.problems[:-1]:
            typer.echo(f"error: {line}", err=True)
        _fail(ConfigError(exc.problems[-1]), code=2)
    chosen = list(sinks) if sinks else list(run.sinks)
    return chosen, _settings(run)


def _settings(run: RunConfig) -> DeliverySettings:
    """The run's delivery settings (journal, dead letters, retries); replay never needs write-ahead."""
    return replace(run.delivery, durability=Durability.BUFFERED)


def _table(found: backlog.Backlog, now: float) -> list[str]:
    lines = [f"{'sink':<40} {'segments':>8} {'events':>8} {'oldest':>10}  journal"]
    for j in found.journals:
        age = j.age_s(now)
        lines.append(
            f"{(j.sink or '(no configured sink)'):<40} {j.segments:>8} {j.records:>8} "
            f"{'-' if age is None else f'{age:.0f} s':>10}  {j.directory}"
        )
    lines.append(f"journaled: {found.journaled} event(s)")
    lines.append(f"dead letters: {found.dead_letters} in {found.dead_letter_path}")
    return lines


def _fail(exc: Exception, *, code: int) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=code) from exc

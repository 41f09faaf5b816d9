"""``pitchside config``: check a config file, show the effective configuration of a run."""

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.run import load_or_exit
from orchestrator.cli.run_options import (
    AnnotateOption,
    ConfigFileOption,
    DurabilityOption,
    MaxFramesOption,
    MetricsHostOption,
    MetricsPortOption,
    ModelRepositoryOption,
    ModeOption,
    OfflineOption,
    OtlpEndpointOption,
    RealtimeOption,
    RunFlags,
    RunStateDirOption,
    ShardOption,
    SinkOption,
    SourceOption,
    TritonUrlsOption,
    WireOption,
)
from orchestrator.config.layers import merge, read_toml
from orchestrator.config.problems import ConfigError
from orchestrator.config.render import as_mapping, to_json, to_toml
from orchestrator.config.run_config import build

app = typer.Typer(help="Check a pitchside.toml, show the configuration a run would use.", no_args_is_help=True)


@app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The TOML config file.", exists=True, dir_okay=False)]) -> None:
    """Check FILE alone (no flags, no environment): every problem on its own line and exit 1, else "ok"."""
    try:
        build(merge(read_toml(file), file_label=str(file), base_dir=file.parent)).validated()
    except ConfigError as exc:
        for line in exc.problems:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo("ok")


@app.command("show")
def show(
    config: ConfigFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of TOML.")] = False,
    source: SourceOption = None,
    sink: SinkOption = None,
    triton_url: TritonUrlsOption = None,
    mode: ModeOption = None,
    offline: OfflineOption = False,
    realtime: RealtimeOption = False,
    wire: WireOption = None,
    annotate: AnnotateOption = None,
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = None,
    max_frames: MaxFramesOption = None,
    shard: ShardOption = None,
    model_repository: ModelRepositoryOption = None,
    durability: DurabilityOption = None,
    state_dir: RunStateDirOption = None,
    otlp_endpoint: OtlpEndpointOption = None,
) -> None:
    """Print the configuration `pitchside run` would use with the same file, environment and flags."""
    flags = RunFlags(
        source,
        sink,
        triton_url,
        mode,
        offline,
        realtime,
        wire,
        annotate,
        metrics_port,
        metrics_host,
        max_frames,
        shard,
        model_repository,
        durability,
        state_dir,
        otlp_endpoint,
    )
    effective = load_or_exit(config, flags, code=1)
    typer.echo(to_json(effective) if as_json else to_toml(as_mapping(effective)))

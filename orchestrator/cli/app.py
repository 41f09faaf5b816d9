"""The ``pitchside`` typer application."""

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from orchestrator.cli import bench, config, detect, journal, model, repo, run, serve
from orchestrator.cli.logs import LogFormat, LogLevel, configure_logging

app = typer.Typer(
    name="pitchside",
    help="Low-latency computer-vision inference: Triton ensembles in, sports data feeds out.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("run")(run.run)
app.command("serve")(serve.serve)
app.command("detect")(detect.detect)
app.add_typer(bench.app, name="bench")
app.add_typer(repo.app, name="repo")
app.add_typer(journal.app, name="journal")
app.add_typer(model.app, name="model")
app.add_typer(config.app, name="config")


def package_version() -> str:
    try:
        return version("pitchside")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pitchside {package_version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", envvar="PITCHSIDE_LOG_LEVEL", help="Least severe level logged.")
    ] = LogLevel.INFO,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="PITCHSIDE_LOG_FORMAT", help="text for people, json for a log pipeline."),
    ] = LogFormat.TEXT,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Low-latency computer-vision inference: Triton ensembles in, sports data feeds out."""
    configure_logging(log_level, log_format)


def main() -> None:
    """The console script: a mistake on the command line is one line that says how to get help, not a panel."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        raise SystemExit(130) from None
    except typer.TyperException as exc:  # usage errors and the like, from typer's own click
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        typer.echo(f"error: {_message(exc)}{hint}", err=True)
        raise SystemExit(int(getattr(exc, "exit_code", 2))) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message()) if callable(format_message) else str(exc)

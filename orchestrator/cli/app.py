"""The ``pitchside`` typer application."""

import logging

import typer

from orchestrator.cli import bench, convert, detect, repo, run, serve

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
app.add_typer(convert.app, name="convert")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()

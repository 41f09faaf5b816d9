"""``pitchside serve``: run the embedded Triton server on the model repository until Ctrl-C/SIGTERM."""

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.embedded import (
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_METRICS_PORT,
    EmbeddedTriton,
    EmbeddedTritonConfig,
    ServerPorts,
    repository_location,
)
from orchestrator.triton.errors import EmbeddedTritonError


class _Stop(Exception):
    """Raised from the SIGTERM handler to leave the wait loop through the normal shutdown path."""


def serve(
    model_repository: Annotated[
        str,
        typer.Option(
            help="Triton model repository: a directory, or the model store as s3://BUCKET/PREFIX "
            "(s3://HOST:PORT/BUCKET/PREFIX for an S3-compatible endpoint; credentials from the AWS variables).",
            show_default=True,
        ),
    ] = str(DEFAULT_MODEL_REPOSITORY),
    explicit_model_control: Annotated[
        bool, typer.Option(help="Load every model at start, then only on request (rollout); always on for s3://.")
    ] = False,
    http_port: Annotated[int, typer.Option(help="HTTP/REST port (0 picks a free one).")] = DEFAULT_HTTP_PORT,
    grpc_port: Annotated[int, typer.Option(help="gRPC port (0 picks a free one).")] = DEFAULT_GRPC_PORT,
    metrics_port: Annotated[int, typer.Option(help="Prometheus metrics port.")] = DEFAULT_METRICS_PORT,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    log_file: Annotated[Path | None, typer.Option(help="Write the server log here.")] = None,
) -> None:
    """Start a real Triton server (bundled, CPU) on the model repository and serve until stopped."""
    config = EmbeddedTritonConfig(
        model_repository,
        ServerPorts(http_port, grpc_port, metrics_port),
        host=host,
        log_path=log_file,
        explicit_model_control=explicit_model_control,
    )
    server = EmbeddedTriton(config)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        endpoints = server.start()
        typer.echo(f"Triton ready: models in {repository_location(model_repository)}")
        typer.echo(f"  gRPC     {endpoints.grpc_url}")
        typer.echo(f"  HTTP     {endpoints.http_url}")
        typer.echo(f"  metrics  {endpoints.metrics_url}")
        typer.echo("Ctrl-C or SIGTERM stops it.")
        code = server.wait()
        typer.echo(f"tritonserver exited with code {code}:\n{server.log_tail()}", err=True)
        raise typer.Exit(code=1)
    except EmbeddedTritonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    except (KeyboardInterrupt, _Stop):
        typer.echo("stopping Triton...")
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop

"""``pitchside detect``: images through the detection ensemble, detections printed."""

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.options import ModelRepositoryOption, TritonUrlOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.errors import InferenceRejectedError, TritonError, TritonUnavailableError


def detect(
    images: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, ...).", exists=True, dir_okay=False)],
    triton_url: TritonUrlOption = None,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """Send each image, encoded as it is on disk, through the detection ensemble and print its detections."""
    _run(images, triton_url, model_repository)


def _run(images: list[Path], triton_url: str | None, model_repository: Path) -> None:
    try:
        failures = asyncio.run(_detect_all(images, triton_url, model_repository))
    except TritonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if failures:
        raise typer.Exit(code=1)


async def _detect_all(images: list[Path], triton_url: str | None, model_repository: Path) -> int:
    started = time.perf_counter()
    async with triton_endpoint(triton_url, model_repository) as url:
        typer.echo(f"Triton at {url} (ready after {time.perf_counter() - started:.1f} s)")
        async with DetectionClient.connect(url) as client:
            if not await client.is_ready():
                raise TritonUnavailableError(f"Triton at {url} is unreachable or the detection ensemble is not ready")
            return sum([await _detect_one(client, image) for image in images])


async def _detect_one(client: DetectionClient, image: Path) -> int:
    data = await asyncio.to_thread(image.read_bytes)
    started = time.perf_counter()
    try:
        detections = await client.detect_encoded(data)
    except InferenceRejectedError as exc:
        typer.echo(f"{image.name}: rejected: {exc}", err=True)
        return 1
    typer.echo(f"{image.name}: {len(detections)} detections in {(time.perf_counter() - started) * 1e3:.1f} ms")
    for line in detections.describe():
        typer.echo(f"  {line}")
    return 0

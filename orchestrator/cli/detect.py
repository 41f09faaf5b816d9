"""``pitchside detect``: images through the detection ensemble, detections printed as a table or as JSON."""

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import cv2
import numpy as np
import numpy.typing as npt
import typer

from orchestrator.bench.text_table import render_rows
from orchestrator.cli.options import ModelRepositoryOption, TritonUrlOption
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.detections import Detections
from orchestrator.triton.endpoint import triton_endpoint
from orchestrator.triton.errors import EmbeddedTritonError, InferenceRejectedError, TritonError
from orchestrator.triton.labels import LabelsError
from orchestrator.vision.decode_limits import declared_size
from orchestrator.vision.drawing import draw_boxes

_DETECTION_HEADER = ("class", "score", "x1", "y1", "x2", "y2")


@dataclass(frozen=True)
class DetectedBox:
    class_id: int
    class_name: str
    score: float
    box_xyxy: tuple[float, float, float, float]
    """(x1, y1, x2, y2) in the image's pixels."""


@dataclass(frozen=True)
class ImageResult:
    """One image's answer: its size (from its header; None when the header states none) and round trip."""

    image: str
    path: str
    width: int | None
    height: int | None
    latency_ms: float | None
    detections: list[DetectedBox] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class DetectRun:
    triton_url: str
    server: str
    """``embedded`` (started for this command) or ``external``."""
    startup_s: float
    """Until the ensemble was ready: the embedded server's start, or the external one's readiness check."""
    images: list[ImageResult]


def detect(
    images: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, ...).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Write each image with its boxes and labels drawn into this folder (NAME.annotated.png).",
            file_okay=False,
        ),
    ] = None,
    triton_url: TritonUrlOption = None,
    model_repository: ModelRepositoryOption = DEFAULT_MODEL_REPOSITORY,
) -> None:
    """Send each image, encoded as it is on disk, through the detection ensemble and print its detections."""
    missing = [str(path) for path in images if not path.is_file()]
    if missing:
        _fail(f"not an image file: {', '.join(missing)}; give paths of JPEG or PNG files", code=2)
    try:
        run = asyncio.run(_detect_all(images, triton_url, model_repository))
    except TritonError as exc:
        _fail(_explain(exc, triton_url))
    typer.echo(json.dumps(_as_json(run), indent=2) if json_output else "\n".join(_text(run)))
    if save is not None:
        for written in save_annotated(run, save):
            typer.echo(f"annotated image written to {written}", err=True)
    if any(result.error is not None for result in run.images):
        raise typer.Exit(code=1)


async def _detect_all(images: list[Path], triton_url: str | None, model_repository: Path) -> DetectRun:
    started = time.perf_counter()
    async with triton_endpoint(triton_url, model_repository) as url, DetectionClient.connect(url) as client:
        if not await client.is_ready():
            raise _Unreachable(url)
        await client.load_labels()
        startup_s = time.perf_counter() - started
        results = [await _detect_one(client, image) for image in images]
    return DetectRun(url, "external" if triton_url else "embedded", startup_s, results)


async def _detect_one(client: DetectionClient, image: Path) -> ImageResult:
    data = await asyncio.to_thread(image.read_bytes)
    size = declared_size(data)
    width, height = (None, None) if size is None else (size.width, size.height)
    started = time.perf_counter()
    try:
        detections = await client.detect_encoded(data)
    except InferenceRejectedError as exc:
        return ImageResult(image.name, str(image), width, height, None, error=f"rejected: {exc}")
    latency_ms = (time.perf_counter() - started) * 1e3
    return ImageResult(image.name, str(image), width, height, latency_ms, _boxes(detections))


def _boxes(detections: Detections) -> list[DetectedBox]:
    return [
        DetectedBox(int(c), name, float(s), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        for b, s, c, name in zip(
            detections.boxes, detections.scores, detections.class_ids, detections.class_names(), strict=True
        )
    ]


def _text(run: DetectRun) -> list[str]:
    lines = [f"Triton at {run.triton_url} ({run.server}): detection ensemble ready after {run.startup_s:.1f} s"]
    for result in run.images:
        lines += ["", *_image_lines(result)]
    return lines


def _image_lines(result: ImageResult) -> list[str]:
    size = "size unknown" if result.width is None else f"{result.width}x{result.height}"
    if result.error is not None:
        return [f"{result.image} ({size}): {result.error}"]
    head = f"{result.image} ({size}): {len(result.detections)} detections, {result.latency_ms:.1f} ms round trip"
    if not result.detections:
        return [head]
    rows = [[d.class_name, f"{d.score:.2f}", *(f"{v:.1f}" for v in d.box_xyxy)] for d in result.detections]
    return [head, *(f"  {line}" for line in render_rows(_DETECTION_HEADER, rows))]


def save_annotated(run: DetectRun, folder: Path) -> list[Path]:
    """Each image that was answered, with its detections drawn, as ``folder/NAME.annotated.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in run.images:
        decoded = cv2.imread(result.path, cv2.IMREAD_COLOR)
        if result.error is not None or decoded is None:
            continue
        image: npt.NDArray[np.uint8] = np.asarray(decoded, dtype=np.uint8)
        boxes = result.detections
        canvas = draw_boxes(
            image,
            [d.box_xyxy for d in boxes],
            [f"{d.class_name} {d.score:.2f}" for d in boxes],
            [d.class_id for d in boxes],
        )
        path = folder / f"{Path(result.image).stem}.annotated.png"
        if not cv2.imwrite(str(path), canvas):
            _fail(f"could not write {path}; check the folder is writable")
        written.append(path)
    return written


def _as_json(run: DetectRun) -> dict[str, Any]:
    """``{"triton_url", "server", "startup_s", "images": [{"image", "path", "width", "height", "latency_ms",
    "detections": [{"class_id", "class_name", "score", "box_xyxy"}], "error"}]}``; boxes in image pixels."""
    return asdict(run)


class _Unreachable(TritonError):
    def __init__(self, url: str) -> None:
        super().__init__(f"Triton at {url} is unreachable or the detection ensemble is not ready")


def _explain(exc: TritonError, url: str | None) -> str:
    if isinstance(exc, _Unreachable):
        fix = (
            (
                "check --triton-url is a running server's gRPC address (e.g. localhost:8001), or leave it out to "
                "start an embedded server"
            )
            if url
            else "see the server log above"
        )
        return f"{exc}; {fix}"
    if isinstance(exc, EmbeddedTritonError | LabelsError):
        return str(exc)
    return f"{exc}; check that the server at --triton-url serves the detection ensemble"


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)

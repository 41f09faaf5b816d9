"""One scene filmed by several "cameras", for capture-time tests: a white square crossing a grey field at a known
speed, so every decoded frame says by itself which moment of the scene it shows (:func:`scene_time`). Frames are
rendered here at each camera's own capture times and encoded and muxed by the ffmpeg binary shipped in the
imageio-ffmpeg wheel, so the container's timestamps are ffmpeg's, never ours."""

import subprocess
from pathlib import Path
from typing import Final

import imageio_ffmpeg
import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT = 800, 64
SPEED_PX_S: Final = 100.0
"""The square's left edge is at MARGIN_PX + SPEED_PX_S x scene time: 1 px is 10 ms of the scene."""
MARGIN_PX: Final = 8
SIDE_PX: Final = 24
SCENE_S: Final = (WIDTH - 2 * MARGIN_PX - SIDE_PX) / SPEED_PX_S
FFMPEG_TIMEOUT_S: Final = 120
FAST_H264: Final = ("-an", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def render(times_s: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """(N, HEIGHT, WIDTH, 3) BGR frames of the scene at ``times_s``."""
    frames = np.full((len(times_s), HEIGHT, WIDTH, 3), 70, np.uint8)
    top = (HEIGHT - SIDE_PX) // 2
    for frame, t in zip(frames, times_s, strict=True):
        left = MARGIN_PX + round(SPEED_PX_S * t)
        frame[top : top + SIDE_PX, left : left + SIDE_PX] = 255
    return frames


def scene_time(image: npt.NDArray[np.uint8]) -> float:
    """The moment of the scene a decoded frame shows, in seconds (to within half a pixel: 5 ms)."""
    columns = np.flatnonzero(image[:, :, 1].max(axis=0) > 160)
    if columns.size == 0:
        raise AssertionError("no square in the frame")
    return float(columns.min() - MARGIN_PX) / SPEED_PX_S


def film(path: Path, *, start_s: float, seconds: float, fps: float, options: tuple[str, ...] = ()) -> Path:
    """A camera filming the scene from ``start_s`` for ``seconds`` at ``fps``, encoded to ``path`` by ffmpeg with
    the output ``options`` (a container offset, B-frames, a format, HLS settings)."""
    times = start_s + np.arange(round(seconds * fps)) / fps
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
        "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(fps), "-i", "-", *FAST_H264, *options, str(path),
    ]  # fmt: skip
    subprocess.run(command, input=render(times).tobytes(), check=True, timeout=FFMPEG_TIMEOUT_S)
    return path


def ffmpeg(*args: str) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(command, check=True, timeout=FFMPEG_TIMEOUT_S)

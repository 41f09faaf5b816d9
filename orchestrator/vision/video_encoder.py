"""Frames to a video file a browser plays: raw BGR piped to the ffmpeg that imageio-ffmpeg ships, encoded as VP9
in WebM.

VP9/WebM rather than H.264/MP4: builds of Chromium without the proprietary codecs (as some Linux distributions ship
it) play VP9 but not H.264; Chrome, Firefox, Edge and Safari 14.1+ play it too. ffmpeg rather than OpenCV's
VideoWriter: the opencv-python-headless wheel cannot write H.264, and its VP9 runs libvpx at its default speed with
no way to change it (about 2 frames/s of 768x576 measured here); with ``-deadline realtime -cpu-used 8`` ffmpeg
encodes about 140 frames/s of 1664x576 on one core, so the video keeps up with the pipeline on a small machine.
"""

import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import IO, Final

import imageio_ffmpeg
import numpy as np
import numpy.typing as npt

SUFFIX: Final = ".webm"
QUALITY_CRF: Final = 33
"""libvpx-vp9 constant quality (0 best .. 63): boxes and labels stay sharp at a few hundred kB per minute of SD."""
CLOSE_TIMEOUT_S: Final = 60.0
"""ffmpeg has this long to flush its last frames and write the WebM index once its input ends."""
STDERR_TAIL_CHARS: Final = 2000


class VideoEncodeError(Exception):
    """ffmpeg could not start, stopped taking frames, or failed to finish the file; the message says why."""


class WebmEncoder:
    """``write`` frames of one fixed size, then ``close``; blocking, so it belongs on a writer thread."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes], path: Path, size: tuple[int, int]) -> None:
        self._process = process
        self._stderr = stderr
        self._path = path
        self._size = size

    @classmethod
    def open(cls, path: Path, size: tuple[int, int], rate: Fraction) -> "WebmEncoder":
        """Start encoding ``size`` (width, height; both even) frames at ``rate`` frames/s into ``path``."""
        width, height = size
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-framerate",
            str(rate),
            "-i",
            "pipe:0",
            "-an",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-row-mt",
            "1",
            "-b:v",
            "0",
            "-crf",
            str(QUALITY_CRF),
            "-pix_fmt",
            "yuv420p",
            "-f",
            "webm",
            str(path),
        ]
        # A file, not a pipe: a chatty ffmpeg can never fill it and stall; it lives as long as the encoder.
        stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        except OSError as exc:
            stderr.close()
            raise VideoEncodeError(f"cannot start ffmpeg for {path}: {exc}") from exc
        return cls(process, stderr, path, size)

    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """One (height, width, 3) uint8 BGR frame of the size given at ``open``."""
        if (image.shape[1], image.shape[0]) != self._size:
            raise ValueError(f"frame is {image.shape[1]}x{image.shape[0]}, the video {self._size[0]}x{self._size[1]}")
        stdin = self._process.stdin
        try:
            if stdin is None:
                raise ValueError("ffmpeg's input is closed")
            stdin.write(np.ascontiguousarray(image).tobytes())
        except (BrokenPipeError, ValueError) as exc:
            raise VideoEncodeError(f"ffmpeg stopped taking frames for {self._path}: {self._error_text()}") from exc

    def close(self) -> None:
        """End the input and wait for ffmpeg to finish the file; VideoEncodeError if it did not."""
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg already gone: its exit status below says why
        try:
            code = self._process.wait(CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            self._process.kill()
            self._process.wait()
            raise VideoEncodeError(f"ffmpeg did not finish {self._path} within {CLOSE_TIMEOUT_S:.0f} s") from exc
        finally:
            message = self._error_text()
            self._stderr.close()
        if code != 0:
            raise VideoEncodeError(f"ffmpeg failed writing {self._path} (exit {code}): {message}")

    def _error_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-STDERR_TAIL_CHARS:].strip() or "no message"

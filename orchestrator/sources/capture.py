"""Blocking frame readers, one per kind of source. They run on a source thread, never on the event loop."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.sources.hls import HlsReader, is_hls
from orchestrator.sources.media_clock import ContainerClock, stated_start_time
from orchestrator.sources.reader import (
    CaptureClock,
    FrameDecodeError,
    FrameReader,
    FrameTiming,
    SourceError,
    TimedFrameReader,
)
from orchestrator.sources.spec import SourceKind, SourceSpec, synthetic_params
from orchestrator.vision.decode_limits import DecodeLimitError, check_size, decode_image_file

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
NETWORK_OPEN_TIMEOUT_MS: Final = 5_000
NETWORK_READ_TIMEOUT_MS: Final = 5_000
"""A network stream that delivers no frame for this long counts as stalled and is reconnected."""
DEFAULT_STILLS_FPS: Final = 10.0
__all__ = [
    "CaptureClock",
    "FrameDecodeError",
    "FrameReader",
    "FrameTiming",
    "ImageDirectoryReader",
    "SourceError",
    "SyntheticReader",
    "TimedFrameReader",
    "VideoReader",
    "open_reader",
]


def open_reader(spec: SourceSpec) -> FrameReader:
    """Open ``spec``'s source; raises SourceError with a clear message when it cannot."""
    if spec.kind is SourceKind.IMAGES:
        return ImageDirectoryReader(Path(spec.uri))
    if spec.kind is SourceKind.SYNTHETIC:
        return SyntheticReader.from_uri(spec.uri)
    if spec.kind is SourceKind.NETWORK and is_hls(spec.uri):
        return HlsReader(spec.uri)
    return VideoReader.open(spec)


class VideoReader:
    """OpenCV/FFmpeg VideoCapture over a file or a network URL.

    A source that declares its length (a file, also when served over HTTP) has an end: reaching it is
    ``finished``, and its frame index is a position that survives a reconnect. A live stream (RTSP...) declares
    none: every None from ``read`` is a stall to reconnect from, and a reopened stream counts afresh.
    """

    def __init__(
        self, capture: cv2.VideoCapture, uri: str, *, live: bool = False, opened_at: float | None = None
    ) -> None:
        self._capture = capture
        self._uri = uri
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 0.0 < fps < 1000.0 else None
        self._length = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._network = live
        self._live = live and self._length <= 0
        self._index = 0
        self._clock = ContainerClock(capture, self._fps)
        self._opened_at = opened_at
        self._anchor: float | None = None
        self._anchor_stated = False
        self._timing: FrameTiming | None = None
        self._finished = False

    @classmethod
    def open(cls, spec: SourceSpec) -> "VideoReader":
        if spec.kind is SourceKind.FILE and not Path(spec.uri).is_file():
            raise SourceError(f"{spec.uri}: no such file")
        params = (
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                NETWORK_OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                NETWORK_READ_TIMEOUT_MS,
            ]
            if spec.kind is SourceKind.NETWORK
            else []
        )
        opened_at = time.time()
        capture = cv2.VideoCapture(spec.uri, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{spec.uri}: cannot open as a video (not a video, unsupported codec, or unreachable)")
        width, height = (int(capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        try:
            if width and height:  # 0 when the container does not say; every frame is checked anyway
                check_size(width, height, spec.uri)
        except DecodeLimitError as exc:
            capture.release()
            raise SourceError(str(exc)) from exc
        return cls(capture, spec.uri, live=spec.kind is SourceKind.NETWORK, opened_at=opened_at)

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def timing(self) -> FrameTiming | None:
        return self._timing

    @property
    def capture_clock(self) -> CaptureClock:
        return CaptureClock.ARRIVAL if self._network else CaptureClock.REPLAY

    def read(self) -> npt.NDArray[np.uint8] | None:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            # A declared length ends where it says (a stall part-way is not the end); a live stream never ends.
            remaining = self._length - self._index
            self._finished = not self._live and (self._length <= 0 or remaining <= _length_slack(self._length))
            return None
        media_ts_s = self._clock.frame_read()
        anchored_at = self._anchored(media_ts_s)
        self._timing = FrameTiming(media_ts_s, None if self._live else (self._index,), None, anchored_at)
        self._index += 1
        height, width = frame.shape[:2]
        try:
            check_size(width, height, "frame")  # a stream may change resolution after it was opened
        except DecodeLimitError as exc:
            raise FrameDecodeError(str(exc)) from exc
        return _as_bgr(frame)

    def close(self) -> None:
        self._capture.release()

    def _anchored(self, media_ts_s: float) -> float | None:
        """Unix time of this frame: the stream's stated wall-clock time of PTS 0 (RTCP sender reports, once one
        has arrived) plus its PTS. Until then, for a live stream, its first frame is placed when pitchside began
        opening the stream (the open's probing buffers seconds of frames, so their arrival says little) and the
        rest by their PTS since, the anchor moving earlier whenever a frame would otherwise be placed after it
        arrived. A file has no anchor."""
        if not self._anchor_stated:
            stated = stated_start_time(self._capture)
            if stated is not None:
                self._anchor, self._anchor_stated = stated, True
            elif self._live:
                arrived = time.time() - media_ts_s
                first = arrived if self._opened_at is None else min(arrived, self._opened_at - media_ts_s)
                self._anchor = first if self._anchor is None else min(self._anchor, arrived)
        return None if self._anchor is None else self._anchor + media_ts_s


class ImageDirectoryReader:
    """Still images of a directory in name order; an undecodable file, or one whose header declares a size
    beyond the decode limits (checked before decoding), fails that frame only."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise SourceError(f"{directory}: not a directory")
        self._files: Iterator[Path] = iter(sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))

    @property
    def fps(self) -> float | None:
        return DEFAULT_STILLS_FPS

    def read(self) -> npt.NDArray[np.uint8] | None:
        path = next(self._files, None)
        if path is None:
            return None
        try:
            return _as_bgr(decode_image_file(path))
        except (OSError, ValueError) as exc:
            raise FrameDecodeError(str(exc)) from exc

    def close(self) -> None:
        self._files = iter(())


class SyntheticReader:
    """Deterministic frames: a bright square moving across a grey field (tests and load generation)."""

    def __init__(self, width: int, height: int, fps: float, frames: int) -> None:
        self._size = (height, width)
        self._fps = fps
        self._remaining = frames
        self._index = 0

    @classmethod
    def from_uri(cls, uri: str) -> "SyntheticReader":
        p = synthetic_params(uri)
        return cls(int(p.get("width", 640)), int(p.get("height", 480)), p.get("fps", 30.0), int(p.get("frames", 300)))

    @property
    def fps(self) -> float | None:
        return self._fps

    def read(self) -> npt.NDArray[np.uint8] | None:
        if self._remaining <= 0:
            return None
        self._remaining -= 1
        height, width = self._size
        frame = np.full((height, width, 3), 96, np.uint8)
        side = max(8, min(height, width) // 6)
        x = (self._index * 7) % max(1, width - side)
        frame[height // 3 : height // 3 + side, x : x + side] = 230
        self._index += 1
        return frame

    def close(self) -> None:
        self._remaining = 0


def _length_slack(length: int) -> int:
    """Frames a declared length may be off by (containers estimate it from duration x fps)."""
    return max(2, length // 100)


def _as_bgr(decoded: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    if decoded.dtype != np.uint8:
        raise FrameDecodeError(f"decoded frame has dtype {decoded.dtype}, expected uint8")
    frame = np.asarray(decoded, dtype=np.uint8)
    if frame.ndim == 2:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return frame

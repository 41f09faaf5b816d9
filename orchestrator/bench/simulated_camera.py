"""Real footage replayed as a live camera at a chosen frame rate, looping until the run ends."""

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.sources.capture import SourceError


class SimulatedCamera:
    """Decodes ``path`` frame by frame (decode cost is real) and restarts it at the end; declares ``fps``."""

    def __init__(self, path: Path, fps: float) -> None:
        self._path = path
        self._fps = fps
        self._capture = self._open()

    @property
    def fps(self) -> float | None:
        return self._fps

    def read(self) -> npt.NDArray[np.uint8] | None:
        ok, frame = self._capture.read()
        if not ok:
            self._capture.release()
            self._capture = self._open()
            ok, frame = self._capture.read()
        return np.asarray(frame, dtype=np.uint8) if ok else None

    def close(self) -> None:
        self._capture.release()

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened():
            raise SourceError(f"{self._path}: cannot open as a video")
        return capture

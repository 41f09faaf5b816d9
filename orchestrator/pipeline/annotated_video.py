"""An annotated copy of one stream for humans: boxes, class, score and track id, written on its own thread."""

import logging
import queue
import threading
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.events.model import DetectionEvent
from orchestrator.sources.frame import Frame
from orchestrator.vision.drawing import draw_boxes

log = logging.getLogger(__name__)
QUEUE_FRAMES: Final = 64
"""Frames waiting to be written; beyond this the annotator drops frames rather than slow the pipeline."""


class AnnotatedVideoWriter:
    """``start()``, ``submit()`` per frame (never blocks), ``close()`` to finish the file."""

    def __init__(self, path: Path, fps: float) -> None:
        self._path = path
        self._fps = fps
        self._queue: queue.Queue[tuple[Frame, DetectionEvent] | None] = queue.Queue(QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name="annotated-video", daemon=True)
        self.written = 0
        self.dropped = 0

    def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def submit(self, frame: Frame, event: DetectionEvent) -> None:
        try:
            self._queue.put_nowait((frame, event))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        writer: cv2.VideoWriter | None = None
        try:
            while (item := self._queue.get()) is not None:
                frame, event = item
                if writer is None:
                    height, width = frame.image.shape[:2]
                    writer = cv2.VideoWriter(
                        str(self._path), cv2.VideoWriter.fourcc(*"mp4v"), self._fps, (width, height)
                    )
                writer.write(draw_detections(frame.image, event))
                self.written += 1
        finally:
            if writer is not None:
                writer.release()


def draw_detections(image: npt.NDArray[np.uint8], event: DetectionEvent) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with each detection's box and ``class #track score`` label, coloured by track."""
    detections = event.detections
    return draw_boxes(
        image,
        [d.box_xyxy for d in detections],
        [f"{d.class_name} #{d.track_id} {d.score:.2f}" for d in detections],
        [d.track_id for d in detections],
    )

"""One stream's annotated video for humans, written on its own thread: the camera view with each detection's box,
class, score and track id, beside a top-down radar of the tracks' smoothed pitch positions when the stream is
calibrated.

The video runs at the source's frame rate, read from the frames' own timestamps, and has one video frame per source
frame from its first: a frame without a picture of its own (a frame_error, a frame dropped on the way or by this
writer's full queue) repeats the last camera view without boxes, so the video keeps the source's timing.
"""

import logging
import queue
import statistics
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Final, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.events.model import DetectionEvent, FrameErrorEvent, TrackedDetection
from orchestrator.pitch.templates import PitchTemplate
from orchestrator.sources.frame import Frame
from orchestrator.vision.drawing import draw_boxes
from orchestrator.vision.radar import RadarMark, RadarScale, beside, draw_marks, draw_pitch, radar_scale
from orchestrator.vision.video_encoder import SUFFIX, WebmEncoder

log = logging.getLogger(__name__)
QUEUE_FRAMES: Final = 64
"""Frames waiting to be written; beyond this the annotator drops frames rather than slow the pipeline."""
QUEUE_BYTES: Final = 128 * 1024 * 1024
"""Pictures waiting to be written, in bytes: 64 VGA frames fit (59 MB), 20 of 1080p (6.2 MB each) rather than
the 400 MB that 64 would hold, per stream."""
RATE_PROBE_FRAMES: Final = 8
"""Frames held back at the start to read the source's frame rate from their timestamps."""
FALLBACK_FPS: Final = 10.0
"""The rate of a video whose frames' timestamps state none (a single frame, or timestamps that never advance)."""
FPS_RANGE: Final = (0.1, 240.0)
RATE_MAX_DENOMINATOR: Final = 1001
"""NTSC rates are n/1001 (29.97 fps is 30000/1001): a rate is snapped to the nearest such fraction."""

FrameEvent = DetectionEvent | FrameErrorEvent
"""The events that stand for one source frame: each becomes one frame of the video."""


class VideoEncoder(Protocol):
    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """One (H, W, 3) uint8 BGR frame of the size the encoder was opened with (blocking)."""

    def close(self) -> None:
        """Finish the file (blocking)."""


EncoderFactory = Callable[[Path, tuple[int, int], Fraction], VideoEncoder]
"""(path, (width, height) both even, frames per second) -> an open encoder."""


def annotated_video_path(folder: Path, stream_id: str) -> Path:
    """Where ``stream_id``'s video goes in the ``--annotate`` folder (stream ids are safe file names)."""
    return folder / f"{stream_id}{SUFFIX}"


class AnnotatedVideoWriter:
    """``start()``; ``submit()`` each of the stream's detections and frame_error events in frame order (never
    blocks); ``close()`` to finish the file (blocks until the queue is written: call it off the event loop).

    ``template`` is the stream's pitch (None for an uncalibrated stream: no radar panel, camera view only).
    A failing encoder is logged and the rest of the stream's frames are dropped; it never fails the run."""

    def __init__(self, path: Path, template: PitchTemplate | None, encoder: EncoderFactory = WebmEncoder.open) -> None:
        self._path = path
        self._queue: queue.Queue[tuple[FrameEvent, Frame | None] | None] = queue.Queue(QUEUE_FRAMES)
        self._video = _Video(path, template, encoder)
        self._thread = threading.Thread(target=self._run, name=f"annotate-{path.stem}", daemon=True)
        self.dropped = 0
        """Frames the full queue turned away, or left unwritten after the encoder failed."""
        self._last_seq: int | None = None
        """The last frame submitted, written or not: the video runs up to it."""
        self._queued_bytes = 0
        self._bytes_lock = threading.Lock()

    @property
    def written(self) -> int:
        """Frames in the video so far."""
        return self._video.frames

    @property
    def without_picture(self) -> int:
        """Frames of the video that repeat the last camera view because theirs was not at hand."""
        return self._video.repeated

    @property
    def rate(self) -> Fraction | None:
        """The video's frame rate, once the first frames have set it."""
        return self._video.rate

    def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def submit(self, event: FrameEvent, frame: Frame | None) -> None:
        """``frame`` is the event's picture; None when there is none (a frame_error's frame is not kept)."""
        self._last_seq = event.frame.frame_seq
        size = _picture_bytes(frame)
        with self._bytes_lock:
            if self._queued_bytes + size > QUEUE_BYTES:
                self.dropped += 1
                return
            self._queued_bytes += size
        try:
            self._queue.put_nowait((event, frame))
        except queue.Full:
            self._taken(size)
            self.dropped += 1

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _taken(self, size: int) -> None:
        with self._bytes_lock:
            self._queued_bytes -= size

    def _run(self) -> None:
        failed = False
        while (item := self._queue.get()) is not None:
            self._taken(_picture_bytes(item[1]))
            if failed:
                self.dropped += 1
                continue
            try:
                self._video.add(*item)
            except Exception:  # the picture is for people: a broken encoder must not stop the stream's events
                log.exception("annotated video %s failed; its remaining frames are dropped", self._path)
                failed = True
                self.dropped += 1
        try:
            if failed:
                self._video.abandon()
                return
            self._video.finish(self._last_seq)
        except Exception:
            log.exception("annotated video %s could not be finished", self._path)
            return
        if self._video.frames:
            log.info(
                "annotated video %s: %d frames at %s fps (%d without their own picture, %d dropped)",
                self._path,
                self._video.frames,
                self._video.rate,
                self._video.repeated,
                self.dropped,
            )


def _picture_bytes(frame: Frame | None) -> int:
    return 0 if frame is None else int(frame.image.nbytes)


class _Video:
    """The writer thread's state: frames held while the rate is read, then the encoder and the last camera view."""

    def __init__(self, path: Path, template: PitchTemplate | None, encoder: EncoderFactory) -> None:
        self._path = path
        self._template = template
        self._open_encoder = encoder
        self._held: list[tuple[FrameEvent, Frame | None]] = []
        self._canvas: _Canvas | None = None
        self._encoder: VideoEncoder | None = None
        self._next_seq = 0
        self.rate: Fraction | None = None
        self.frames = 0
        self.repeated = 0

    def add(self, event: FrameEvent, frame: Frame | None) -> None:
        if self._encoder is None:
            self._held.append((event, frame))
            if len(self._held) >= RATE_PROBE_FRAMES:
                self._open()
            return
        self._write(event, frame)

    def finish(self, last_seq: int | None) -> None:
        """Write what is held, and repeats up to ``last_seq`` (frames the full queue dropped at the end)."""
        if self._encoder is None:
            self._open()
        if self._encoder is None or self._canvas is None:
            log.warning("annotated video %s not written: none of the stream's frames had a picture", self._path)
            return
        while last_seq is not None and self._next_seq <= last_seq:
            self._put(self._canvas.repeat())
        self._encoder.close()

    def abandon(self) -> None:
        """After a failure: stop the encoder with what it has."""
        if self._encoder is not None:
            self._encoder.close()

    def _open(self) -> None:
        first = next((frame.image for _, frame in self._held if frame is not None), None)
        if first is None:
            return  # nothing to size the video by yet: keep holding (events without pictures are small)
        self.rate = frame_rate([(event.frame.frame_seq, event.frame.source_ts_s) for event, _ in self._held])
        self._canvas = _Canvas(first.shape[1], first.shape[0], self._template)
        self._encoder = self._open_encoder(self._path, self._canvas.size, self.rate)
        self._next_seq = self._held[0][0].frame.frame_seq
        held, self._held = self._held, []
        for event, frame in held:
            self._write(event, frame)

    def _write(self, event: FrameEvent, frame: Frame | None) -> None:
        assert self._encoder is not None and self._canvas is not None  # opened before any write
        seq = event.frame.frame_seq
        if seq < self._next_seq:
            return  # at or before a frame already written: events arrive in frame order, so never expected
        while self._next_seq < seq:  # frames that never reached the writer keep their place in time
            self._put(self._canvas.repeat())
        if frame is None:
            self._put(self._canvas.repeat())
        else:
            detections = event.detections if isinstance(event, DetectionEvent) else ()
            self._put(self._canvas.draw(frame.image, detections), repeated=False)

    def _put(self, image: npt.NDArray[np.uint8], *, repeated: bool = True) -> None:
        assert self._encoder is not None
        self._encoder.write(image)
        self._next_seq += 1
        self.frames += 1
        self.repeated += repeated


class _Canvas:
    """Composes video frames of one fixed size: camera view (first frame's size) beside the radar, if any."""

    def __init__(self, width: int, height: int, template: PitchTemplate | None) -> None:
        self._camera_size = (width, height)
        self._radar: tuple[RadarScale, npt.NDArray[np.uint8]] | None = None
        panel_width = 0
        if template is not None:
            scale = radar_scale(template, height)
            self._radar = (scale, draw_pitch(template, scale))
            panel_width = scale.size[0]
        self.size = (_even(width + panel_width), _even(max(height, self._panel_height())))
        """(width, height) of every video frame; even, as 4:2:0 chroma needs."""
        self._last_camera: npt.NDArray[np.uint8] = np.zeros((height, width, 3), np.uint8)

    def draw(self, image: npt.NDArray[np.uint8], detections: Sequence[TrackedDetection]) -> npt.NDArray[np.uint8]:
        """The frame's camera view with its detections' boxes, beside its radar; remembered for repeats."""
        self._last_camera = self._fit(image)
        return self._compose(self._fit(draw_detections(image, detections)), detections)

    def repeat(self) -> npt.NDArray[np.uint8]:
        """The last camera view, without boxes, beside an empty radar: a frame whose detections are not known."""
        return self._compose(self._last_camera, ())

    def _compose(self, camera: npt.NDArray[np.uint8], detections: Sequence[TrackedDetection]) -> npt.NDArray[np.uint8]:
        if self._radar is not None:
            scale, pitch = self._radar
            marks = [
                RadarMark(d.pitch.track_x_m, d.pitch.track_y_m, d.pitch.on_pitch, d.track_id)
                for d in detections
                if d.pitch is not None
            ]
            camera = beside(camera, draw_marks(pitch, scale, marks))
        width, height = self.size
        return np.asarray(
            cv2.copyMakeBorder(camera, 0, height - camera.shape[0], 0, width - camera.shape[1], cv2.BORDER_CONSTANT),
            dtype=np.uint8,
        )

    def _fit(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """A source that changes resolution mid-stream is scaled to the video's first size."""
        if (image.shape[1], image.shape[0]) == self._camera_size:
            return image
        return np.asarray(cv2.resize(image, self._camera_size, interpolation=cv2.INTER_AREA), dtype=np.uint8)

    def _panel_height(self) -> int:
        return 0 if self._radar is None else self._radar[0].size[1]


def frame_rate(samples: Sequence[tuple[int, float]]) -> Fraction:
    """The source's frame rate from consecutive frames' (frame seq, source timestamp s): the median time per frame
    between neighbours (a gap in seq counts the frames it skipped), snapped to a fraction over at most 1001 and kept
    within FPS_RANGE; FALLBACK_FPS when no two frames' timestamps advance."""
    per_frame = [(t1 - t0) / (s1 - s0) for (s0, t0), (s1, t1) in pairwise(samples) if s1 > s0 and t1 > t0]
    if not per_frame:
        return Fraction(FALLBACK_FPS)
    fps = min(max(1.0 / statistics.median(per_frame), FPS_RANGE[0]), FPS_RANGE[1])
    return Fraction(fps).limit_denominator(RATE_MAX_DENOMINATOR)


def draw_detections(image: npt.NDArray[np.uint8], detections: Sequence[TrackedDetection]) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with each detection's box and ``class #track score`` label, coloured by track."""
    return draw_boxes(
        image,
        [d.box_xyxy for d in detections],
        [f"{d.class_name} #{d.track_id} {d.score:.2f}" for d in detections],
        [d.track_id for d in detections],
    )


def _even(n: int) -> int:
    return n + n % 2

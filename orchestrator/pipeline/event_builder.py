"""One stream's events from its results, in frame order: the camera's class filter and thresholds, tracking,
pitch positions and zones, then the event records.

A frame with detections yields its ``detections`` event, then the ``zone`` events of the tracks that crossed a
zone edge on it (by track id, then zone name), then the leaves of tracks that ended on it.
"""

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from orchestrator.config.camera import NO_CAMERA_SETTINGS, CameraPitch, CameraSettings
from orchestrator.events.model import (
    DetectionEvent,
    Event,
    FrameContext,
    FrameErrorEvent,
    ModelRef,
    PitchPoint,
    StageLatency,
    StatusEvent,
    TrackedDetection,
    ZoneEvent,
)
from orchestrator.pipeline.results import Failed, Inferred
from orchestrator.pitch.calibration import Points
from orchestrator.pitch.positions import TrackMotion, pitch_positions
from orchestrator.pitch.zones import ZoneTracker
from orchestrator.sources.items import StatusMarker
from orchestrator.tracking.tracker import Tracker
from orchestrator.triton.detections import Detections

log = logging.getLogger(__name__)
ASPECT_TOLERANCE = 0.01
"""A frame whose aspect ratio is within 1 % of the calibration's is the same view at another resolution."""


@dataclass
class _PitchState:
    camera: CameraPitch
    motion: TrackMotion = field(default_factory=TrackMotion)
    zones: ZoneTracker = field(init=False)
    warned_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.zones = ZoneTracker(self.camera.zones)


class EventBuilder:
    """Builds one stream's events; ``detections`` must be called in frame order (it tracks)."""

    def __init__(
        self, stream_id: str, run_id: str, tracker: Tracker, camera: CameraSettings = NO_CAMERA_SETTINGS
    ) -> None:
        self._stream_id = stream_id
        self._run_id = run_id
        self._tracker = tracker
        self._camera = camera
        self._pitch = None if camera.pitch is None else _PitchState(camera.pitch)
        self._last_seq: int | None = None
        self._status_count = 0

    def detections(self, result: Inferred, now: float) -> list[Event]:
        """The frame's detections event, then its zone events."""
        frame = result.frame
        found, names = self._reported(result.detections)
        gap = 1 if self._last_seq is None else frame.seq - self._last_seq
        self._last_seq = frame.seq
        before = self._tracker.live_ids
        track_ids = self._tracker.update(found.boxes, found.scores, found.class_ids, frame_gap=gap)
        height, width = frame.image.shape[:2]
        context = FrameContext(
            self._stream_id,
            self._run_id,
            frame.seq,
            frame.source_ts_s,
            frame.captured_at,
            width,
            height,
            frame.source_time,
        )
        points = self._pitch_points(found, names, track_ids, frame.source_ts_s, (width, height))
        detections = tuple(
            TrackedDetection((float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s), int(c), n, int(t), p)
            for b, s, c, n, t, p in zip(
                found.boxes, found.scores, found.class_ids, names, track_ids, points, strict=True
            )
        )
        latency = StageLatency(
            frame.decode_s * 1e3, result.queue_ms, result.inference_ms, (now - frame.captured_at) * 1e3
        )
        event = DetectionEvent(context, detections, latency, now, ModelRef(found.model, found.model_version))
        ended = sorted(before - self._tracker.live_ids)
        return [event, *self._zone_events(context, detections, ended, now)]

    def frame_error(self, result: Failed, now: float) -> FrameErrorEvent:
        context = FrameContext(
            result.stream_id,
            self._run_id,
            result.seq,
            result.source_ts_s,
            result.captured_at,
            result.width,
            result.height,
            result.source_time,
        )
        return FrameErrorEvent(context, result.code, result.message, now)

    def status(self, marker: StatusMarker) -> StatusEvent:
        event = StatusEvent(
            self._stream_id,
            self._run_id,
            marker.frames_read,
            marker.state,
            marker.detail,
            time.time(),
            self._status_count,
        )
        self._status_count += 1
        return event

    def _reported(self, found: Detections) -> tuple[Detections, tuple[str, ...]]:
        """The detections this camera reports (its classes and thresholds), best first as the server sent them,
        and their class names."""
        names = found.class_names()
        if not self._camera.filters or len(found) == 0:
            return found, names
        keep = self._camera.keeps(names, found.scores)
        return found.subset(keep), tuple(name for name, kept in zip(names, keep, strict=True) if kept)

    def _pitch_points(
        self,
        found: Detections,
        names: tuple[str, ...],
        track_ids: npt.NDArray[np.int64],
        timestamp_s: float,
        size: tuple[int, int],
    ) -> list[PitchPoint | None]:
        state = self._pitch
        if state is None or not self._same_view(state, size):
            return [None] * len(found)
        camera = state.camera
        boxes = _rescaled(found.boxes, camera.image_size, size)
        balls = {int(c) for c, name in zip(found.class_ids, names, strict=True) if name in camera.ball_classes}
        positions = pitch_positions(camera.calibration, camera.template, boxes, found.class_ids, balls)
        points: list[PitchPoint | None] = []
        for track_id, xy, on_pitch in zip(track_ids, positions.xy_m, positions.on_pitch, strict=True):
            smoothed, speed = state.motion.update(int(track_id), timestamp_s, xy)
            points.append(
                PitchPoint(float(xy[0]), float(xy[1]), bool(on_pitch), float(smoothed[0]), float(smoothed[1]), speed)
            )
        return points

    def _same_view(self, state: _PitchState, size: tuple[int, int]) -> bool:
        """True when the frame is the calibrated view (at any resolution of the same aspect ratio)."""
        calibrated = state.camera.image_size
        if math.isclose(size[0] / size[1], calibrated[0] / calibrated[1], rel_tol=ASPECT_TOLERANCE):
            return True
        if state.warned_size != size:
            state.warned_size = size
            log.warning(
                "stream %s: frames are %dx%d but the calibration is for %dx%d: no pitch positions for them",
                self._stream_id,
                size[0],
                size[1],
                calibrated[0],
                calibrated[1],
            )
        return False

    def _zone_events(
        self, context: FrameContext, detections: tuple[TrackedDetection, ...], ended: list[int], now: float
    ) -> list[ZoneEvent]:
        state = self._pitch
        if state is None:
            return []
        positions: dict[int, Points] = {
            d.track_id: np.array([d.pitch.track_x_m, d.pitch.track_y_m]) for d in detections if d.pitch is not None
        }
        crossings = state.zones.update(positions) + state.zones.forget(ended)
        state.motion.forget(ended)
        return [ZoneEvent(context, c.zone, c.track_id, c.transition, now) for c in crossings]


def _rescaled(
    boxes: npt.NDArray[np.float32], calibrated: tuple[int, int], size: tuple[int, int]
) -> npt.NDArray[np.float32]:
    """Boxes in the calibrated image's pixels, from a frame of ``size`` showing the same view."""
    if size == calibrated:
        return boxes
    scale = np.array([calibrated[0] / size[0], calibrated[1] / size[1]] * 2, dtype=np.float32)
    return np.asarray(boxes * scale, dtype=np.float32)

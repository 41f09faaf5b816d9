"""Detections to pitch positions, and tracks to smoothed positions and speeds."""

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from orchestrator.pitch.calibration import Calibration, Points
from orchestrator.pitch.templates import PitchTemplate

ON_PITCH_MARGIN_M: Final = 1.0
"""A player on the line has their feet just outside it: this much counts as on the pitch."""
SMOOTHING: Final = 0.5
"""Weight of the newest position in a track's exponential smoothing."""


def anchor_points(
    boxes: npt.NDArray[np.float32], class_ids: npt.NDArray[np.int32], ball_classes: Collection[int]
) -> Points:
    """The image point that stands on the pitch: people's feet (bottom-centre); a ball's centre."""
    x = (boxes[:, 0] + boxes[:, 2]) / 2
    is_ball = np.isin(class_ids, list(ball_classes))
    y = np.where(is_ball, (boxes[:, 1] + boxes[:, 3]) / 2, boxes[:, 3])
    return np.column_stack([x, y]).astype(np.float64)


@dataclass(frozen=True)
class PitchPositions:
    xy_m: Points
    """(N, 2) pitch metres."""
    on_pitch: npt.NDArray[np.bool_]


def pitch_positions(
    calibration: Calibration,
    template: PitchTemplate,
    boxes: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32],
    ball_classes: Collection[int],
) -> PitchPositions:
    xy = calibration.to_pitch(anchor_points(boxes, class_ids, ball_classes))
    return PitchPositions(xy, template.contains(xy, ON_PITCH_MARGIN_M))


@dataclass
class TrackMotion:
    """Per track: the smoothed position and its speed in m/s, from the frames' own timestamps.

    Plain floats, not arrays: it runs once per detection per frame, where numpy's call overhead would dominate."""

    _state: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    """track id -> (timestamp s, smoothed x, smoothed y, speed m/s)."""

    def update(self, track_id: int, timestamp_s: float, xy: Points) -> tuple[Points, float]:
        x, y = float(xy[0]), float(xy[1])
        previous = self._state.get(track_id)
        if previous is None or timestamp_s <= previous[0]:
            speed = 0.0 if previous is None else previous[3]
            self._state[track_id] = (timestamp_s, x, y, speed)
            return np.array([x, y]), speed
        then, old_x, old_y, _ = previous
        new_x, new_y = SMOOTHING * x + (1 - SMOOTHING) * old_x, SMOOTHING * y + (1 - SMOOTHING) * old_y
        speed = math.hypot(new_x - old_x, new_y - old_y) / (timestamp_s - then)
        self._state[track_id] = (timestamp_s, new_x, new_y, speed)
        return np.array([new_x, new_y]), speed

    def forget(self, track_ids: Collection[int]) -> None:
        for track_id in track_ids:
            self._state.pop(track_id, None)

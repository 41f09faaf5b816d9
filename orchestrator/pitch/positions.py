"""Detections to pitch positions, and tracks to smoothed positions and speeds."""

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
    calibration: Calibration, template: PitchTemplate, boxes: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32], ball_classes: Collection[int],
) -> PitchPositions:  # fmt: skip
    xy = calibration.to_pitch(anchor_points(boxes, class_ids, ball_classes))
    return PitchPositions(xy, template.contains(xy, ON_PITCH_MARGIN_M))


@dataclass
class TrackMotion:
    """Per track: the smoothed position and its speed in m/s, from the frames' own timestamps."""

    _state: dict[int, tuple[float, Points, float]] = field(default_factory=dict)
    """track id -> (timestamp s, smoothed xy, speed m/s)."""

    def update(self, track_id: int, timestamp_s: float, xy: Points) -> tuple[Points, float]:
        previous = self._state.get(track_id)
        if previous is None or timestamp_s <= previous[0]:
            self._state[track_id] = (timestamp_s, xy, 0.0 if previous is None else previous[2])
            return xy, self._state[track_id][2]
        then, smoothed, _ = previous
        new = SMOOTHING * xy + (1 - SMOOTHING) * smoothed
        speed = float(np.linalg.norm(new - smoothed) / (timestamp_s - then))
        self._state[track_id] = (timestamp_s, new, speed)
        return new, speed

    def forget(self, track_ids: Collection[int]) -> None:
        for track_id in track_ids:
            self._state.pop(track_id, None)

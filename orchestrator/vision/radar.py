"""A top-down picture of the pitch with a dot per tracked position: the radar beside the annotated camera view.

Pitch metres map to panel pixels at one scale on both axes, x (the pitch's length) to the right and y (its width)
up: the pitch's origin is the bottom-left corner of the lines, so a camera calibrated with y = 0 on the near
touchline (as the config's example is) sees the radar the way round it sees the pitch. A run-off of ``RUN_OFF_M``
around the lines shows positions just off the pitch.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.pitch.templates import PitchTemplate
from orchestrator.vision.drawing import key_color

PITCH_GREEN: Final = (58, 122, 44)
"""BGR of the grass."""
LINE_WHITE: Final = (235, 235, 235)
RUN_OFF_M: Final = 3.0
DOT_RADIUS_PX: Final = 6
MIN_PANEL_SIDE_PX: Final = 64
"""Below this the pitch is too small to read; the panel is drawn at least this tall."""


@dataclass(frozen=True, slots=True)
class RadarMark:
    """One tracked position to plot."""

    x_m: float
    y_m: float
    """Pitch metres in the template's frame (origin at one corner, x along its length, y across its width)."""
    on_pitch: bool
    """Drawn as a filled dot when True, as a ring when the position is off the pitch."""
    track_id: int
    """Its label, and its colour: the same ``key_color`` as the track's box in the camera view."""


@dataclass(frozen=True, slots=True)
class RadarScale:
    """Where pitch metres land in a panel of ``size`` pixels."""

    px_per_m: float
    origin_px: tuple[float, float]
    """Panel pixel of the pitch's (0, 0) corner (bottom-left)."""
    size: tuple[int, int]
    """(width, height) of the panel in pixels."""

    def to_px(self, x_m: float, y_m: float) -> tuple[int, int]:
        """The panel pixel of a pitch point, clamped to the panel (a far-off position stays visible at its edge)."""
        width, height = self.size
        x = self.origin_px[0] + x_m * self.px_per_m
        y = self.origin_px[1] - y_m * self.px_per_m
        return int(np.clip(round(x), 0, width - 1)), int(np.clip(round(y), 0, height - 1))


def radar_scale(template: PitchTemplate, height_px: int) -> RadarScale:
    """A panel ``height_px`` tall (at least MIN_PANEL_SIDE_PX) holding the pitch and its run-off to scale."""
    height = max(height_px, MIN_PANEL_SIDE_PX)
    px_per_m = height / (template.width_m + 2 * RUN_OFF_M)
    width = max(MIN_PANEL_SIDE_PX, round((template.length_m + 2 * RUN_OFF_M) * px_per_m))
    origin = (RUN_OFF_M * px_per_m, height - RUN_OFF_M * px_per_m)
    return RadarScale(px_per_m, origin, (width, height))


def draw_pitch(template: PitchTemplate, scale: RadarScale) -> npt.NDArray[np.uint8]:
    """The empty pitch: grass, the outline, the halfway line and the template's zones, in white."""
    width, height = scale.size
    panel = np.empty((height, width, 3), np.uint8)
    panel[:] = PITCH_GREEN
    outline = np.array(
        [[0.0, 0.0], [template.length_m, 0.0], [template.length_m, template.width_m], [0.0, template.width_m]]
    )
    halfway = np.array([[template.length_m / 2, 0.0], [template.length_m / 2, template.width_m]])
    for polygon, closed in ((outline, True), (halfway, False), *((zone, True) for zone in template.zones.values())):
        points = np.array([scale.to_px(float(x), float(y)) for x, y in polygon], np.int32)
        cv2.polylines(panel, [points], closed, LINE_WHITE, 1, cv2.LINE_AA)
    return panel


def draw_marks(pitch: npt.NDArray[np.uint8], scale: RadarScale, marks: Sequence[RadarMark]) -> npt.NDArray[np.uint8]:
    """A copy of ``pitch`` (from ``draw_pitch``) with each mark as a dot in its track's colour, labelled ``#id``."""
    panel = pitch.copy()
    for mark in marks:
        centre = scale.to_px(mark.x_m, mark.y_m)
        color = key_color(mark.track_id)
        cv2.circle(panel, centre, DOT_RADIUS_PX, color, -1 if mark.on_pitch else 2, cv2.LINE_AA)
        cv2.circle(panel, centre, DOT_RADIUS_PX + 1, (0, 0, 0), 1, cv2.LINE_AA)
        _label(panel, f"#{mark.track_id}", (centre[0] + DOT_RADIUS_PX + 2, centre[1] + 4), color)
    return panel


def beside(left: npt.NDArray[np.uint8], right: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``left`` and ``right`` side by side, top-aligned; the shorter one is padded with black below."""
    height = max(left.shape[0], right.shape[0])
    return np.hstack([_pad_below(left, height), _pad_below(right, height)])


def _pad_below(image: npt.NDArray[np.uint8], height: int) -> npt.NDArray[np.uint8]:
    if image.shape[0] == height:
        return image
    padded = np.zeros((height, *image.shape[1:]), np.uint8)
    padded[: image.shape[0]] = image
    return padded


def _label(panel: npt.NDArray[np.uint8], text: str, origin: tuple[int, int], color: tuple[int, int, int]) -> None:
    # A dark outline under the coloured text keeps it readable on grass and on white lines alike.
    cv2.putText(panel, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(panel, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)

"""One camera's own settings: which classes it reports, how confident they must be, how many frames per second
it sends to inference, and where its image lies on the pitch.

Built at the edge from a ``[[streams]]`` entry; a calibration that would misplace players is refused there, with
the key path, before any server starts (``pitch.calibration``).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from orchestrator.config.schema import PitchTable, StreamTable
from orchestrator.pitch.calibration import Calibration, CalibrationError, fit_calibration, from_homography
from orchestrator.pitch.templates import PitchTemplate, Polygon, template
from orchestrator.pitch.zones import checked_zone
from orchestrator.triton.labels import UNNAMED_PREFIX

DEFAULT_BALL_CLASSES: Final = ("ball", "sports ball")
"""Class names whose pitch position is the box centre (a ball in flight has no foot point); everything else
stands on the pitch at the bottom-centre of its box."""
DEFAULT_TEMPLATE: Final = "football"
UNNAMED_CLASS: Final = re.compile(re.escape(UNNAMED_PREFIX) + r"\d+")
"""How a class the model's labels file does not name is called."""


@dataclass(frozen=True)
class CameraPitch:
    """A calibrated camera: its image -> pitch homography and the pitch it looks at."""

    template: PitchTemplate
    calibration: Calibration
    image_size: tuple[int, int]
    """(width, height) the calibration was made for; frames of another size are refused."""
    zones: Mapping[str, Polygon] = field(default_factory=dict)
    """The template's standard zones plus the camera's own, in pitch metres."""
    ball_classes: tuple[str, ...] = DEFAULT_BALL_CLASSES

    def describe(self) -> str:
        calibration = self.calibration
        fitted = (
            f"fitted from {calibration.pairs} point pairs ({calibration.inliers} inliers), reprojection error "
            f"{calibration.reprojection_error_m:.3f} m RMS"
            if calibration.pairs
            else "given as a homography"
        )
        width, height = self.image_size
        return (
            f"{self.template.name} pitch {self.template.length_m:g} x {self.template.width_m:g} m, "
            f"{width}x{height} image, {fitted}, zones {sorted(self.zones) or 'none'}"
        )


@dataclass(frozen=True)
class CameraSettings:
    """What one camera reports; the defaults report everything the server sends, uncalibrated."""

    classes: frozenset[str] | None = None
    """Only these class names (None: all of the model's classes)."""
    score_thresholds: Mapping[str, float] = field(default_factory=dict)
    """Class name -> minimum score, tighter than the server's (``"*"`` for every class not named)."""
    max_fps: float | None = None
    """At most this many frames per second of source time go to inference; the rest are dropped (``fps_cap``)."""
    pitch: CameraPitch | None = None

    def __post_init__(self) -> None:
        for name, score in self.score_thresholds.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"score threshold for {name!r} must be within 0..1, got {score}")
        if self.max_fps is not None and self.max_fps <= 0:
            raise ValueError(f"max_fps must be > 0, got {self.max_fps}")

    @property
    def filters(self) -> bool:
        return self.classes is not None or bool(self.score_thresholds)

    def names_used(self) -> set[str]:
        """Every class name these settings mention: each must be one of the model's labels."""
        return set(self.classes or ()) | (set(self.score_thresholds) - {"*"})

    def unknown_classes(self, labels: Sequence[str]) -> list[str]:
        """The class names these settings mention that the model does not have (``class_<id>`` always exists)."""
        return sorted(n for n in self.names_used() if n not in labels and not UNNAMED_CLASS.fullmatch(n))

    def min_scores(self, class_names: tuple[str, ...]) -> npt.NDArray[np.float32]:
        """(N,) float32 minimum score of each detection's class (0 where no threshold applies)."""
        default = self.score_thresholds.get("*", 0.0)
        return np.array([self.score_thresholds.get(name, default) for name in class_names], dtype=np.float32)

    def keeps(self, class_names: tuple[str, ...], scores: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """(N,) bool: the detections this camera reports."""
        keep = np.asarray(scores, dtype=np.float32) >= self.min_scores(class_names)
        if self.classes is not None:
            keep &= np.array([name in self.classes for name in class_names], dtype=bool)
        return keep


NO_CAMERA_SETTINGS: Final = CameraSettings()


def camera_settings(entry: StreamTable) -> CameraSettings:
    """The camera settings of one ``[[streams]]`` entry; ValueError (CalibrationError) names what is wrong."""
    return CameraSettings(
        classes=None if entry.classes is None else frozenset(entry.classes),
        score_thresholds=dict(entry.score_thresholds or {}),
        max_fps=entry.max_fps,
        pitch=None if entry.pitch is None else camera_pitch(entry.pitch),
    )


def camera_pitch(table: PitchTable) -> CameraPitch:
    pitch = template(table.template or DEFAULT_TEMPLATE, table.length_m, table.width_m)
    size = (int(table.image_size[0]), int(table.image_size[1]))
    if (table.points is None) == (table.homography is None):
        raise CalibrationError("give either points ([u, v, x_m, y_m] rows) or a 3x3 homography, not both or neither")
    if table.points is not None:
        pairs = np.asarray(table.points, dtype=np.float64).reshape(-1, 4)
        calibration = fit_calibration(pairs[:, :2], pairs[:, 2:], size)
    else:
        calibration = from_homography(np.asarray(table.homography, dtype=np.float64), size)
    own = {name: checked_zone(name, np.asarray(polygon)) for name, polygon in (table.zones or {}).items()}
    balls = DEFAULT_BALL_CLASSES if table.ball_classes is None else tuple(table.ball_classes)
    return CameraPitch(pitch, calibration, size, {**pitch.zones, **own}, balls)

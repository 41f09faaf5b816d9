"""Pitch templates: the playing area in metres, origin at one corner, x along the length, y along the width."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

Polygon = npt.NDArray[np.float64]
"""(K, 2) vertices in pitch metres."""

FOOTBALL_PENALTY_DEPTH_M: Final = 16.5
FOOTBALL_PENALTY_WIDTH_M: Final = 40.32
BASKETBALL_KEY_DEPTH_M: Final = 5.8
BASKETBALL_KEY_WIDTH_M: Final = 4.9


@dataclass(frozen=True)
class PitchTemplate:
    name: str
    length_m: float
    width_m: float
    zones: Mapping[str, Polygon] = field(default_factory=dict)
    """Standard named areas (penalty areas, keys), in pitch metres."""

    def __post_init__(self) -> None:
        if not (self.length_m > 0 and self.width_m > 0):
            raise ValueError(f"a pitch needs a positive length and width, got {self.length_m} x {self.width_m}")

    def contains(self, points: npt.NDArray[np.float64], margin_m: float = 0.0) -> npt.NDArray[np.bool_]:
        """(N,) True where the (N, 2) pitch points are within the lines (widened by ``margin_m``)."""
        x, y = points[:, 0], points[:, 1]
        inside_x = (x >= -margin_m) & (x <= self.length_m + margin_m)
        return np.asarray(inside_x & (y >= -margin_m) & (y <= self.width_m + margin_m))


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def football(length_m: float = 105.0, width_m: float = 68.0) -> PitchTemplate:
    zones = _ends("penalty_area", length_m, width_m, FOOTBALL_PENALTY_DEPTH_M, FOOTBALL_PENALTY_WIDTH_M)
    return PitchTemplate("football", length_m, width_m, zones)


def basketball(length_m: float = 28.0, width_m: float = 15.0) -> PitchTemplate:
    zones = _ends("key", length_m, width_m, BASKETBALL_KEY_DEPTH_M, BASKETBALL_KEY_WIDTH_M)
    return PitchTemplate("basketball", length_m, width_m, zones)


def _ends(name: str, length_m: float, width_m: float, depth_m: float, across_m: float) -> dict[str, Polygon]:
    """``name``_left and ``name``_right: a box ``depth_m`` deep and ``across_m`` wide, centred on each goal line."""
    top, bottom = (width_m - across_m) / 2, (width_m + across_m) / 2
    return {
        f"{name}_left": _box(0.0, top, depth_m, bottom),
        f"{name}_right": _box(length_m - depth_m, top, length_m, bottom),
    }


def template(name: str, length_m: float | None = None, width_m: float | None = None) -> PitchTemplate:
    """``football`` (105 x 68 m), ``basketball`` (28 x 15 m) or ``custom`` (length and width required)."""
    if name == "football":
        return football(length_m or 105.0, width_m or 68.0)
    if name == "basketball":
        return basketball(length_m or 28.0, width_m or 15.0)
    if name == "custom":
        if length_m is None or width_m is None:
            raise ValueError("a custom pitch needs length_m and width_m")
        return PitchTemplate("custom", length_m, width_m)
    raise ValueError(f"unknown pitch {name!r}: use football, basketball or custom")

"""Named zones on the pitch, and the enter/leave transitions of tracks across them."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.events.model import ZoneTransition
from orchestrator.pitch.calibration import Points
from orchestrator.pitch.templates import Polygon


@dataclass(frozen=True)
class ZoneCrossing:
    track_id: int
    zone: str
    transition: ZoneTransition


MIN_ZONE_VERTICES = 3


def checked_zone(name: str, polygon: Polygon) -> Polygon:
    """``polygon`` as a (K, 2) float64 array of pitch metres; ValueError unless it has at least 3 vertices."""
    vertices = np.asarray(polygon, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < MIN_ZONE_VERTICES:
        raise ValueError(f"zone {name!r} needs at least {MIN_ZONE_VERTICES} vertices in pitch metres")
    return vertices


def zones_at(contours: Mapping[str, npt.NDArray[np.float32]], xy: Points) -> list[set[str]]:
    """For each (N, 2) pitch point, the names of the zones (OpenCV contours) it is inside; the edge counts."""
    return [
        {name for name, contour in contours.items() if cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0}
        for x, y in xy
    ]


@dataclass
class ZoneTracker:
    """Which zones each track is in; each update returns the transitions since the last, in a stable order."""

    zones: Mapping[str, Polygon]
    _inside: dict[int, set[str]] = field(default_factory=dict)
    _contours: dict[str, npt.NDArray[np.float32]] = field(init=False)

    def __post_init__(self) -> None:
        self._contours = {
            name: checked_zone(name, polygon).astype(np.float32).reshape(-1, 1, 2)
            for name, polygon in self.zones.items()
        }

    def update(self, positions: Mapping[int, Points]) -> list[ZoneCrossing]:
        """``positions``: track id -> (2,) pitch metres for the tracks seen in this frame. Tracks not seen keep
        their zones (a short occlusion is not a departure); ``forget`` them when they end."""
        events: list[ZoneCrossing] = []
        ids = sorted(positions)
        now = zones_at(self._contours, np.array([positions[i] for i in ids]).reshape(-1, 2)) if ids else []
        for track_id, inside in zip(ids, now, strict=True):
            before = self._inside.get(track_id, set())
            events += [ZoneCrossing(track_id, z, ZoneTransition.LEAVE) for z in sorted(before - inside)]
            events += [ZoneCrossing(track_id, z, ZoneTransition.ENTER) for z in sorted(inside - before)]
            self._inside[track_id] = inside
        return events

    def forget(self, track_ids: list[int]) -> list[ZoneCrossing]:
        """Tracks that ended leave every zone they were in."""
        events = []
        for track_id in sorted(track_ids):
            events += [
                ZoneCrossing(track_id, z, ZoneTransition.LEAVE) for z in sorted(self._inside.pop(track_id, set()))
            ]
        return events

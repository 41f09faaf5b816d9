"""Named zones on the pitch, and the enter/leave transitions of tracks across them."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from orchestrator.events.model import ZoneTransition
from orchestrator.pitch.calibration import Points
from orchestrator.pitch.templates import Polygon


@dataclass(frozen=True)
class ZoneCrossing:
    track_id: int
    zone: str
    transition: ZoneTransition


def zones_at(zones: Mapping[str, Polygon], xy: Points) -> list[set[str]]:
    """For each (N, 2) pitch point, the names of the zones it is inside (on the edge counts as inside)."""
    contours = {name: np.asarray(polygon, np.float32).reshape(-1, 1, 2) for name, polygon in zones.items()}
    return [
        {name for name, contour in contours.items() if cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0}
        for x, y in xy
    ]


@dataclass
class ZoneTracker:
    """Which zones each track is in; each update returns the transitions since the last, in a stable order."""

    zones: Mapping[str, Polygon]
    _inside: dict[int, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, polygon in self.zones.items():
            if np.asarray(polygon).ndim != 2 or len(polygon) < 3:
                raise ValueError(f"zone {name!r} needs at least 3 vertices in pitch metres")

    def update(self, positions: Mapping[int, Points]) -> list[ZoneCrossing]:
        """``positions``: track id -> (2,) pitch metres for the tracks seen in this frame. Tracks not seen keep
        their zones (a short occlusion is not a departure); ``forget`` them when they end."""
        events: list[ZoneCrossing] = []
        ids = sorted(positions)
        now = zones_at(self.zones, np.array([positions[i] for i in ids]).reshape(-1, 2)) if ids else []
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

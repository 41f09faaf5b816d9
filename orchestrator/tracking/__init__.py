"""Per-stream multi-object tracking: detections in, stable track ids out.

``motion.py`` holds the constant-velocity Kalman filter, ``association.py`` the IoU matrix and the
matching, ``tracker.py`` the ``Tracker`` that joins them. Pure numpy: no Triton, no asyncio.
"""

from orchestrator.tracking.tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig"]

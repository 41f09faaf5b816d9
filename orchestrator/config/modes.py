"""How a run treats its sources: live (paced, freshest frame wins) or offline (every frame)."""

from enum import StrEnum


class Mode(StrEnum):
    LIVE = "live"
    """Files are paced at their native fps; buffers drop the oldest frame; stale frames are skipped."""
    OFFLINE = "offline"
    """Every frame as fast as possible, with backpressure and zero drops (network sources stay live)."""

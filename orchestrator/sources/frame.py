"""A decoded frame on its way through the pipeline."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Frame:
    stream_id: str
    seq: int
    """Index of the frame in the source since this run started (0, 1, 2, ...)."""
    image: npt.NDArray[np.uint8]
    """(H, W, 3) uint8 BGR."""
    source_ts_s: float
    """Media timestamp from the source's start, seconds."""
    captured_at: float
    """Unix time the frame was captured: when its decode started (for paced files, its due time)."""
    decode_s: float
    """Seconds spent reading and decoding it."""
    ready_mono: float
    """time.monotonic() when the decoded frame entered the buffer (queue latency starts here)."""

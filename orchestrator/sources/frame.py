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
    """Presentation time on the source's own media clock, seconds: the container's PTS in its time base for
    video files and streams (not rebased to the first frame), index / frame rate for image folders and
    synthetic frames."""
    captured_at: float
    """Unix time the frame was captured: the source's stated capture time (HLS PROGRAM-DATE-TIME), else when its
    decode started (for a recording replayed live, its due time less its decode)."""
    decode_s: float
    """Seconds spent reading and decoding it."""
    ready_mono: float
    """time.monotonic() when the decoded frame entered the buffer (queue latency starts here)."""
    source_time: float | None = None
    """Unix time of capture on the source's side: stated by it (HLS PROGRAM-DATE-TIME) or, for a live stream,
    anchored at its first frame (RTCP's wall-clock time, else arrival) plus its PTS since; None for recordings."""

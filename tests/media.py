"""The footage shipped in media/: every still, and evenly spaced frames of every video."""

from pathlib import Path

import cv2
import numpy as np

from orchestrator.paths import MEDIA_DIR

STILLS = sorted(p for p in MEDIA_DIR.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
VIDEOS = sorted(p for p in MEDIA_DIR.iterdir() if p.suffix.lower() in {".avi", ".mp4", ".mkv"})


def sampled_frames(video: Path, count: int) -> list[tuple[int, np.ndarray]]:
    """``count`` frames spread over the whole video, as (index, BGR frame), decoded by OpenCV."""
    capture = cv2.VideoCapture(str(video))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = {round(i * (total - 1) / max(count - 1, 1)) for i in range(count)}
    frames, index = [], 0
    while len(frames) < len(wanted):
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            frames.append((index, frame))
        index += 1
    capture.release()
    assert len(frames) == len(wanted), f"{video.name}: decoded {len(frames)} of {len(wanted)} sampled frames"
    return frames

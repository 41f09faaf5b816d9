"""How a frame travels to the ensemble: as raw pixels or JPEG-encoded."""

from enum import StrEnum
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

JPEG_QUALITY: Final = 90


class WireFormat(StrEnum):
    RAW = "raw"
    """IMAGE_RAW: uint8 (H, W, 3) BGR as is: no encode or decode cost (the default, see docs/PERFORMANCE.md)."""
    JPEG = "jpeg"
    """IMAGE_BYTES: JPEG-encoded by the client, decoded in the ensemble: 13-14x fewer bytes on the wire."""


def encode_jpeg(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """(H, W, 3) uint8 BGR -> the JPEG file's bytes as a 1-D uint8 array."""
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not JPEG-encode the frame")
    return np.asarray(data, dtype=np.uint8).reshape(-1)

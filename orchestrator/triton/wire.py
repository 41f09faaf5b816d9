"""How a frame travels to Triton: letterboxed by the client, raw full frame, or JPEG-encoded."""

from enum import StrEnum
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.contract import DETECTOR_MODEL, ENSEMBLE_MODEL

JPEG_QUALITY: Final = 90


class WireFormat(StrEnum):
    LETTERBOX = "letterbox"
    """``images`` + ``LETTERBOX`` straight to the detector: the client letterboxes off the event loop and sends
    S x S x 3 uint8 (0.52 MB at 416) whatever the camera's resolution; no Python step on the server."""
    RAW = "raw"
    """IMAGE_RAW to the ensemble: uint8 (H, W, 3) BGR as is (6.2 MB for 1080p); preprocessed in Triton."""
    JPEG = "jpeg"
    """IMAGE_BYTES to the ensemble: JPEG-encoded by the client, decoded in Triton: 13-14x fewer bytes than raw."""

    @property
    def model(self) -> str:
        """The model this wire talks to unless a configuration names another."""
        return DETECTOR_MODEL if self is WireFormat.LETTERBOX else ENSEMBLE_MODEL


def encode_jpeg(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """(H, W, 3) uint8 BGR -> the JPEG file's bytes as a 1-D uint8 array."""
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not JPEG-encode the frame")
    return np.asarray(data, dtype=np.uint8).reshape(-1)

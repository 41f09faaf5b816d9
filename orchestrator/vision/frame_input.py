"""Validation and decoding of one request's frame: encoded bytes or a raw HWC BGR array.

The limits are the decode-limits policy's (orchestrator/vision/decode_limits.py): an encoded image's size is read
from its header and checked, against the per-side and pixel limits and the pixels-per-byte budget, before any
decoding."""

from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from orchestrator.vision.decode_limits import MAX_ENCODED_BYTES, MAX_IMAGE_SIDE, DecodeLimitError, check_encoded

MAX_FRAME_SIDE: Final = MAX_IMAGE_SIDE
"""Largest accepted width or height in pixels (8K UHD is 7680 x 4320)."""


class FrameError(ValueError):
    """A frame that cannot be processed; the message says why, for the client."""


def decode_image_bytes(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Decode an encoded image (JPEG, PNG, ...) given as a 1-D uint8 array into (H, W, 3) uint8 BGR.

    Raises FrameError, naming the limit, for an image the decode limits refuse from its header (nothing is
    decoded then) and for bytes that do not decode."""
    flat = np.asarray(data).reshape(-1)
    if flat.dtype != np.uint8:
        raise FrameError(f"encoded image must be uint8 bytes, got {flat.dtype}")
    if flat.size == 0:
        raise FrameError("encoded image is empty (0 bytes)")
    if flat.size > MAX_ENCODED_BYTES:  # before the header check copies it
        raise FrameError(f"encoded image is {flat.size} bytes, above the limit of {MAX_ENCODED_BYTES}")
    try:
        check_encoded(flat.tobytes(), "encoded image")
    except DecodeLimitError as exc:
        raise FrameError(str(exc)) from exc
    return validate_raw_frame(_decode(flat))


def _decode(flat: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    try:
        image = cv2.imdecode(flat, cv2.IMREAD_COLOR)
    except cv2.error:  # OpenCV's own refusals; its message is about its internals, not the client's image
        image = None
    if image is None:
        raise FrameError(
            f"encoded image ({flat.size} bytes) is not an image that decodes: corrupt, truncated or unsupported"
        )
    return np.asarray(image, dtype=np.uint8)


def validate_raw_frame(frame: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """Check that ``frame`` is a non-empty (H, W, 3) uint8 array within MAX_FRAME_SIDE; return it."""
    if frame.dtype != np.uint8:
        raise FrameError(f"raw frame must be uint8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise FrameError(f"raw frame must be (height, width, 3) BGR, got shape {tuple(frame.shape)}")
    height, width = frame.shape[:2]
    if height == 0 or width == 0:
        raise FrameError(f"raw frame is empty: {width}x{height}")
    if max(height, width) > MAX_FRAME_SIDE:
        raise FrameError(f"frame is {width}x{height}, above the limit of {MAX_FRAME_SIDE} pixels per side")
    return frame  # type: ignore[return-value]

"""One request's frames -> the detector's letterboxed uint8 input and the letterboxes that map boxes back."""

import numpy as np
import numpy.typing as npt

from orchestrator.vision.frame_input import FrameError, decode_image_bytes, validate_raw_frame
from orchestrator.vision.letterbox import Letterbox, letterbox


def preprocess(
    image_bytes: npt.NDArray[np.uint8] | None, image_raw: npt.NDArray[np.generic] | None, size: int
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Exactly one of ``image_bytes`` (1-D encoded) or ``image_raw`` (H, W, 3 uint8 BGR) -> (S, S, 3) uint8 BGR.

    Raises FrameError with a client-facing message for any frame that cannot be processed.
    """
    if (image_bytes is None) == (image_raw is None):
        raise FrameError("send exactly one of IMAGE_BYTES (encoded image) or IMAGE_RAW (uint8 HWC BGR array)")
    frame = decode_image_bytes(image_bytes) if image_bytes is not None else validate_raw_frame(image_raw)  # type: ignore[arg-type]
    return letterbox(np.ascontiguousarray(frame), size)


def preprocess_batch(
    image_bytes: npt.NDArray[np.uint8] | None, image_raw: npt.NDArray[np.generic] | None, size: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """One request's batch: ``image_bytes`` (B, L) encoded or ``image_raw`` (B, H, W, 3) uint8 BGR ->
    (B, S, S, 3) uint8 BGR letterboxed and (B, 5) letterboxes (scale, pad_x, pad_y, source_width, source_height).

    The request stands or falls as one (one response per request): the first item that cannot be processed
    raises FrameError, and in a batch of several the message names it, "item 3 of 8 (batch index 2): ...".
    """
    count = _batch_size(image_bytes, image_raw)
    if count < 1:
        raise FrameError("the request's batch holds no frame")
    items = [_item(image_bytes, image_raw, index, count, size) for index in range(count)]
    return np.stack([boxed for boxed, _ in items]), np.stack([plan.as_array() for _, plan in items])


def _item(
    image_bytes: npt.NDArray[np.uint8] | None,
    image_raw: npt.NDArray[np.generic] | None,
    index: int,
    count: int,
    size: int,
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    encoded = None if image_bytes is None else image_bytes[index]
    raw = None if image_raw is None else image_raw[index]
    try:
        return preprocess(encoded, raw, size)
    except FrameError as exc:
        if count == 1:
            raise
        raise FrameError(f"item {index + 1} of {count} (batch index {index}): {exc}") from exc


def _batch_size(image_bytes: npt.NDArray[np.uint8] | None, image_raw: npt.NDArray[np.generic] | None) -> int:
    """The batch dimension of the one input present; 1 when none or both are (preprocess refuses that)."""
    present = [array for array in (image_bytes, image_raw) if array is not None]
    return int(present[0].shape[0]) if len(present) == 1 else 1

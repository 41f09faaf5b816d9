"""One request's frame -> the detector's letterboxed uint8 input and the letterbox that maps boxes back."""

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

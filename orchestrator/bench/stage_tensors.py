"""Every tensor the pipeline's stages consume, computed once per frame by the direct functions.

They feed the requests to the detector model on its own (real letterboxed frames and letterboxes: the
letterboxed wire) and the direct baseline of such a model.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.bench.footage import Footage
from orchestrator.vision.preprocess import preprocess


@dataclass(frozen=True)
class StageTensors:
    footage: Footage
    letterboxed: tuple[npt.NDArray[np.uint8], ...]
    """(S, S, 3) uint8 HWC BGR per frame: the detector's ``images``."""
    letterboxes: tuple[npt.NDArray[np.float32], ...]
    """(5,) float32 (scale, pad_x, pad_y, source_width, source_height) per frame: ``LETTERBOX``."""

    def __len__(self) -> int:
        return len(self.footage)


def compute_stage_tensors(footage: Footage, size: int) -> StageTensors:
    """Letterbox every raw frame to ``size``."""
    prepared = [preprocess(None, frame, size) for frame in footage.raw]
    return StageTensors(footage, tuple(b for b, _ in prepared), tuple(plan.as_array() for _, plan in prepared))

"""Every tensor the pipeline's stages consume, computed once per frame by the direct functions.

They feed the requests to a single composing model (``detector`` gets real letterboxed frames,
``postprocess`` real detector output) and the direct baseline of such a model.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.bench.footage import Footage
from orchestrator.vision.onnx_detector import OnnxDetector
from orchestrator.vision.preprocess import preprocess


@dataclass(frozen=True)
class StageTensors:
    footage: Footage
    letterboxed: tuple[npt.NDArray[np.float32], ...]
    """(3, S, S) float32 CHW BGR 0..255 per frame: the detector's ``images``."""
    letterboxes: tuple[npt.NDArray[np.float32], ...]
    """(5,) float32 (scale, pad_x, pad_y, source_width, source_height) per frame: ``LETTERBOX``."""
    predictions: tuple[npt.NDArray[np.float32], ...] | None
    """(4 + classes, anchors) float32 per frame: the detector's ``output0``; None when not needed."""

    def __len__(self) -> int:
        return len(self.footage)


def compute_stage_tensors(footage: Footage, size: int, detector: OnnxDetector | None) -> StageTensors:
    """Letterbox every raw frame to ``size``; run ``detector`` on them when one is given."""
    prepared = [preprocess(None, frame, size) for frame in footage.raw]
    letterboxed = tuple(chw for chw, _ in prepared)
    predictions = None if detector is None else tuple(detector.run(chw[None])[0] for chw in letterboxed)
    return StageTensors(footage, letterboxed, tuple(plan.as_array() for _, plan in prepared), predictions)

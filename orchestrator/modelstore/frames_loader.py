"""polygraphy's data loader for letterboxed frames: int8 calibration batches and the parity runs' inputs.

``calibration_frames.write_frames`` copies this file beside the frames it saves (``frames.npz``: one array per
detector input, named as the input, plus the batch size), and polygraphy is pointed at the copy:
``--data-loader-script DIR/load_frames.py:load_data``. It runs in polygraphy's interpreter (the TensorRT image's
Python 3.10, without pitchside installed), so it imports numpy and the standard library only.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

FRAMES_FILE = "frames.npz"
BATCH_KEY = "__batch__"
"""The batch size in ``frames.npz``: the plan's opt batch for calibration (TensorRT calibrates at the calibration
profile's opt shape), any size within the plan's range for parity."""


def batch_indices(count: int, batch: int) -> list[list[int]]:
    """Frame indices per batch: every frame once, in order; the last batch is filled by starting over, because
    calibration needs full batches (a frame seen twice only weighs a little more in the histograms)."""
    if count < 1 or batch < 1:
        raise ValueError(f"need at least one frame and a batch of at least 1, got {count} frames, batch {batch}")
    batches = -(-count // batch)
    return [[(b * batch + i) % count for i in range(batch)] for b in range(batches)]


def load_data(frames: Path | None = None) -> Iterator[dict[str, "np.ndarray[Any, Any]"]]:
    """One feed dict (input name -> batch array) per batch of the saved frames; polygraphy calls it without
    arguments, so by default the frames are the ``frames.npz`` beside this file."""
    path = frames if frames is not None else Path(__file__).with_name(FRAMES_FILE)
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files if name != BATCH_KEY}
        batch = int(saved[BATCH_KEY])
    count = len(next(iter(arrays.values())))
    for indices in batch_indices(count, batch):
        yield {name: np.ascontiguousarray(array[indices]) for name, array in arrays.items()}

"""The tensor contract between the orchestrator and the model repository.

Every tensor name appears here once. ``tests/unit/test_contract.py`` checks these names, dtypes and dims
against every ``config.pbtxt`` and the detector's ONNX graph, so a rename cannot drift silently.
"""

from typing import Final

ENSEMBLE_MODEL: Final = "detection"
PREPROCESS_MODEL: Final = "preprocess"
DETECTOR_MODEL: Final = "detector"

# Ensemble inputs: exactly one of the two per request.
INPUT_IMAGE_BYTES: Final = "IMAGE_BYTES"
"""UINT8 [n]: an encoded image (JPEG, PNG, or anything OpenCV decodes)."""
INPUT_IMAGE_RAW: Final = "IMAGE_RAW"
"""UINT8 [height, width, 3]: a raw frame, HWC, BGR channel order."""

# Detector inputs: the names of the served graph, so a TensorRT plan built from it drops in. The letterboxed
# wire sends these two straight to the detector model.
DETECTOR_INPUT: Final = "images"
"""UINT8 [S, S, 3]: letterboxed frame, HWC, BGR (cast, layout and normalisation are inside the graph)."""
LETTERBOX: Final = "LETTERBOX"
"""FP32 [5]: (scale, pad_x, pad_y, source_width, source_height) of the letterbox applied."""

# Detector and ensemble outputs.
OUTPUT_DETECTIONS: Final = "DETECTIONS"
"""FP32 [K, 6]: (x1, y1, x2, y2, score, class_id) per detection, source-frame pixels, best first, zero-padded."""
OUTPUT_NUM_DETECTIONS: Final = "NUM_DETECTIONS"
"""INT32 [1]: n, the number of real rows at the top of DETECTIONS."""
OUTPUT_CLASS_SCORES: Final = "CLASS_SCORES"
"""FP32 [C]: each class's best score over every anchor of the frame (the detector only). Its config names the
labels file (``label_filename``), so a classification request for it returns the class names: how the
orchestrator learns them from the server. Inference requests do not ask for it."""

DETECTION_COLUMNS: Final = 6
LETTERBOX_FIELDS: Final = 5

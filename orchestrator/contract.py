"""The tensor contract between the orchestrator and the model repository.

Every tensor name appears here once. ``tests/unit/test_contract.py`` checks these names, dtypes and dims
against every ``config.pbtxt`` and the detector's ONNX graph, so a rename cannot drift silently.
"""

from typing import Final

ENSEMBLE_MODEL: Final = "detection"
PREPROCESS_MODEL: Final = "preprocess"
DETECTOR_MODEL: Final = "detector"
POSTPROCESS_MODEL: Final = "postprocess"

# Ensemble inputs: exactly one of the two per request.
INPUT_IMAGE_BYTES: Final = "IMAGE_BYTES"
"""UINT8 [n]: an encoded image (JPEG, PNG, or anything OpenCV decodes)."""
INPUT_IMAGE_RAW: Final = "IMAGE_RAW"
"""UINT8 [height, width, 3]: a raw frame, HWC, BGR channel order."""

# Detector boundary: the names of the ONNX graph, so a TensorRT plan built from it drops in.
DETECTOR_INPUT: Final = "images"
"""FP32 [3, S, S]: letterboxed frame, CHW, BGR, 0..255 (normalisation is inside the graph)."""
DETECTOR_OUTPUT: Final = "output0"
"""FP32 [4 + classes, anchors]: YOLOv8 layout (cx, cy, w, h in input pixels, then class scores)."""
LETTERBOX: Final = "LETTERBOX"
"""FP32 [5]: (scale, pad_x, pad_y, source_width, source_height) of the letterbox applied."""

# Ensemble outputs.
OUTPUT_DETECTIONS: Final = "DETECTIONS"
"""FP32 [n, 6]: (x1, y1, x2, y2, score, class_id) per detection, boxes in source-frame pixels."""
OUTPUT_NUM_DETECTIONS: Final = "NUM_DETECTIONS"
"""INT32 [1]: n, the number of rows in DETECTIONS."""

DETECTION_COLUMNS: Final = 6
LETTERBOX_FIELDS: Final = 5

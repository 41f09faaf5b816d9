"""Triton adapter for orchestrator.vision.postprocess: decode, per-class thresholds, NMS, un-letterbox."""

import json

import numpy as np
import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_OUTPUT, LETTERBOX, OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS
from orchestrator.repository.parameters import string_parameters
from orchestrator.vision.letterbox import Letterbox
from orchestrator.vision.postprocess import PostprocessConfig, postprocess


class TritonPythonModel:
    def initialize(self, args):
        self._config = PostprocessConfig.from_parameters(string_parameters(json.loads(args["model_config"])))
        self._settings = {}
        self._log = pb_utils.Logger

    def execute(self, requests):
        return [self._respond(request) for request in requests]

    def _respond(self, request):
        outputs = pb_utils.get_input_tensor_by_name(request, DETECTOR_OUTPUT).as_numpy()
        plans = pb_utils.get_input_tensor_by_name(request, LETTERBOX).as_numpy()
        try:
            settings = self._settings_for(outputs.shape[1] - 4)
            rows = [
                postprocess(out, Letterbox.from_array(plan), settings) for out, plan in zip(outputs, plans, strict=True)
            ]
        except ValueError as exc:
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG))
        except Exception as exc:  # a bug must fail this frame only, never the batch
            self._log.log_error(f"postprocess failed: {exc!r}")
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(f"postprocess failed: {exc}"))
        return pb_utils.InferenceResponse(output_tensors=_pad_rows(rows))

    def _settings_for(self, num_classes):
        if num_classes not in self._settings:
            self._settings[num_classes] = self._config.settings_for(num_classes)
        return self._settings[num_classes]


def _pad_rows(rows):
    """Requests batched client-side share one DETECTIONS tensor: pad to the longest; NUM_DETECTIONS says how many."""
    longest = max(r.shape[0] for r in rows)
    padded = np.zeros((len(rows), longest, 6), dtype=np.float32)
    for i, r in enumerate(rows):
        padded[i, : r.shape[0]] = r
    counts = np.array([[r.shape[0]] for r in rows], dtype=np.int32)
    return [pb_utils.Tensor(OUTPUT_DETECTIONS, padded), pb_utils.Tensor(OUTPUT_NUM_DETECTIONS, counts)]

"""Triton adapter for orchestrator.vision.preprocess: one response per request, errors per request."""

import json

import numpy as np
import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_INPUT, INPUT_IMAGE_BYTES, INPUT_IMAGE_RAW, LETTERBOX
from orchestrator.vision.frame_input import FrameError
from orchestrator.vision.preprocess import preprocess


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self._size = int(pb_utils.get_output_config_by_name(config, DETECTOR_INPUT)["dims"][0])
        self._log = pb_utils.Logger

    def execute(self, requests):
        return [self._respond(request) for request in requests]

    def _respond(self, request):
        if request.is_cancelled():
            return pb_utils.InferenceResponse(error=pb_utils.TritonError("cancelled", pb_utils.TritonError.CANCELLED))
        encoded = _optional_input(request, INPUT_IMAGE_BYTES)
        raw = _optional_input(request, INPUT_IMAGE_RAW)
        try:
            items = [
                preprocess(None if encoded is None else encoded[i], None if raw is None else raw[i], self._size)
                for i in range(_batch_size(encoded, raw))
            ]
        except FrameError as exc:
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG))
        except Exception as exc:  # a bug must fail this frame only, never the batch
            self._log.log_error(f"preprocess failed: {exc!r}")
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(f"preprocess failed: {exc}"))
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor(DETECTOR_INPUT, np.stack([boxed for boxed, _ in items])),
                pb_utils.Tensor(LETTERBOX, np.stack([plan.as_array() for _, plan in items])),
            ]
        )


def _optional_input(request, name):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def _batch_size(encoded, raw):
    present = [array for array in (encoded, raw) if array is not None]
    return present[0].shape[0] if len(present) == 1 else 1

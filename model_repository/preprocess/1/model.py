"""Triton adapter for orchestrator.vision.preprocess: one response per request, errors per request."""

import json

import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_INPUT, INPUT_IMAGE_BYTES, INPUT_IMAGE_RAW, LETTERBOX
from orchestrator.vision.frame_input import FrameError
from orchestrator.vision.preprocess import preprocess_batch


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
            boxed, letterboxes = preprocess_batch(encoded, raw, self._size)
        except FrameError as exc:  # the client's frame: refused with the limit or the reason, item named
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG))
        except Exception as exc:  # a bug must fail this request only, never the batch
            self._log.log_error(f"preprocess failed: {exc!r}")
            return pb_utils.InferenceResponse(error=pb_utils.TritonError("preprocess failed (see the server log)"))
        return pb_utils.InferenceResponse(
            output_tensors=[pb_utils.Tensor(DETECTOR_INPUT, boxed), pb_utils.Tensor(LETTERBOX, letterboxes)]
        )


def _optional_input(request, name):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()

"""Triton adapter for the ONNX detector run by ONNX Runtime (the CPU profile's detector).

All live requests in a dynamic batch run as one ONNX Runtime call, then split back per request.
"""

import json
from pathlib import Path

import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_INPUT, DETECTOR_OUTPUT
from orchestrator.repository.parameters import string_parameters
from orchestrator.vision.onnx_detector import OnnxDetector


class TritonPythonModel:
    def initialize(self, args):
        params = string_parameters(json.loads(args["model_config"]))
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._detector = OnnxDetector.load(
            version_dir / params.get("onnx_file", "model.onnx"),
            intra_op_threads=int(params.get("intra_op_threads", "0")),
        )
        self._log = pb_utils.Logger

    def execute(self, requests):
        live = [i for i, request in enumerate(requests) if not request.is_cancelled()]
        inputs = [pb_utils.get_input_tensor_by_name(requests[i], DETECTOR_INPUT).as_numpy() for i in live]
        try:
            outputs = dict(zip(live, self._detector.run_split(inputs), strict=True))
        except Exception as exc:  # fail this batch's responses, keep the model serving
            self._log.log_error(f"detector failed: {exc!r}")
            return [_error(f"detector failed: {exc}", pb_utils.TritonError.INTERNAL) for _ in requests]
        return [
            pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(DETECTOR_OUTPUT, outputs[i])])
            if i in outputs
            else _error("cancelled", pb_utils.TritonError.CANCELLED)
            for i in range(len(requests))
        ]


def _error(message, code):
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(message, code))

"""Triton adapter for the served detector graph run by ONNX Runtime (the CPU profile's detector).

Every valid request of a dynamic batch runs in one ONNX Runtime call, then is split back per request, each
answered with the outputs it asked for (a detection: DETECTIONS and NUM_DETECTIONS; the class-name lookup:
CLASS_SCORES). ONNX Runtime runs the whole graph whichever outputs are fetched (checked with its profiler), so
asking for fewer would save nothing; CLASS_SCORES is one ReduceMax. A request with an impossible LETTERBOX is
answered INVALID_ARG on its own and never reaches the graph.
"""

import json
from pathlib import Path

import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_INPUT, LETTERBOX
from orchestrator.repository.parameters import string_parameters
from orchestrator.vision.letterbox import letterbox_problem
from orchestrator.vision.onnx_detector import OnnxDetector


class TritonPythonModel:
    def initialize(self, args):
        params = string_parameters(json.loads(args["model_config"]))
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._detector = OnnxDetector.load(
            version_dir / params.get("onnx_file", "model.onnx"),
            intra_op_threads=int(params.get("intra_op_threads", "0")),
        )
        self._size = self._detector.input_size
        self._names = tuple(o["name"] for o in json.loads(args["model_config"])["output"])
        self._log = pb_utils.Logger

    def execute(self, requests):
        responses = {}
        valid = {}
        wanted = {}
        for i, request in enumerate(requests):
            if request.is_cancelled():
                responses[i] = _error("cancelled", pb_utils.TritonError.CANCELLED)
                continue
            images = pb_utils.get_input_tensor_by_name(request, DETECTOR_INPUT).as_numpy()
            letterboxes = pb_utils.get_input_tensor_by_name(request, LETTERBOX).as_numpy()
            problem = next(filter(None, (letterbox_problem(lb, self._size) for lb in letterboxes)), None)
            if problem is not None:
                responses[i] = _error(problem, pb_utils.TritonError.INVALID_ARG)
            else:
                valid[i] = (images, letterboxes)
                wanted[i] = set(request.requested_output_names()) or set(self._names)
        try:
            outputs = dict(zip(valid, self._detector.run_split(list(valid.values()), self._names), strict=True))
        except Exception as exc:  # fail this batch's responses, keep the model serving
            self._log.log_error(f"detector failed: {exc!r}")
            outputs = {}
            responses.update({i: _error(f"detector failed: {exc}", pb_utils.TritonError.INTERNAL) for i in valid})
        for i, tensors in outputs.items():
            asked = [pb_utils.Tensor(name, value) for name, value in tensors.items() if name in wanted[i]]
            responses[i] = pb_utils.InferenceResponse(output_tensors=asked)
        return [responses[i] for i in range(len(requests))]


def _error(message, code):
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(message, code))

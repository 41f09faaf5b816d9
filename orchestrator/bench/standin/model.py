"""Triton adapter for the stand-in detector: each request gets the next recorded outputs; nothing is computed.

Copied as ``detector/1/model.py`` into the repository that ``pitchside bench model --standin-detector`` renders.
Only the tiny LETTERBOX input is read, to learn each request's batch size. CLASS_SCORES (asked for only by the
class-name lookup, which reads the names and ignores the scores) is answered with zeros.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

from orchestrator.bench.standin.replay import RecordedOutputs, ReplayDetector
from orchestrator.contract import LETTERBOX, OUTPUT_CLASS_SCORES, OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS

RECORDED_FILE = "recorded.npz"


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._replay = ReplayDetector(RecordedOutputs.load(version_dir / RECORDED_FILE))
        outputs = json.loads(args["model_config"])["output"]
        self._num_classes = next((int(o["dims"][0]) for o in outputs if o["name"] == OUTPUT_CLASS_SCORES), 0)

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            letterboxes = pb_utils.get_input_tensor_by_name(request, LETTERBOX).as_numpy()
            asked = set(request.requested_output_names())
            tensors = []
            if asked & {OUTPUT_DETECTIONS, OUTPUT_NUM_DETECTIONS}:
                rows, counts = self._replay.run(letterboxes, letterboxes)
                tensors += [pb_utils.Tensor(OUTPUT_DETECTIONS, rows), pb_utils.Tensor(OUTPUT_NUM_DETECTIONS, counts)]
            if OUTPUT_CLASS_SCORES in asked:
                scores = np.zeros((letterboxes.shape[0], self._num_classes), np.float32)
                tensors.append(pb_utils.Tensor(OUTPUT_CLASS_SCORES, scores))
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses

"""Triton adapter for orchestrator.vision.preprocess: one response per request, errors per request.

A refused frame's error goes through orchestrator.serving.refusal_pacing: at once while refusals are few, late
(without holding this instance) once a client loops refused requests.
"""

import json
from functools import partial

import triton_python_backend_utils as pb_utils

from orchestrator.contract import DETECTOR_INPUT, INPUT_IMAGE_BYTES, INPUT_IMAGE_RAW, LETTERBOX
from orchestrator.serving.refusal_pacing import PacingPolicy, RefusalPacer
from orchestrator.vision.frame_input import FrameError
from orchestrator.vision.preprocess import preprocess_batch


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self._size = int(pb_utils.get_output_config_by_name(config, DETECTOR_INPUT)["dims"][0])
        parameters = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        self._pacer = RefusalPacer(PacingPolicy.from_parameters(parameters))
        self._paced_family = pb_utils.MetricFamily(  # held: its metrics live only as long as it does
            name="pitchside_model_refusals_paced_total",
            description="Refused requests answered late because refusals came faster than the refusal budget",
            kind=pb_utils.MetricFamily.COUNTER,
        )
        self._paced = self._paced_family.Metric(labels={"model": args["model_name"]})
        self._log = pb_utils.Logger

    def execute(self, requests):
        answers = [self._respond(request) for request in requests]
        if not any(refused for _, refused in answers):
            return [response for response, _ in answers]
        # A refusal may be answered late: this batch answers through its response senders instead.
        for request, (response, refused) in zip(requests, answers, strict=True):
            send = partial(
                request.get_response_sender().send, response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
            )
            if not refused:
                send()
            elif self._pacer.refuse(send):
                self._paced.increment(1)
        return None

    def finalize(self):
        self._pacer.close()

    def _respond(self, request):
        """(response, whether it refuses the client's frame)."""
        if request.is_cancelled():
            cancelled = pb_utils.TritonError("cancelled", pb_utils.TritonError.CANCELLED)
            return pb_utils.InferenceResponse(error=cancelled), False
        encoded = _optional_input(request, INPUT_IMAGE_BYTES)
        raw = _optional_input(request, INPUT_IMAGE_RAW)
        try:
            boxed, letterboxes = preprocess_batch(encoded, raw, self._size)
        except FrameError as exc:  # the client's frame: refused with the limit or the reason, item named
            refusal = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
            return pb_utils.InferenceResponse(error=refusal), True
        except Exception as exc:  # a bug must fail this request only, never the batch
            self._log.log_error(f"preprocess failed: {exc!r}")
            failure = pb_utils.TritonError("preprocess failed (see the server log)")
            return pb_utils.InferenceResponse(error=failure), False
        outputs = [pb_utils.Tensor(DETECTOR_INPUT, boxed), pb_utils.Tensor(LETTERBOX, letterboxes)]
        return pb_utils.InferenceResponse(output_tensors=outputs), False


def _optional_input(request, name):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()

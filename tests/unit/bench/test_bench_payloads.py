from typing import Any

import numpy as np
import pytest

from orchestrator.bench.footage import Footage
from orchestrator.bench.payloads import PayloadError, build_payloads
from orchestrator.bench.stage_tensors import StageTensors
from orchestrator.triton.wire import WireFormat

ENSEMBLE: dict[str, Any] = {
    "max_batch_size": 8,
    "input": [
        {"name": "IMAGE_BYTES", "data_type": "TYPE_UINT8", "dims": ["-1"], "optional": True},
        {"name": "IMAGE_RAW", "data_type": "TYPE_UINT8", "dims": ["-1", "-1", "3"], "optional": True},
    ],
}


@pytest.fixture
def tensors() -> StageTensors:
    raw = tuple(np.full((4, 6, 3), i, dtype=np.uint8) for i in range(3))
    jpeg = tuple(np.arange(10 + i, dtype=np.uint8) for i in range(3))
    letterboxed = tuple(np.full((8, 8, 3), i, dtype=np.uint8) for i in range(3))
    return StageTensors(Footage("clip", raw, jpeg), letterboxed, tuple(np.ones(5, np.float32) * i for i in range(3)))


def test_raw_wire_sends_one_frame_per_request_as_image_raw(tensors: StageTensors) -> None:
    payloads = build_payloads(ENSEMBLE, tensors, WireFormat.RAW)
    assert payloads.input_names == ("IMAGE_RAW",)
    assert len(payloads.requests) == 3
    (tensor,) = payloads.requests[2]
    assert (tensor.name(), tensor.shape(), tensor.datatype()) == ("IMAGE_RAW", [1, 4, 6, 3], "UINT8")
    assert payloads.bytes_per_request == 72


def test_jpeg_wire_sends_the_encoded_bytes(tensors: StageTensors) -> None:
    payloads = build_payloads(ENSEMBLE, tensors, WireFormat.JPEG)
    assert payloads.input_names == ("IMAGE_BYTES",)
    assert [request[0].shape() for request in payloads.requests] == [[1, 10], [1, 11], [1, 12]]
    assert payloads.bytes_per_request == 11


def test_a_detector_gets_the_letterboxed_frames_and_their_letterboxes(tensors: StageTensors) -> None:
    config = {"max_batch_size": 8, "input": [
        {"name": "images", "data_type": "TYPE_UINT8", "dims": ["8", "8", "3"]},
        {"name": "LETTERBOX", "data_type": "TYPE_FP32", "dims": ["5"]},
    ]}  # fmt: skip
    payloads = build_payloads(config, tensors, WireFormat.LETTERBOX)
    images, letterbox = payloads.requests[2]
    assert (images.shape(), images.datatype(), letterbox.shape()) == ([1, 8, 8, 3], "UINT8", [1, 5])
    assert payloads.bytes_per_request == 8 * 8 * 3 + 5 * 4


def test_an_unknown_fixed_input_gets_zeros_without_a_batch_dim_when_unbatched(tensors: StageTensors) -> None:
    config = {"max_batch_size": 0, "input": [{"name": "x", "data_type": "TYPE_INT32", "dims": ["2", "2"]}]}
    (tensor,) = build_payloads(config, tensors, WireFormat.RAW).requests[0]
    assert (tensor.shape(), tensor.datatype()) == ([2, 2], "INT32")


def test_an_unknown_variable_input_is_refused(tensors: StageTensors) -> None:
    config = {"max_batch_size": 1, "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": ["-1"]}]}
    with pytest.raises(PayloadError, match="variable dims"):
        build_payloads(config, tensors, WireFormat.RAW)


def test_a_model_without_inputs_is_refused(tensors: StageTensors) -> None:
    with pytest.raises(PayloadError, match="no input"):
        build_payloads({"max_batch_size": 1, "input": []}, tensors, WireFormat.RAW)

"""Request tensors for any model, built once per frame before the clock starts.

Inputs named in the detection contract get real data: the footage (raw or JPEG, the wire format),
letterboxed frames and their letterboxes. Any other input with fixed dims gets zeros.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import np_to_triton_dtype, triton_to_np_dtype

from orchestrator.bench.stage_tensors import StageTensors
from orchestrator.contract import DETECTOR_INPUT, INPUT_IMAGE_BYTES, INPUT_IMAGE_RAW, LETTERBOX
from orchestrator.triton.wire import WireFormat

_WIRE_INPUTS = {WireFormat.RAW: INPUT_IMAGE_RAW, WireFormat.JPEG: INPUT_IMAGE_BYTES}


class PayloadError(ValueError):
    """The model has an input the benchmark cannot fill."""


@dataclass(frozen=True)
class Payloads:
    """``requests[i]``: the inputs of frame i's request (one frame each, batch dimension 1)."""

    input_names: tuple[str, ...]
    requests: tuple[tuple[grpcclient.InferInput, ...], ...]
    bytes_per_request: float
    columns: Mapping[str, Sequence[npt.NDArray[Any]]] = field(default_factory=dict)
    """Input name -> its array for each frame, without the batch dimension: what perf_analyzer's
    ``--input-data`` JSON holds (see input_data.py)."""


def build_payloads(config: Mapping[str, Any], tensors: StageTensors, wire: WireFormat) -> Payloads:
    """One request per frame for the model described by ``config`` (Triton's JSON model config)."""
    batched = int(config.get("max_batch_size", 0)) > 0
    specs = [spec for spec in config.get("input", []) if _wanted(spec, wire)]
    columns = {str(spec["name"]): _column(spec, tensors, wire) for spec in specs}
    if not columns:
        raise PayloadError("the model declares no input the benchmark can send")
    requests = tuple(_request(columns, i, batched) for i in range(len(tensors)))
    size = float(np.mean([sum(a.nbytes for a in col) for col in zip(*columns.values(), strict=True)]))
    return Payloads(tuple(columns), requests, size, columns)


def _wanted(spec: Mapping[str, Any], wire: WireFormat) -> bool:
    """Required inputs, and the optional image input that carries the chosen wire format."""
    name = str(spec["name"])
    if name in _WIRE_INPUTS.values():
        return name == _WIRE_INPUTS[wire]
    return not spec.get("optional", False)


def _column(spec: Mapping[str, Any], tensors: StageTensors, wire: WireFormat) -> Sequence[npt.NDArray[Any]]:
    name = str(spec["name"])
    known: dict[str, Sequence[npt.NDArray[Any]] | None] = {
        INPUT_IMAGE_RAW: tensors.footage.raw,
        INPUT_IMAGE_BYTES: tensors.footage.jpeg,
        DETECTOR_INPUT: tensors.letterboxed,
        LETTERBOX: tensors.letterboxes,
    }
    column = known.get(name)
    return column if column else [_zeros(spec)] * len(tensors)


def _zeros(spec: Mapping[str, Any]) -> npt.NDArray[Any]:
    dims = [int(d) for d in spec.get("dims", [])]
    if any(d < 0 for d in dims):
        raise PayloadError(f"input {spec['name']!r} has variable dims {dims}: the benchmark cannot invent its shape")
    return np.zeros(dims, dtype=_numpy_dtype(str(spec.get("data_type", ""))))


def _numpy_dtype(data_type: str) -> np.dtype[Any]:
    dtype = triton_to_np_dtype(data_type.removeprefix("TYPE_"))
    if dtype is None or dtype is np.object_:
        raise PayloadError(f"unsupported input data type {data_type}")
    return np.dtype(dtype)


def _request(
    columns: Mapping[str, Sequence[npt.NDArray[Any]]], index: int, batched: bool
) -> tuple[grpcclient.InferInput, ...]:
    return tuple(_infer_input(name, column[index], batched) for name, column in columns.items())


def _infer_input(name: str, array: npt.NDArray[Any], batched: bool) -> grpcclient.InferInput:
    data = np.ascontiguousarray(array[None] if batched else array)
    tensor = grpcclient.InferInput(name, list(data.shape), str(np_to_triton_dtype(data.dtype)))
    tensor.set_data_from_numpy(data)
    return tensor

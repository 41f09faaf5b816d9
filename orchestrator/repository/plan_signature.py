"""The input/output signature of a TensorRT plan, read where TensorRT is importable (a GPU node, a CI job).

A plan is opaque without TensorRT; ``repo check`` compares a readable plan's tensors with its config and, where
it cannot read one, says so rather than passing it silently.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.repository.model_config import ModelEntry, TensorSpec

Signature = tuple[dict[str, TensorSpec], dict[str, TensorSpec]]

_DTYPES = {
    "FLOAT": pb.TYPE_FP32,
    "HALF": pb.TYPE_FP16,
    "INT32": pb.TYPE_INT32,
    "INT64": pb.TYPE_INT64,
    "UINT8": pb.TYPE_UINT8,
    "INT8": pb.TYPE_INT8,
    "BOOL": pb.TYPE_BOOL,
}


class PlanUnverifiableError(Exception):
    """The plan cannot be read here; the message says why (no TensorRT, another GPU or TensorRT version)."""


def plan_files(entry: ModelEntry) -> Iterator[Path]:
    """Every plan file a ``tensorrt_plan`` model's config names that exists, in every version."""
    config = entry.config
    if config.platform != "tensorrt_plan" and config.backend != "tensorrt":
        return
    names = {config.default_model_filename or "model.plan", *config.cc_model_filenames.values()}
    for version in sorted(d for d in entry.directory.iterdir() if d.is_dir() and d.name.isdigit()):
        yield from (version / name for name in sorted(names) if (version / name).is_file())


def plan_signature(path: Path) -> Signature:
    """(inputs, outputs) by name, dynamic dims as -1, batch dimension included."""
    try:
        import tensorrt as trt  # only GPU nodes and model-conversion jobs have it
    except ImportError as exc:
        raise PlanUnverifiableError("TensorRT is not importable here") from exc
    runtime = trt.Runtime(trt.Logger(trt.Logger.ERROR))
    engine = runtime.deserialize_cuda_engine(path.read_bytes())
    if engine is None:
        raise PlanUnverifiableError(
            f"TensorRT {getattr(trt, '__version__', '?')} on this GPU cannot load it (built for another GPU or version)"
        )
    return _io(trt, engine)


def _io(trt: Any, engine: Any) -> Signature:
    inputs: dict[str, TensorSpec] = {}
    outputs: dict[str, TensorSpec] = {}
    for index in range(engine.num_io_tensors):
        name = engine.get_tensor_name(index)
        dtype = _DTYPES.get(str(engine.get_tensor_dtype(name)).rsplit(".", 1)[-1], pb.TYPE_INVALID)
        spec = TensorSpec(dtype, tuple(int(d) for d in engine.get_tensor_shape(name)))
        (inputs if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT else outputs)[name] = spec
    return inputs, outputs

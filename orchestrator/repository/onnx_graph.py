"""The input/output signature of an ONNX graph, in model-config terms."""

from pathlib import Path
from typing import Final

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.repository.model_config import ModelEntry, RepositoryError, TensorSpec

ONNX_DATA_TYPES: Final = {
    "tensor(float)": pb.TYPE_FP32,
    "tensor(float16)": pb.TYPE_FP16,
    "tensor(double)": pb.TYPE_FP64,
    "tensor(uint8)": pb.TYPE_UINT8,
    "tensor(int8)": pb.TYPE_INT8,
    "tensor(int32)": pb.TYPE_INT32,
    "tensor(int64)": pb.TYPE_INT64,
    "tensor(bool)": pb.TYPE_BOOL,
}


def onnx_file_of(entry: ModelEntry) -> Path | None:
    """The ONNX file a model serves: a Python model's ``onnx_file`` parameter or an onnxruntime model's file."""
    config = entry.config
    if config.backend == "python" and "onnx_file" in config.parameters:
        return entry.directory / "1" / str(config.parameters["onnx_file"].string_value)
    if config.platform == "onnxruntime_onnx" or config.backend == "onnxruntime":
        return entry.directory / "1" / (config.default_model_filename or "model.onnx")
    return None


def onnx_signature(path: Path) -> tuple[dict[str, TensorSpec], dict[str, TensorSpec]]:
    """(inputs, outputs) by name, symbolic dims as -1. Raises RepositoryError if the file cannot be read."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise RepositoryError(f"cannot load ONNX graph {path.name}: {exc}") from exc

    def specs(args: list[ort.NodeArg]) -> dict[str, TensorSpec]:
        return {
            a.name: TensorSpec(
                ONNX_DATA_TYPES.get(a.type, pb.TYPE_INVALID), tuple(d if isinstance(d, int) else -1 for d in a.shape)
            )
            for a in args
        }

    return specs(session.get_inputs()), specs(session.get_outputs())

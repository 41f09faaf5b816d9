"""``pitchside model check``: can this ONNX and its labels be served, and if not, what exactly is wrong."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import onnx

from orchestrator.repository.detector_graph import MIN_OPSET, GraphBuildError, SourceLayout, read_layout
from orchestrator.repository.model_config import read_labels as read_labels

MAX_CLASSES: Final = 4096


@dataclass(frozen=True)
class SourceReport:
    """What the check found: the layout when the graph can be served, and every problem, each with the fix."""

    layout: SourceLayout | None
    opset: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_source(model_path: Path, labels: Sequence[str]) -> SourceReport:
    """Every reason the researcher's ONNX at ``model_path`` with ``labels`` cannot be served as a detector."""
    try:
        model = onnx.load(str(model_path))
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises several unrelated types for a bad file
        return SourceReport(None, 0, (f"{model_path.name} is not a valid ONNX model: {exc}",))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    problems = [] if opset >= MIN_OPSET else [f"opset {opset}: re-export with opset {MIN_OPSET} or newer"]
    try:
        layout: SourceLayout | None = read_layout(model)
    except GraphBuildError as exc:
        layout = None
        problems.append(f"layout: {exc}; expected the YOLOv8 layout (images (B, 3, S, S) -> (B, 4 + classes, A))")
    problems += _batch_problems(model)
    if layout is not None:
        problems += _label_problems(labels, layout.num_classes)
    problems += _runtime_problems(model_path)
    return SourceReport(layout, opset, tuple(problems))


def _batch_problems(model: onnx.ModelProto) -> list[str]:
    problems = []
    for kind, values in (("input", model.graph.input), ("output", model.graph.output)):
        for value in values:
            dims = value.type.tensor_type.shape.dim
            if dims and dims[0].HasField("dim_value"):
                problems.append(
                    f"{kind} {value.name!r} has a fixed batch of {dims[0].dim_value}: export with a dynamic batch "
                    "axis (e.g. dynamic_axes={'images': {0: 'batch'}}) so Triton can batch frames"
                )
    return problems


def _label_problems(labels: Sequence[str], num_classes: int) -> list[str]:
    problems = []
    if len(labels) != num_classes:
        problems.append(f"labels: {len(labels)} names for a detector with {num_classes} classes (one name per line)")
    if any(not name for name in labels):
        problems.append(f"labels: line {[n for n in labels].index('') + 1} is empty")
    duplicates = sorted({name for name in labels if name and list(labels).count(name) > 1})
    if duplicates:
        problems.append(f"labels: {', '.join(duplicates)} appear more than once")
    if num_classes > MAX_CLASSES:
        problems.append(f"{num_classes} classes: more than {MAX_CLASSES} is not a detector this pipeline serves")
    return problems


def _runtime_problems(model_path: Path) -> list[str]:
    """ONNX Runtime (the CPU profile) must be able to load it: unsupported operators surface here."""
    import onnxruntime as ort

    try:
        ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types
        return [f"ONNX Runtime cannot load it (an operator or type it does not support?): {str(exc)[:300]}"]
    return []

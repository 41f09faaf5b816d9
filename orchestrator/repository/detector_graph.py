"""The deployable detector graph, built from a researcher's YOLOv8-layout ONNX.

Source contract (any YOLOv8/YOLO11 export, the bundled NanoDet-g-416): one input ``(B, 3, S, S)`` float32 BGR
0..255 (normalisation inside the graph), one output ``(B, 4 + C, A)`` whose rows are box centre x, centre y,
width, height in input pixels, then C class scores.

Served contract (what Triton runs, ONNX Runtime on CPU and TensorRT on GPU alike):

* inputs ``images`` UINT8 ``(B, S, S, 3)`` letterboxed BGR, HWC, and ``LETTERBOX`` FP32 ``(B, 5)``
  ``(scale, pad_x, pad_y, source_width, source_height)``;
* outputs ``DETECTIONS`` FP32 ``(B, K, 6)`` rows ``(x1, y1, x2, y2, score, class_id)`` in **source** pixels, best
  score first, zero rows after the last detection, ``NUM_DETECTIONS`` INT32 ``(B, 1)``, and ``CLASS_SCORES`` FP32
  ``(B, C)``, each class's best score over every anchor of the image (which classes are present). Its config
  names the labels file (``label_filename``), so Triton's classification extension serves the class names with
  it. Inference requests ask only for the first two; the extra output costs one ReduceMax.

Everything between runs in the graph: cast, layout, the source network, box decoding, best class per anchor,
per-class score thresholds, class-wise ``NonMaxSuppression`` (ONNX's operator, which TensorRT's parser turns
into its INMSLayer, so one graph serves both runtimes), a fixed top-K and the letterbox undone. The GPU sees
0.52 MB in and 7.2 KB out per 416 frame instead of 2.08 MB in and 1.19 MB out.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import onnx
import onnx_graphsurgeon as gs

from orchestrator.contract import (
    DETECTION_COLUMNS,
    DETECTOR_INPUT,
    LETTERBOX,
    LETTERBOX_FIELDS,
    OUTPUT_CLASS_SCORES,
    OUTPUT_DETECTIONS,
    OUTPUT_NUM_DETECTIONS,
)
from orchestrator.vision.thresholds import DEFAULT_IOU_THRESHOLD, DEFAULT_MAX_DETECTIONS

BOX_ROWS: Final = 4
BATCH_DIM: Final = "batch"
MIN_OPSET: Final = 13
"""Unsqueeze/Slice/ReduceSum with tensor inputs; NonMaxSuppression needs 11."""
REDUCE_MAX_AXES_INPUT_OPSET: Final = 18
FLOAT: Final = onnx.TensorProto.FLOAT


class GraphBuildError(ValueError):
    """The source ONNX does not have the YOLOv8 layout the builder expects; the message says what differs."""


@dataclass(frozen=True)
class GraphSettings:
    """What the built graph bakes in. Changing any of these is a new model version."""

    class_thresholds: npt.NDArray[np.float32]
    """(C,) minimum score per class."""
    iou_threshold: float = DEFAULT_IOU_THRESHOLD
    max_detections: int = DEFAULT_MAX_DETECTIONS


@dataclass(frozen=True)
class SourceLayout:
    """What the builder read off the source graph."""

    input_size: int
    num_classes: int
    num_anchors: int


def read_layout(model: onnx.ModelProto) -> SourceLayout:
    """The input size, class count and anchor count of a YOLOv8-layout graph; GraphBuildError otherwise."""
    graph = model.graph
    if len(graph.input) != 1 or len(graph.output) != 1:
        raise GraphBuildError(f"expected one input and one output, got {len(graph.input)} and {len(graph.output)}")
    in_dims = _dims(graph.input[0])
    out_dims = _dims(graph.output[0])
    if len(in_dims) != 4 or in_dims[1] != 3 or in_dims[2] != in_dims[3] or not isinstance(in_dims[2], int):
        raise GraphBuildError(f"input must be (batch, 3, S, S) with a fixed S, got {in_dims}")
    if len(out_dims) != 3 or not all(isinstance(d, int) for d in out_dims[1:]) or int(out_dims[1]) <= BOX_ROWS:
        raise GraphBuildError(f"output must be (batch, 4 + classes, anchors) with fixed sizes, got {out_dims}")
    if graph.input[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise GraphBuildError("input must be float32 (BGR, 0..255)")
    return SourceLayout(int(in_dims[2]), int(out_dims[1]) - BOX_ROWS, int(out_dims[2]))


def build_detector_graph(source: onnx.ModelProto, settings: GraphSettings) -> onnx.ModelProto:
    """The served graph (see the module docstring) around ``source``."""
    layout = read_layout(source)
    if settings.class_thresholds.shape != (layout.num_classes,):
        raise GraphBuildError(
            f"{settings.class_thresholds.shape[0]} class thresholds for a detector with {layout.num_classes} classes"
        )
    if not 0.0 < settings.iou_threshold <= 1.0 or settings.max_detections < 1:
        raise GraphBuildError("iou_threshold must be within (0, 1] and max_detections at least 1")
    graph = gs.import_onnx(source)
    builder = _Builder(graph, _opset(source))
    images, letterbox = builder.served_inputs(layout.input_size)
    predictions = graph.outputs[0]
    class_scores = builder.class_scores(predictions, layout.num_classes)
    boxes, scores = builder.decode(predictions, settings.class_thresholds)
    rows, counts = builder.select(boxes, scores, settings, min(settings.max_detections, layout.num_anchors))
    detections = builder.unletterbox(rows, letterbox)
    k = min(settings.max_detections, layout.num_anchors)
    detections.name, detections.dtype, detections.shape = OUTPUT_DETECTIONS, np.float32, [BATCH_DIM, k, 6]
    counts.name, counts.dtype, counts.shape = OUTPUT_NUM_DETECTIONS, np.int32, [BATCH_DIM, 1]
    class_scores.name, class_scores.dtype = OUTPUT_CLASS_SCORES, np.float32
    class_scores.shape = [BATCH_DIM, layout.num_classes]
    graph.inputs = [images, letterbox]
    graph.outputs = [detections, counts, class_scores]
    graph.cleanup().toposort()
    built: onnx.ModelProto = gs.export_onnx(graph)
    built.ir_version = source.ir_version
    built.producer_name = "pitchside detector-graph"
    onnx.checker.check_model(built)
    return built


class _Builder:
    """Adds nodes to one graph; each method is one stage of the served graph."""

    def __init__(self, graph: gs.Graph, opset: int) -> None:
        self._graph = graph
        self._opset = opset
        self._count = 0

    def served_inputs(self, size: int) -> tuple[gs.Variable, gs.Variable]:
        """uint8 NHWC in, cast and transposed into the source's float NCHW input."""
        source_input = self._graph.inputs[0]
        source_input.name = "source_images_nchw"
        images = gs.Variable(DETECTOR_INPUT, dtype=np.uint8, shape=[BATCH_DIM, size, size, 3])
        letterbox = gs.Variable(LETTERBOX, dtype=np.float32, shape=[BATCH_DIM, LETTERBOX_FIELDS])
        as_float = self._op("Cast", [images], to=FLOAT)
        self._graph.layer(op="Transpose", inputs=[as_float], outputs=[source_input], attrs={"perm": [0, 3, 1, 2]})
        return images, letterbox

    def class_scores(self, predictions: gs.Variable, num_classes: int) -> gs.Variable:
        """(B, 4 + C, A) -> (B, C): each class's best score over all anchors, before thresholds and NMS."""
        scores = self._slice(predictions, BOX_ROWS, BOX_ROWS + num_classes, axis=1)
        return self._reduce_max(scores, axis=2, keepdims=0)

    def decode(self, predictions: gs.Variable, thresholds: npt.NDArray[np.float32]) -> tuple[gs.Variable, gs.Variable]:
        """(B, 4 + C, A) -> boxes (B, A, 4) x1 y1 x2 y2 and scores (B, C, A) of each anchor's best class only,
        zero where below that class's threshold."""
        per_anchor = self._op("Transpose", [predictions], perm=[0, 2, 1])
        centre = self._slice(per_anchor, 0, 2, axis=2)
        half = self._op("Mul", [self._slice(per_anchor, 2, BOX_ROWS, axis=2), np.array(0.5, np.float32)])
        boxes = self._op("Concat", [self._op("Sub", [centre, half]), self._op("Add", [centre, half])], axis=2)
        scores = self._slice(per_anchor, BOX_ROWS, BOX_ROWS + thresholds.shape[0], axis=2)
        # One class per anchor even on tied scores (the first, as argmax): comparing with the max instead would
        # enter the anchor in every tied class's NMS, where it could suppress a box of a class it is not reported as.
        best = self._op("ArgMax", [scores], axis=2, keepdims=1)
        is_best = self._op("Equal", [best, np.arange(thresholds.shape[0], dtype=np.int64)])
        passes = self._op("GreaterOrEqual", [scores, thresholds.astype(np.float32)])
        keep = self._op("And", [is_best, passes])
        masked = self._op("Where", [keep, scores, np.array(0.0, np.float32)])
        return boxes, self._op("Transpose", [masked], perm=[0, 2, 1])

    def select(
        self, boxes: gs.Variable, scores: gs.Variable, settings: GraphSettings, k: int
    ) -> tuple[gs.Variable, gs.Variable]:
        """Class-wise NMS, then the best ``k`` per image: rows (B, k, 6) in input pixels and counts (B, 1)."""
        selected = self._op(
            "NonMaxSuppression",
            [
                boxes,
                scores,
                np.array([settings.max_detections], np.int64),
                np.array([settings.iou_threshold], np.float32),
                np.array([0.0], np.float32),  # masked scores are 0; every kept one is above
            ],
        )
        ones = self._op(
            "ConstantOfShape",
            [self._slice(self._op("Shape", [selected]), 0, 1, axis=0)],
            value=onnx.helper.make_tensor("one", onnx.TensorProto.FLOAT, [1], [1.0]),
        )
        zeros = self._op("ConstantOfShape", [self._op("Shape", [scores])])
        kept = self._op("Mul", [scores, self._op("ScatterND", [zeros, selected, ones])])
        anchor_score = self._reduce_max(kept, axis=1, keepdims=0)
        anchor_class = self._op("ArgMax", [kept], axis=1, keepdims=0)
        top_scores, top_index = self._op_n(
            "TopK", [anchor_score, np.array([k], np.int64)], 2, axis=1, largest=1, sorted=1
        )
        valid = self._op("Cast", [self._op("Greater", [top_scores, np.array(0.0, np.float32)])], to=FLOAT)
        index4 = self._op("Expand", [self._unsqueeze(top_index, 2), np.array([1, 1, BOX_ROWS], np.int64)])
        top_boxes = self._op("GatherElements", [boxes, index4], axis=1)
        top_class = self._op("Cast", [self._op("GatherElements", [anchor_class, top_index], axis=1)], to=FLOAT)
        columns = [self._unsqueeze(self._op("Mul", [c, valid]), 2) for c in (top_scores, top_class)]
        rows = self._op("Concat", [self._op("Mul", [top_boxes, self._unsqueeze(valid, 2)]), *columns], axis=2)
        counts = self._op("ReduceSum", [valid, np.array([1], np.int64)], keepdims=1)
        return rows, self._op("Cast", [counts], to=onnx.TensorProto.INT32)

    def unletterbox(self, rows: gs.Variable, letterbox: gs.Variable) -> gs.Variable:
        """Boxes from input pixels to source pixels, clipped to the frame; padding rows stay zero."""
        scale = self._unsqueeze(self._slice(letterbox, 0, 1, axis=1), 2)
        offset = self._unsqueeze(self._op("Gather", [letterbox, np.array([1, 2, 1, 2], np.int64)], axis=1), 1)
        limit = self._unsqueeze(self._op("Gather", [letterbox, np.array([3, 4, 3, 4], np.int64)], axis=1), 1)
        boxes = self._slice(rows, 0, BOX_ROWS, axis=2)
        mapped = self._op("Div", [self._op("Sub", [boxes, offset]), scale])
        clipped = self._op("Max", [self._op("Min", [mapped, limit]), np.array(0.0, np.float32)])
        rest = self._slice(rows, BOX_ROWS, DETECTION_COLUMNS, axis=2)
        return self._op("Concat", [clipped, rest], axis=2)

    def _slice(self, tensor: gs.Variable, start: int, end: int, axis: int) -> gs.Variable:
        bounds = [np.array([v], np.int64) for v in (start, end, axis)]
        return self._op("Slice", [tensor, *bounds])

    def _unsqueeze(self, tensor: gs.Variable, axis: int) -> gs.Variable:
        return self._op("Unsqueeze", [tensor, np.array([axis], np.int64)])

    def _reduce_max(self, tensor: gs.Variable, axis: int, keepdims: int) -> gs.Variable:
        """ReduceMax took its axes as an attribute until opset 18 and as an input since."""
        if self._opset >= REDUCE_MAX_AXES_INPUT_OPSET:
            return self._op("ReduceMax", [tensor, np.array([axis], np.int64)], keepdims=keepdims)
        return self._op("ReduceMax", [tensor], axes=[axis], keepdims=keepdims)

    def _op(self, op: str, inputs: Sequence[object], **attrs: object) -> gs.Variable:
        return self._op_n(op, inputs, 1, **attrs)[0]

    def _op_n(self, op: str, inputs: Sequence[object], outputs: int, **attrs: object) -> list[gs.Variable]:
        """One node; numpy inputs become named constants, outputs are typed by ONNX's shape inference."""
        self._count += 1
        name = f"pitchside_{op.lower()}_{self._count}"
        wired = [gs.Constant(f"{name}_in{i}", x) if isinstance(x, np.ndarray) else x for i, x in enumerate(inputs)]
        outs = [gs.Variable(f"{name}_out{i}") for i in range(outputs)]
        return list(self._graph.layer(op=op, name=name, inputs=wired, outputs=outs, attrs=attrs))


def _opset(model: onnx.ModelProto) -> int:
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise GraphBuildError(f"source opset {opset} is below {MIN_OPSET}: re-export the model with a newer opset")
    return opset


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]

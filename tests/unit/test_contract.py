"""The tensor names in orchestrator/contract.py are the ones the repository and the ONNX graph use."""

from pathlib import Path

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator import contract as c
from orchestrator.repository.model_config import load_repository
from orchestrator.repository.onnx_graph import onnx_signature


def io(config: pb.ModelConfig) -> tuple[dict[str, tuple[str, list[int]]], dict[str, tuple[str, list[int]]]]:
    def spec(tensors):
        return {t.name: (pb.DataType.Name(t.data_type), list(t.dims)) for t in tensors}

    return spec(config.input), spec(config.output)


def test_every_model_declares_the_contract_names(model_repository: Path) -> None:
    models = {name: io(entry.config) for name, entry in load_repository(model_repository).items()}
    assert set(models) == {c.ENSEMBLE_MODEL, c.PREPROCESS_MODEL, c.DETECTOR_MODEL}
    ensemble_in, ensemble_out = models[c.ENSEMBLE_MODEL]
    assert ensemble_in == {c.INPUT_IMAGE_BYTES: ("TYPE_UINT8", [-1]), c.INPUT_IMAGE_RAW: ("TYPE_UINT8", [-1, -1, 3])}
    assert ensemble_out == {
        c.OUTPUT_DETECTIONS: ("TYPE_FP32", [300, c.DETECTION_COLUMNS]),
        c.OUTPUT_NUM_DETECTIONS: ("TYPE_INT32", [1]),
    }
    pre_in, pre_out = models[c.PREPROCESS_MODEL]
    assert pre_in == ensemble_in
    assert pre_out == {
        c.DETECTOR_INPUT: ("TYPE_UINT8", [416, 416, 3]),
        c.LETTERBOX: ("TYPE_FP32", [c.LETTERBOX_FIELDS]),
    }
    det_in, det_out = models[c.DETECTOR_MODEL]
    assert det_in == pre_out
    assert det_out == {**ensemble_out, c.OUTPUT_CLASS_SCORES: ("TYPE_FP32", [80])}


def test_only_the_detectors_class_scores_name_the_labels_file(model_repository: Path) -> None:
    models = load_repository(model_repository)
    labelled = {
        (name, o.name): o.label_filename for name, e in models.items() for o in e.config.output if o.label_filename
    }
    assert labelled == {(c.DETECTOR_MODEL, c.OUTPUT_CLASS_SCORES): "labels.txt"}
    labels = (model_repository / c.DETECTOR_MODEL / "labels.txt").read_text().splitlines()
    assert len(labels) == 80 and all(labels)


def test_detector_names_are_the_served_graph_names(model_repository: Path) -> None:
    inputs, outputs = onnx_signature(model_repository / c.DETECTOR_MODEL / "1" / "model.onnx")
    assert list(inputs) == [c.DETECTOR_INPUT, c.LETTERBOX]
    assert list(outputs) == [c.OUTPUT_DETECTIONS, c.OUTPUT_NUM_DETECTIONS, c.OUTPUT_CLASS_SCORES]

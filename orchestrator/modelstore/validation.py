"""``pitchside model validate``: the built detector against the researcher's model on the golden frames."""

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import onnx

from orchestrator.modelstore.gate import GateReport, GateThresholds, Rows, run_gate
from orchestrator.modelstore.golden import GoldenFrame, load_golden
from orchestrator.modelstore.source_detections import SourceDetector
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.detector_graph import read_layout
from orchestrator.vision.letterbox import letterbox
from orchestrator.vision.onnx_detector import OnnxDetector

REPORT_SCHEMA: Final = "pitchside-model-validation/v1"


@dataclass(frozen=True)
class ValidationReport:
    model: str
    source_sha256: str
    served_file: str
    served_sha256: str
    golden: tuple[str, ...]
    gate: GateReport
    tensorrt_parity: dict[str, Any]

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "model": self.model,
            "passed": self.passed,
            "source_sha256": self.source_sha256,
            "served_file": self.served_file,
            "served_sha256": self.served_sha256,
            "golden_frames": list(self.golden),
            "gate": self.gate.as_json(),
            "tensorrt_parity": self.tensorrt_parity,
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate_detector(
    build: DetectorBuild, model: str, golden_dir: Path | None = None, thresholds: GateThresholds | None = None
) -> ValidationReport:
    """Run the served graph and the source model on every golden frame and judge the first against the second."""
    layout = read_layout(onnx.load(str(build.source), load_external_data=False))
    source = SourceDetector.load(build.source, build.settings(layout.num_classes))
    served = OnnxDetector.load(build.served)
    frames = load_golden(golden_dir) if golden_dir is not None else load_golden()

    def from_source(frame: GoldenFrame) -> Rows:
        boxed, plan = letterbox(frame.image, layout.input_size)
        return source.detect(boxed, plan)

    def from_served(frame: GoldenFrame) -> Rows:
        boxed, plan = letterbox(frame.image, layout.input_size)
        return served.detect(boxed[None], plan.as_array()[None])[0]

    gate = run_gate(frames, from_source, from_served, thresholds)
    return ValidationReport(
        model,
        sha256_of(build.source),
        build.served.name,
        sha256_of(build.served),
        tuple(f.name for f in frames),
        gate,
        _tensorrt_parity(),
    )


def _tensorrt_parity() -> dict[str, Any]:
    """ONNX Runtime vs TensorRT numbers need TensorRT (and polygraphy to compare): only on a GPU job."""
    missing = [name for name in ("tensorrt", "polygraphy") if importlib.util.find_spec(name) is None]
    if missing:
        return {"checked": False, "why": f"{' and '.join(missing)} not importable here: run on the GPU job"}
    return {"checked": False, "why": "run `polygraphy run model.onnx --onnxrt --trt --fp16` on the GPU job"}

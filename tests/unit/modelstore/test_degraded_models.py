"""The accuracy gate on the real NanoDet: the committed build passes, and builds that are deliberately wrong fail
for the reason that is actually wrong.

Each degraded build is made the way a broken hand-over or a broken build step would make it: the served graph is
built (detector_graph.build_detector_graph with the config's settings) from a damaged copy of the researcher's
ONNX, while the copy's source.onnx stays the original the gate judges against. Five golden frames (a still and
four frames of vtest.avi, written as PNGs) keep each validation to a few seconds.
"""

import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.modelstore.validation import ValidationReport, sha256_of, validate_detector
from orchestrator.paths import MEDIA_DIR
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.detector_graph import build_detector_graph, read_layout
from orchestrator.repository.model_config import load_model
from tests.media import sampled_frames

VTEST_FRAMES = 4
NOISY_CONVS = 4
"""How many of the largest Conv weight tensors get noise (NanoDet's 256x256x3x3 and 128x256x3x3 layers)."""
MILD_NOISE = 0.1
"""Noise std as a fraction of each tensor's own std: boxes barely move, scores move by several hundredths."""
HEAVY_NOISE = 0.5
"""Enough to lose and invent detections."""
RECALL_REASON = re.compile(r"^recall 0\.\d{4} < 0\.99: the build misses what the source model finds$")
PRECISION_REASON = re.compile(r"^precision 0\.\d{4} < 0\.99: the build finds what the source does not$")
DRIFT_REASON = re.compile(r"^score drift 0\.\d{4} > 0\.02$")


@pytest.fixture(scope="module")
def golden_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("golden")
    shutil.copy(MEDIA_DIR / "basketball1.png", directory)
    for index, frame in sampled_frames(MEDIA_DIR / "vtest.avi", VTEST_FRAMES):
        assert cv2.imwrite(str(directory / f"vtest_{index:04d}.png"), frame)
    return directory


@pytest.fixture
def repository_copy(model_repository: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model_repository"
    shutil.copytree(model_repository, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def detector_build(repository: Path) -> DetectorBuild:
    return DetectorBuild.of(load_model(repository / "detector"))


def serve_built_from(build: DetectorBuild, damaged_source: onnx.ModelProto) -> None:
    """Write the served graph built from ``damaged_source`` with the config's settings; source.onnx is untouched."""
    settings = build.settings(read_layout(damaged_source).num_classes)
    onnx.save(build_detector_graph(damaged_source, settings), str(build.served))


def with_noisy_weights(source: Path, scale: float, seed: int = 0) -> onnx.ModelProto:
    model = onnx.load(str(source))
    conv_weights = {node.input[1] for node in model.graph.node if node.op_type == "Conv"}
    weights = [init for init in model.graph.initializer if init.name in conv_weights]
    largest = sorted(weights, key=lambda init: -int(np.prod(init.dims)))[:NOISY_CONVS]
    rng = np.random.default_rng(seed)
    for init in largest:
        array = numpy_helper.to_array(init)
        noisy = array + rng.normal(0.0, scale * float(array.std()), array.shape)
        init.CopyFrom(numpy_helper.from_array(noisy.astype(np.float32), init.name))
    return model


def divided_by_255(source: Path) -> onnx.ModelProto:
    """The network fed 0..1 instead of the 0..255 it was trained on: a normalisation applied twice."""
    model = onnx.load(str(source))
    images = model.graph.input[0].name
    for node in model.graph.node:
        node.input[:] = ["unit_images" if name == images else name for name in node.input]
    model.graph.initializer.append(numpy_helper.from_array(np.array(1 / 255, np.float32), "inv255"))
    model.graph.node.insert(0, helper.make_node("Mul", [images, "inv255"], ["unit_images"], name="divide_by_255"))
    return model


def source_detections(report: ValidationReport) -> int:
    return sum(frame.source for frame in report.gate.frames)


def test_the_committed_build_passes_the_gate_on_the_bundled_golden_frames(model_repository: Path) -> None:
    build = detector_build(model_repository)

    report = validate_detector(build, "detector")

    assert report.passed and report.gate.reasons == ()
    assert report.gate.recall >= 0.99 and report.gate.precision >= 0.99
    assert report.gate.max_score_drift <= 0.02
    assert source_detections(report) > 50
    assert {"astronaut.png", "basketball1.png", "basketball2.png", "vtest.avi#0"} <= set(report.golden)
    assert report.source_sha256 == sha256_of(build.source)
    assert (report.served_file, report.served_sha256) == ("model.onnx", sha256_of(build.served))


def test_the_gate_passes_the_committed_build_on_the_small_golden_set_too(
    model_repository: Path, golden_dir: Path
) -> None:
    report = validate_detector(detector_build(model_repository), "detector", golden_dir)

    assert report.passed
    assert len(report.golden) == 1 + VTEST_FRAMES
    assert source_detections(report) > 30  # enough for a lost or invented detection to show in recall/precision


def test_mildly_perturbed_weights_keep_the_boxes_but_fail_on_score_drift(
    repository_copy: Path, golden_dir: Path
) -> None:
    build = detector_build(repository_copy)
    original_source = sha256_of(build.source)
    serve_built_from(build, with_noisy_weights(build.source, MILD_NOISE))

    report = validate_detector(build, "detector", golden_dir)

    assert sha256_of(build.source) == original_source
    assert not report.passed
    assert (report.gate.recall, report.gate.precision) == (1.0, 1.0)
    assert report.gate.max_score_drift > 0.02
    assert len(report.gate.reasons) == 1 and DRIFT_REASON.match(report.gate.reasons[0]), report.gate.reasons


def test_heavily_perturbed_weights_lose_and_invent_detections_and_fail_on_all_three(
    repository_copy: Path, golden_dir: Path
) -> None:
    build = detector_build(repository_copy)
    serve_built_from(build, with_noisy_weights(build.source, HEAVY_NOISE))

    report = validate_detector(build, "detector", golden_dir)

    assert not report.passed
    assert report.gate.recall < 0.99 and report.gate.precision < 0.99 and report.gate.max_score_drift > 0.02
    recall, precision, drift = report.gate.reasons
    assert RECALL_REASON.match(recall) and PRECISION_REASON.match(precision) and DRIFT_REASON.match(drift)
    assert recall == f"recall {report.gate.recall:.4f} < 0.99: the build misses what the source model finds"


def test_input_divided_by_255_finds_nothing_and_fails_on_recall(repository_copy: Path, golden_dir: Path) -> None:
    build = detector_build(repository_copy)
    serve_built_from(build, divided_by_255(build.source))

    report = validate_detector(build, "detector", golden_dir)

    assert not report.passed
    assert source_detections(report) > 30
    assert [frame.built for frame in report.gate.frames] == [0] * len(report.golden)
    assert report.gate.recall == 0.0
    assert report.gate.reasons == ("recall 0.0000 < 0.99: the build misses what the source model finds",)


def test_cli_validate_refuses_a_served_graph_that_its_config_does_not_build(repository_copy: Path) -> None:
    build = detector_build(repository_copy)
    serve_built_from(build, with_noisy_weights(build.source, MILD_NOISE))

    result = CliRunner().invoke(app, ["model", "validate", "--repository", str(repository_copy)])

    assert result.exit_code == 1
    assert result.stderr == "error: detector/1/model.onnx is stale: run `pitchside model build` first\n"


def test_cli_validate_passes_the_committed_build_and_writes_its_report(
    model_repository: Path, golden_dir: Path, tmp_path: Path
) -> None:
    report_path = tmp_path / "validation.json"

    result = CliRunner().invoke(
        app, ["model", "validate", "--golden", str(golden_dir), "--json", str(report_path)], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    summary, written, verdict = result.stdout.splitlines()
    assert re.fullmatch(
        r"detector: 5 golden frames, \d+ source detections; recall 1\.0000, precision 1\.0000, score drift 0\.0000",
        summary,
    )
    assert (written, verdict) == (f"report written to {report_path}", "passed")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    build = detector_build(model_repository)
    assert report["schema"] == "pitchside-model-validation/v1" and report["passed"] is True
    assert report["served_sha256"] == sha256_of(build.served)
    assert report["source_sha256"] == sha256_of(build.source)
    assert len(report["golden_frames"]) == 5 and report["gate"]["reasons"] == []


def test_cli_validate_exits_1_with_the_reason_when_the_golden_frames_hold_nothing(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    assert cv2.imwrite(str(golden / "empty_pitch.png"), np.full((360, 640, 3), (40, 140, 40), np.uint8))
    report_path = tmp_path / "validation.json"

    result = CliRunner().invoke(app, ["model", "validate", "--golden", str(golden), "--json", str(report_path)])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: the source model finds nothing on the golden frames: nothing to judge the build on",
        "error: recall 0.0000 < 0.99: the build misses what the source model finds",
    ]
    assert json.loads(report_path.read_text(encoding="utf-8"))["passed"] is False


def test_cli_validate_of_a_golden_directory_without_frames_is_one_error_line(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "notes.txt").write_text("no frames here\n", encoding="utf-8")

    result = CliRunner().invoke(app, ["model", "validate", "--golden", str(golden)])

    assert result.exit_code == 1
    assert result.stderr == f"error: no still or video in {golden} could be decoded\n"

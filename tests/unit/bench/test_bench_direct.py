from typing import Any

import numpy as np
import pytest

from orchestrator.bench.direct import DirectSettings, DirectUnavailableError, build_pipeline, load_detector
from orchestrator.bench.footage import load_footage
from orchestrator.bench.measure import measure_direct_level
from orchestrator.bench.settings import WindowSettings
from orchestrator.bench.stage_tensors import compute_stage_tensors
from orchestrator.bench.stages import Stage, stages_of
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.preprocess import preprocess

CONFIGS: dict[Stage, dict[str, Any]] = {
    Stage.PREPROCESS: {},
    Stage.DETECTOR: {
        "input": [{"name": "images", "dims": ["416", "416", "3"]}],
        "parameters": {"onnx_file": {"string_value": "model.onnx"}, "intra_op_threads": {"string_value": "1"}},
    },
}


@pytest.fixture(scope="module")
def settings() -> DirectSettings:
    return DirectSettings.from_configs(CONFIGS, DEFAULT_MODEL_REPOSITORY)


def test_settings_are_the_served_models_own(settings: DirectSettings) -> None:
    assert settings.detector_path == DEFAULT_MODEL_REPOSITORY / "detector" / "1" / "model.onnx"
    assert (settings.intra_op_threads, settings.input_size) == (1, 416)


def test_a_missing_model_file_makes_the_baseline_unavailable() -> None:
    configs = {**CONFIGS, Stage.DETECTOR: {**CONFIGS[Stage.DETECTOR], "parameters": {
        "onnx_file": {"string_value": "absent.onnx"}}}}  # fmt: skip
    with pytest.raises(DirectUnavailableError, match=r"absent\.onnx"):
        DirectSettings.from_configs(configs, DEFAULT_MODEL_REPOSITORY)


def test_stages_follow_the_ensemble_or_the_model() -> None:
    assert stages_of("detection", ("preprocess", "detector")) == tuple(Stage)
    assert stages_of("detector", ()) == (Stage.DETECTOR,)
    assert stages_of("other", ()) == ()


def test_the_direct_pipeline_gives_what_the_vision_functions_give(settings: DirectSettings) -> None:
    detector = load_detector(settings)
    footage = load_footage(MEDIA_DIR / "vtest.avi", 2)
    tensors = compute_stage_tensors(footage, 416)
    pipeline = build_pipeline(tuple(Stage), tensors, detector, settings, WireFormat.RAW)
    timing = pipeline.run_batch([0, 1])
    assert set(timing.stage_ns) == set(Stage) and all(ns > 0 for ns in timing.stage_ns.values())
    boxed, plan = preprocess(None, footage.raw[1], 416)
    expected = detector.detect(boxed[None], plan.as_array()[None])[0]
    assert expected.shape[0] > 0  # the footage has people in it
    np.testing.assert_allclose(timing.detections[1], expected, atol=1e-3)


def test_a_single_stage_pipeline_times_only_that_stage(settings: DirectSettings) -> None:
    detector = load_detector(settings)
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 1), settings.input_size)
    pipeline = build_pipeline((Stage.DETECTOR,), tensors, detector, settings, WireFormat.LETTERBOX)
    assert set(pipeline.run_batch([0]).stage_ns) == {Stage.DETECTOR}


def test_a_direct_level_counts_whole_batches(settings: DirectSettings) -> None:
    detector = load_detector(settings)
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 3), settings.input_size)
    pipeline = build_pipeline(tuple(Stage), tensors, detector, settings, WireFormat.RAW)
    level = measure_direct_level(pipeline, 2, WindowSettings(warmup_s=0, window_s=0.3, max_windows=2, stable_windows=2))
    assert level.batch_size == 2 and level.outcome.measured == 2
    assert level.outcome.reported.latencies_ns.size % 2 == 0
    assert set(level.stage_ms_per_batch) == set(Stage)


def test_no_stage_means_no_pipeline(settings: DirectSettings) -> None:
    detector = load_detector(settings)
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 1), settings.input_size)
    with pytest.raises(DirectUnavailableError):
        build_pipeline((), tensors, detector, settings, WireFormat.RAW)

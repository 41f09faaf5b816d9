"""The stand-in detector: replays recorded outputs in turn, and its repository is the real one but for it."""

from pathlib import Path

import numpy as np
import pytest

from orchestrator.bench.footage import load_footage
from orchestrator.bench.stage_tensors import compute_stage_tensors
from orchestrator.bench.standin.replay import RecordedOutputs, ReplayDetector, record_outputs
from orchestrator.bench.standin.repository import STANDIN_PARAMETER, render_standin_repository
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.repository.check import check_repository
from orchestrator.repository.model_config import load_repository
from orchestrator.repository.profiles import GPU_MAX_BATCH
from orchestrator.vision.onnx_detector import OnnxDetector


@pytest.fixture(scope="module")
def recorded() -> RecordedOutputs:
    detector = OnnxDetector.load(DEFAULT_MODEL_REPOSITORY / "detector" / "1" / "model.onnx")
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 3), detector.input_size)
    return record_outputs(detector, tensors.letterboxed, tensors.letterboxes)


def test_recorded_outputs_are_the_real_detectors(recorded: RecordedOutputs) -> None:
    assert recorded.rows.shape == (3, 300, 6) and recorded.counts.shape == (3, 1)
    assert recorded.counts.min() > 0  # people walk through every frame of vtest.avi
    assert (recorded.rows[0, : recorded.counts[0, 0], 5] == 0).any()  # some of them are persons


def test_replay_hands_out_recorded_frames_in_turn_across_batches(recorded: RecordedOutputs) -> None:
    replay = ReplayDetector(recorded)
    images = np.zeros((2, 416, 416, 3), np.uint8)
    letterboxes = np.zeros((2, 5), np.float32)
    first, _ = replay.run(images, letterboxes)
    second, counts = replay.run(images, letterboxes)
    np.testing.assert_array_equal(first, recorded.rows[[0, 1]])
    np.testing.assert_array_equal(second, recorded.rows[[2, 0]])
    np.testing.assert_array_equal(counts, recorded.counts[[2, 0]])
    (one,) = replay.detect(images[:1], letterboxes[:1])
    assert one.shape == (int(recorded.counts[1, 0]), 6)


def test_recorded_outputs_survive_a_round_trip(recorded: RecordedOutputs, tmp_path: Path) -> None:
    recorded.save(tmp_path / "r.npz")
    back = RecordedOutputs.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.rows, recorded.rows)
    np.testing.assert_array_equal(back.counts, recorded.counts)


def test_recorded_outputs_refuse_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match="recorded outputs"):
        RecordedOutputs(np.zeros((2, 300, 6), np.float32), np.zeros((3, 1), np.int32))


def test_standin_repository_swaps_only_the_detector(recorded: RecordedOutputs, tmp_path: Path) -> None:
    out = tmp_path / "repo"
    render_standin_repository(DEFAULT_MODEL_REPOSITORY, recorded, out)
    source, rendered = load_repository(DEFAULT_MODEL_REPOSITORY), load_repository(out)
    detector = rendered["detector"].config
    assert STANDIN_PARAMETER in detector.parameters and "source_onnx" not in detector.parameters
    assert detector.max_batch_size == GPU_MAX_BATCH
    assert list(detector.input) == list(source["detector"].config.input)
    assert list(detector.output) == list(source["detector"].config.output)
    assert (out / "detector" / "labels.txt").read_bytes() == (
        DEFAULT_MODEL_REPOSITORY / "detector" / "labels.txt"
    ).read_bytes()
    assert not list((out / "detector").rglob("*.onnx"))
    assert (out / "detector" / "1" / "recorded.npz").is_file()
    assert "ReplayDetector" in (out / "detector" / "1" / "model.py").read_text()
    for name in ("detection", "preprocess"):
        assert rendered[name].config == source[name].config
    assert check_repository(out) == []

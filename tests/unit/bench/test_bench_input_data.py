"""The footage as perf_analyzer --input-data JSON: the same bytes pitchside sends, in the same order."""

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.bench.footage import load_footage
from orchestrator.bench.input_data import input_data, level_ranges, perf_analyzer_commands, write_input_data
from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.payloads import build_payloads
from orchestrator.bench.report import model_report
from orchestrator.bench.stage_tensors import compute_stage_tensors
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.wire import WireFormat

DETECTOR: dict[str, Any] = {
    "max_batch_size": 8,
    "input": [{"name": "images", "data_type": "TYPE_UINT8", "dims": ["416", "416", "3"]},
              {"name": "LETTERBOX", "data_type": "TYPE_FP32", "dims": ["5"]}],
}  # fmt: skip
ENSEMBLE: dict[str, Any] = {
    "max_batch_size": 8,
    "input": [{"name": "IMAGE_BYTES", "data_type": "TYPE_UINT8", "dims": ["-1"], "optional": True},
              {"name": "IMAGE_RAW", "data_type": "TYPE_UINT8", "dims": ["-1", "-1", "3"], "optional": True}],
}  # fmt: skip


def test_letterboxed_frames_round_trip_through_the_json(tmp_path: Path) -> None:
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 3), 416)
    write_input_data(tmp_path / "frames.json", build_payloads(DETECTOR, tensors, WireFormat.LETTERBOX))
    data = json.loads((tmp_path / "frames.json").read_text())["data"]
    assert len(data) == 3 and all(set(entry) == {"images", "LETTERBOX"} for entry in data)
    for entry, boxed, letterbox in zip(data, tensors.letterboxed, tensors.letterboxes, strict=True):
        images = entry["images"]
        assert images["shape"] == [416, 416, 3]
        decoded = np.frombuffer(base64.b64decode(images["content"]["b64"]), dtype=np.uint8).reshape(416, 416, 3)
        assert np.array_equal(decoded, boxed)
        assert entry["LETTERBOX"] == {"content": letterbox.tolist(), "shape": [5]}
    assert data[0]["LETTERBOX"]["content"][3:] == [768.0, 576.0], "source width and height"


def test_jpeg_frames_carry_their_own_shape_so_perf_analyzer_needs_no_shape_flag() -> None:
    tensors = compute_stage_tensors(load_footage(MEDIA_DIR / "vtest.avi", 2), 416)
    data = input_data(build_payloads(ENSEMBLE, tensors, WireFormat.JPEG))["data"]
    for entry, jpeg in zip(data, tensors.footage.jpeg, strict=True):
        assert list(entry) == ["IMAGE_BYTES"] and entry["IMAGE_BYTES"]["shape"] == [jpeg.size]
        assert base64.b64decode(entry["IMAGE_BYTES"]["content"]["b64"]) == jpeg.tobytes()


def test_the_cross_check_command_uses_perf_analyzers_own_flags(sweep_result: ModelBenchResult) -> None:
    report = model_report(sweep_result)
    (command,) = perf_analyzer_commands(report, Path("out/frames.json"))
    assert command == (
        "perf_analyzer -m detection -u <host>:8001 -i grpc --input-data out/frames.json --concurrency-range 1:2:1 "
        "--measurement-interval 3000 --stability-percentage 10 --max-trials 6"
    )


def test_levels_perf_analyzer_cannot_range_over_become_one_command_each() -> None:
    assert level_ranges([1, 2, 3, 4]) == ["1:4:1"]
    assert level_ranges([1, 2, 4, 8]) == ["1:1", "2:2", "4:4", "8:8"]
    assert level_ranges([5.0]) == ["5:5"]

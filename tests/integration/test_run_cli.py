"""``pitchside run`` as a user runs it: defaults, summary, JSONL events and an annotated video."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.paths import MEDIA_DIR

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_run_with_defaults_writes_events_and_an_annotated_video(grpc_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--triton-url", grpc_url, "--offline", "--max-frames", "15",
         "--metrics-port", "0", "--annotate", "videos"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sample: ended, 15 frames read, 15 detection events, 0 frame errors, 0 dropped" in result.stdout
    assert "sink jsonl:out/events.jsonl: 17 delivered" in result.stdout
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events] == ["status"] + ["detections"] * 15 + ["status"]

    capture = cv2.VideoCapture(str(tmp_path / "videos" / "sample.webm"))
    source = cv2.VideoCapture(str(MEDIA_DIR / "vtest.avi"))
    annotated = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        annotated.append(frame)
    assert len(annotated) == 15
    ok, original = source.read()
    assert ok
    first = events[1]["detections"][0]
    x1, y1, x2, y2 = (round(v) for v in first["box_xyxy"])

    def change_along_column(x: int) -> float:
        return float(np.abs(annotated[0][y1 : y2 + 1, x].astype(int) - original[y1 : y2 + 1, x].astype(int)).mean())

    box_edge, box_inside = change_along_column(x1), change_along_column((x1 + x2) // 2)
    assert box_edge > 3 * box_inside + 5, (box_edge, box_inside)  # the box's left edge is drawn over the frame


def test_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[[streams]]\nid = 'x'\n")
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"error: {config}: streams[0].source: required setting missing" in result.stderr

"""``pitchside detect`` against the real server: the table, --json, and errors a person can act on."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.embedded import ServerPorts

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_detect_prints_a_table_with_a_header_the_image_size_and_the_round_trip(grpc_url: str) -> None:
    result = runner.invoke(app, ["detect", "--triton-url", grpc_url, str(MEDIA_DIR / "basketball1.png")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Triton at {grpc_url} (external): detection ensemble ready after ")
    head = next(line for line in lines if line.startswith("basketball1.png"))
    assert head.startswith("basketball1.png (640x480): 3 detections, ") and head.endswith(" ms round trip")
    table = lines[lines.index(head) + 1 :]
    assert table[0].split() == ["class", "score", "x1", "y1", "x2", "y2"]
    rows = [line.split() for line in table[1:4]]
    assert [row[0] for row in rows] == ["person"] * 3
    assert all(0.0 < float(row[1]) <= 1.0 for row in rows)
    assert all(0 <= float(row[2]) < float(row[4]) <= 640 and 0 <= float(row[3]) < float(row[5]) <= 480 for row in rows)


def test_detect_json_gives_the_same_detections_for_scripts(grpc_url: str) -> None:
    images = [str(MEDIA_DIR / "basketball1.png"), str(MEDIA_DIR / "astronaut.png")]
    text = runner.invoke(app, ["detect", "--triton-url", grpc_url, images[0]]).output
    result = runner.invoke(app, ["detect", "--json", "--triton-url", grpc_url, *images])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing but the JSON document on stdout
    assert document["triton_url"] == grpc_url and document["server"] == "external"
    first, second = document["images"]
    assert (first["image"], first["width"], first["height"], first["error"]) == ("basketball1.png", 640, 480, None)
    assert (second["image"], second["width"], second["height"]) == ("astronaut.png", 512, 512)
    assert first["latency_ms"] > 0 and len(first["detections"]) == 3
    assert {d["class_name"] for d in first["detections"]} == {"person"}
    assert {d["class_id"] for d in first["detections"]} == {0}
    table_rows = [line.split() for line in text.splitlines() if line.strip().startswith("person")]
    for row, detection in zip(table_rows, first["detections"], strict=True):
        assert row[1] == f"{detection['score']:.2f}"
        assert row[2:] == [f"{v:.1f}" for v in detection["box_xyxy"]]


def test_detect_reports_a_rejected_image_and_goes_on(grpc_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not really a jpeg")
    result = runner.invoke(app, ["detect", "--triton-url", grpc_url, str(junk), str(MEDIA_DIR / "astronaut.png")])
    assert result.exit_code == 1
    assert "junk.jpg (size unknown): rejected:" in result.output and "not an image" in result.output
    assert "astronaut.png (512x512): " in result.output
    document = json.loads(runner.invoke(app, ["detect", "--json", "--triton-url", grpc_url, str(junk)]).stdout)
    assert document["images"][0]["error"].startswith("rejected:") and document["images"][0]["latency_ms"] is None


def test_detect_without_a_server_says_so_in_one_line_and_prints_nothing_as_ready() -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    result = runner.invoke(app, ["detect", "--triton-url", url, str(MEDIA_DIR / "astronaut.png")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: Triton at {url} is unreachable or the detection ensemble is not ready; check --triton-url is a "
        "running server's gRPC address (e.g. localhost:8001), or leave it out to start an embedded server"
    ]
    assert "ready after" not in result.output


def test_detect_refuses_a_missing_file_before_starting_anything(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(tmp_path / "nope.png")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: not an image file: {tmp_path / 'nope.png'}; give paths of JPEG or "
                                          "PNG files"]  # fmt: skip


def test_detect_save_draws_each_detection_where_it_was_found(grpc_url: str, tmp_path: Path) -> None:
    image = MEDIA_DIR / "basketball1.png"
    result = runner.invoke(app, ["detect", "--json", "--save", str(tmp_path / "out"), "--triton-url", grpc_url,
                                 str(image)])  # fmt: skip
    assert result.exit_code == 0, result.output
    boxes = [d["box_xyxy"] for d in json.loads(result.stdout)["images"][0]["detections"]]
    saved = cv2.imread(str(tmp_path / "out" / "basketball1.annotated.png"))
    original = cv2.imread(str(image))
    assert saved.shape == original.shape
    changed = np.any(saved != original, axis=2)
    for x1, y1, x2, y2 in boxes:  # each box's outline was drawn: its left edge changed along most of its height
        column = changed[int(y1) + 2 : int(y2) - 2, min(round(x1), original.shape[1] - 1)]
        assert column.mean() > 0.9, (x1, y1, x2, y2)
    assert changed.mean() < 0.2, "only boxes and labels are drawn"

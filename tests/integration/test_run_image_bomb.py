"""An image folder holding a decompression bomb: that frame fails, the others are detected, memory stays small."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.paths import MEDIA_DIR
from tests.image_bombs import write_png_bomb

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
PEAK_RSS_LIMIT_KB = 1_500_000
"""Well above a normal run (~0.5 GB) and far below decoding the bomb (2.7 GB for its pixels alone)."""


def test_a_png_bomb_in_an_image_folder_is_refused_before_decoding(grpc_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "stills"
    folder.mkdir()
    shutil.copy(MEDIA_DIR / "basketball1.png", folder / "a.png")
    write_png_bomb(folder / "b.png")
    shutil.copy(MEDIA_DIR / "basketball2.png", folder / "c.png")
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "run", "--source", f"stills={folder}", "--triton-url", grpc_url,
         "--offline", "--metrics-port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    summary = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, summary
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    frames = [(e["frame_seq"], e["type"]) for e in events if e["type"] != "status"]
    assert frames == [(0, "detections"), (1, "frame_error"), (2, "detections")]
    (error,) = [e for e in events if e["type"] == "frame_error"]
    assert "b.png declares 30000x30000 pixels, above the decode limit of 8192" in error["error"]["message"]
    assert usage.ru_maxrss < PEAK_RSS_LIMIT_KB, f"peak RSS {usage.ru_maxrss} KB"

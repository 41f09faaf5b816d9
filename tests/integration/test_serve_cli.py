"""``pitchside serve`` as a user runs it: a real server, endpoints printed, clean exit on a signal."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient

pytestmark = pytest.mark.integration
PITCHSIDE = [sys.executable, "-m", "orchestrator.cli"]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (model stubs included), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_endpoints(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"gRPC\s+(\S+)", line):
            grpc_url = match.group(1)
        if "Ctrl-C" in line:
            return grpc_url
    raise AssertionError(
        f"serve exited before it was ready: {process.wait()}\n{process.stderr.read() if process.stderr else ''}"
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_serves_then_stops_cleanly_without_orphans(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen(
        [*PITCHSIDE, "serve", "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        grpc_url = wait_for_endpoints(process)
        children = descendants(process.pid)
        assert len(children) >= 3, f"tritonserver and a stub per Python model (2) expected, found {children}"

        async def detect() -> int:
            async with DetectionClient.connect(grpc_url) as client:
                return len(await client.detect_raw(cv2.imread(str(MEDIA_DIR / "astronaut.png"))))

        assert asyncio.run(detect()) == 1
        process.send_signal(stop_signal)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    leftovers = {pid for pid in children if alive(pid)}
    assert not leftovers, f"orphaned processes after shutdown: {leftovers}"


def test_serve_with_missing_repository_fails_clearly(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PITCHSIDE, "serve", "--model-repository", str(tmp_path / "nope"), "--grpc-port", "0", "--http-port", "0"],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 1
    assert "does not exist" in result.stderr

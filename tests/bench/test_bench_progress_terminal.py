"""``bench model`` on a terminal: a live progress bar with the time left, then the report.

The CLI runs in its own process on a pseudo-terminal, as a person at a shell would run it."""

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
READ_LIMIT_S = 240.0


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``args`` with stdout and stderr on a pseudo-terminal; exit status and everything it drew."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, cwd=cwd, env=env)
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + READ_LIMIT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_a_terminal_sees_live_progress_and_the_time_left(tmp_path: Path, bench_triton_url: str) -> None:
    csv_path = tmp_path / "pa.csv"
    code, screen = _run_on_a_terminal(
        [sys.executable, "-m", "orchestrator.cli", "bench", "model", "--quick", "-u", bench_triton_url,
         "--concurrency-range", "1:2:1", "-r", "2", "--stable-windows", "1", "--no-direct", "-f", str(csv_path)],
        Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert code == 0, screen
    assert "detector ready" in screen
    bar = [line for line in screen.replace("\r", "\n").splitlines() if "letterbox c=" in line and "windows" in line]
    assert bar, screen
    assert any(re.search(r"letterbox c=[12] .*\d+/\d+ windows", line) for line in bar), bar
    assert any(re.search(r"~\d+(m\d\ds|s) left", line) for line in bar), bar
    assert "saturation:" in screen, "the report follows the progress"
    assert csv_path.read_text().startswith("Concurrency,Inferences/Second,Client Send,")

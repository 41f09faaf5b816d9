"""The console script turns a command-line mistake into one line that says where help is, and keeps exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

PITCHSIDE = str(Path(sys.executable).parent / "pitchside")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PITCHSIDE, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--nope"), "error: No such option: --nope"),
        (("nothing",), "error: No such command 'nothing'."),
        (("bench", "model", "--percentile", "abc"), "error: Invalid value for '--percentile'"),
    ],
)
def test_a_usage_mistake_is_one_line_with_exit_code_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(message) and "--help`)" in result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr


def test_a_commands_own_exit_code_comes_through() -> None:
    assert run("repo", "check", "/nonexistent-repository").returncode == 1
    assert run("--version").returncode == 0

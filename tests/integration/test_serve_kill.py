"""Killed, not stopped: SIGKILL of ``pitchside serve``'s group takes tritonserver with it, and no Triton shared
memory outlives the server that made it."""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from orchestrator.triton.child_lifetime import SHM_DIR, SHM_PREFIX_STEM, remove_orphaned_shm_regions
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from tests.integration.test_serve_cli import PITCHSIDE, alive, descendants, wait_for_endpoints

pytestmark = pytest.mark.integration
POLL_S = 0.2
MAX_POLLS = 150
"""Bounded waits (30 s) for the kernel and the stubs to act; each normally takes well under a second."""


def regions_of(launcher_pid: int) -> list[Path]:
    return sorted(SHM_DIR.glob(f"{SHM_PREFIX_STEM}_{launcher_pid}_*"))


def wait_until(condition: object) -> bool:
    for _ in range(MAX_POLLS):
        if condition():  # type: ignore[operator]
            return True
        time.sleep(POLL_S)
    return False


def answers(http_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{http_url}/v2/health/live", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_sigkill_of_the_serve_group_takes_tritonserver_and_its_shared_memory_with_it() -> None:
    process = subprocess.Popen(
        [*PITCHSIDE, "serve", "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_endpoints(process)
        server_processes = descendants(process.pid)
        assert server_processes, "tritonserver runs below serve"
        assert regions_of(process.pid), "the server's Python models hold shared memory named after this launch"
        os.killpg(process.pid, signal.SIGKILL)  # what a supervisor or an OOM kill of the group does
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert wait_until(lambda: not any(alive(pid) for pid in server_processes)), (
        f"still running after their launcher was killed: {[pid for pid in server_processes if alive(pid)]}"
    )
    remove_orphaned_shm_regions()  # what the next launch does first, in case a stub could not clean up
    assert regions_of(process.pid) == []


def test_a_killed_server_leaves_no_shared_memory_once_stopped(model_repository: Path) -> None:
    others = set(regions_of(os.getpid()))  # the session's own server, started by this process too
    server = EmbeddedTriton(EmbeddedTritonConfig(model_repository, ServerPorts(0, 0, 0)))
    server.start()
    try:
        assert server.pid is not None
        regions = set(regions_of(os.getpid())) - others
        assert regions
        os.killpg(server.pid, signal.SIGKILL)  # tritonserver and its stubs die at once, nobody unlinks
        assert wait_until(lambda: not answers(server.endpoints.http_url))
        assert all(region.exists() for region in regions), "a killed server leaves its regions behind"
    finally:
        server.stop()
    assert not any(region.exists() for region in regions), "stop() removed them"
    assert all(region.exists() for region in others), "and only them"

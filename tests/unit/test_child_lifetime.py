"""Shared-memory clean-up removes one launch's regions, or those of dead launchers, never a live server's."""

import os
import subprocess
import sys
from pathlib import Path

from orchestrator.triton.child_lifetime import remove_orphaned_shm_regions, remove_shm_regions, shm_prefix


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_prefix_names_the_launcher_and_ends_where_triton_appends_its_id() -> None:
    prefix = shm_prefix()
    assert prefix.startswith(f"pitchside_triton_{os.getpid()}_") and prefix.endswith("_")
    assert prefix != shm_prefix()


def test_orphaned_regions_go_live_ones_and_foreign_ones_stay(tmp_path: Path) -> None:
    live = tmp_path / f"pitchside_triton_{os.getpid()}_ab12cd34_0b74-4686"
    orphan = tmp_path / f"pitchside_triton_{dead_pid()}_ab12cd34_c0e8-434d"
    foreign = tmp_path / "triton_python_backend_shm_region_4bfd2a9c"
    for region in (live, orphan, foreign):
        region.write_bytes(b"\0" * 16)
    assert remove_orphaned_shm_regions(tmp_path) == [orphan]
    assert live.exists() and foreign.exists()


def test_one_launch_removes_only_its_own_regions(tmp_path: Path) -> None:
    mine, other = shm_prefix(), shm_prefix()
    for name in (f"{mine}1111", f"{mine}2222", f"{other}3333"):
        (tmp_path / name).write_bytes(b"")
    assert sorted(p.name for p in remove_shm_regions(mine, tmp_path)) == [f"{mine}1111", f"{mine}2222"]
    assert [p.name for p in tmp_path.iterdir()] == [f"{other}3333"]

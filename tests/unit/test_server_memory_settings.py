"""The launcher's memory settings: malloc tunables for the server only, no pooled request objects."""

import subprocess
from dataclasses import replace
from pathlib import Path

from orchestrator.triton.embedded import (
    SERVER_MALLOC_ENV,
    EmbeddedTriton,
    EmbeddedTritonConfig,
    _backend_directory,
    find_installation,
)


def fake_installation(tmp_path: Path):
    """The real installation with a stub that prints its environment's MALLOC_ settings and its arguments."""
    stub = tmp_path / "stub" / "triton_python_backend_stub"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nenv | grep ^MALLOC_ | sort\necho "args: $*"\n')
    stub.chmod(0o755)
    return replace(find_installation(), python_stub=stub)


def test_the_models_stub_runs_without_the_servers_malloc_settings(tmp_path: Path) -> None:
    backends = _backend_directory(fake_installation(tmp_path), tmp_path / "work", SERVER_MALLOC_ENV)
    launcher = backends / "python" / "triton_python_backend_stub"
    assert not launcher.is_symlink()
    env = {"PATH": "/usr/bin:/bin", **SERVER_MALLOC_ENV, "MALLOC_ARENA_MAX": "4"}
    ran = subprocess.run([launcher, "model.py", "a b"], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.splitlines() == ["MALLOC_ARENA_MAX=4", "args: model.py a b"]


def test_without_release_memory_the_stub_is_the_bundled_one(tmp_path: Path) -> None:
    install = fake_installation(tmp_path)
    backends = _backend_directory(install, tmp_path / "work", {})
    assert (backends / "python" / "triton_python_backend_stub").resolve() == install.python_stub


def test_the_grpc_frontend_keeps_no_request_objects(tmp_path: Path) -> None:
    server = EmbeddedTriton(EmbeddedTritonConfig(tmp_path))
    command = server._command(find_installation(), str(tmp_path), tmp_path)
    assert "--grpc-infer-allocation-pool-size=0" in command

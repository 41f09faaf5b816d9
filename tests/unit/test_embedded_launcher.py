"""The launcher's pre-flight checks, without starting a server."""

from pathlib import Path

import pytest

from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, check_models_numpy, find_installation
from orchestrator.triton.errors import EmbeddedTritonError


def fake_python(tmp_path: Path, script: str) -> str:
    python = tmp_path / "python3"
    python.write_text(f"#!/bin/sh\n{script}\n")
    python.chmod(0o755)
    return str(tmp_path)


def test_numpy_2_in_the_models_environment_is_refused(tmp_path: Path) -> None:
    """The numpy-2 trap: Triton 2.51's Python backend would serve empty tensors without an error."""
    with pytest.raises(EmbeddedTritonError, match=r"has numpy 2\.1\.0; Triton 2\.51's Python backend needs numpy<2"):
        check_models_numpy(fake_python(tmp_path, "echo 2.1.0"))


def test_missing_numpy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedTritonError, match="cannot import numpy"):
        check_models_numpy(fake_python(tmp_path, "echo 'No module named numpy' >&2; exit 1"))


def test_this_environment_passes_the_check() -> None:
    import os
    import sys

    check_models_numpy(os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


def test_bundled_server_is_found() -> None:
    install = find_installation()
    assert install.server_binary.name == "tritonserver" and install.server_binary.is_file()
    assert install.python_stub.is_file()


def test_missing_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedTritonError, match="does not exist"):
        EmbeddedTriton(EmbeddedTritonConfig(tmp_path / "missing")).start()

"""The client seam against a real server, and against no server at all."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import ServerPorts
from orchestrator.triton.errors import TritonUnavailableError

pytestmark = pytest.mark.integration


async def test_unreachable_server_is_unavailable_not_a_crash() -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    async with DetectionClient.connect(url, timeout_s=2.0) as client:
        assert await client.is_ready() is False
        with pytest.raises(TritonUnavailableError):
            await client.detect_encoded((MEDIA_DIR / "astronaut.png").read_bytes())


async def test_ready_against_the_real_server(grpc_url: str) -> None:
    async with DetectionClient.connect(grpc_url) as client:
        assert await client.is_ready() is True


def test_detect_cli_prints_detections(grpc_url: str) -> None:
    result = CliRunner().invoke(app, ["detect", "--triton-url", grpc_url, str(MEDIA_DIR / "basketball1.png")])
    assert result.exit_code == 0, result.output
    assert "basketball1.png: 3 detections" in result.output
    assert result.output.count("person 0.") == 3


def test_detect_cli_reports_a_rejected_image(grpc_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not really a jpeg")
    result = CliRunner().invoke(app, ["detect", "--triton-url", grpc_url, str(junk)])
    assert result.exit_code == 1
    assert "junk.jpg: rejected:" in result.output and "not an image" in result.output


def test_detect_cli_without_server_fails_clearly() -> None:
    url = f"127.0.0.1:{ServerPorts(0, 0, 0).resolved().grpc}"
    result = CliRunner().invoke(app, ["detect", "--triton-url", url, str(MEDIA_DIR / "astronaut.png")])
    assert result.exit_code == 1
    assert f"error: Triton at {url} is unreachable" in result.output

"""`pitchside model rollout`'s servers: as given, or each name's every address; a bad one stops it first."""

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.cli.model import _rollout_servers


def test_without_every_pod_the_urls_are_the_servers_each_once() -> None:
    assert _rollout_servers(["triton-a:8001", "triton-b:8001", "triton-a:8001"], every_pod=False) == (
        "triton-a:8001",
        "triton-b:8001",
    )


def test_every_pod_rolls_out_on_each_address_a_name_resolves_to(monkeypatch: pytest.MonkeyPatch) -> None:
    pods = {"triton-grpc.pitchside.svc": ["10.0.3.7", "10.0.1.4"], "10.0.1.4": ["10.0.1.4"]}

    def resolve(host: str, port: int, type: int = 0) -> list[tuple[object, ...]]:
        return [(None, type, 6, "", (address, port)) for address in pods[host]]

    monkeypatch.setattr("socket.getaddrinfo", resolve)
    servers = _rollout_servers(["dns:///triton-grpc.pitchside.svc:8001", "10.0.1.4:8001"], every_pod=True)
    assert servers == ("10.0.3.7:8001", "10.0.1.4:8001")


@pytest.mark.parametrize("every_pod", [[], ["--every-pod"]])
def test_a_server_address_without_a_port_stops_the_rollout_before_anything_is_read(every_pod: list[str]) -> None:
    args = ["model", "rollout", "--triton-url", "t:8001", "--triton-url", "triton", "--store", "s3://b/p"]
    result = CliRunner().invoke(app, [*args, "--version", "2", *every_pod])
    assert result.exit_code == 1
    assert "error: 'triton' is not host:port" in result.output

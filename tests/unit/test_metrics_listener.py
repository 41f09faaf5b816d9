"""The orchestrator's /metrics listener binds loopback unless told otherwise."""

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.config.run_config import RunConfig, load_toml
from orchestrator.metrics.http_server import MetricsServer


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None on a loopback-only machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def default_server() -> Iterator[MetricsServer]:
    server = MetricsServer(0, lambda: True, CollectorRegistry())
    server.start()
    yield server
    server.stop()


def test_default_listener_answers_on_loopback_only(default_server: MetricsServer) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{default_server.port}/healthz", timeout=5) as response:
        assert response.read() == b"ok\n"
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((address, default_server.port), timeout=5):
        pass


def test_configured_host_is_bound() -> None:
    server = MetricsServer(0, lambda: True, CollectorRegistry(), host="0.0.0.0")
    server.start()
    try:
        address = non_loopback_address() or "127.0.0.1"
        with urllib.request.urlopen(f"http://{address}:{server.port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()


def test_run_config_defaults_to_loopback_and_reads_host(tmp_path: Path) -> None:
    assert RunConfig().metrics_host == "127.0.0.1"
    path = tmp_path / "pitchside.toml"
    path.write_text('[metrics]\nport = 9200\nhost = "0.0.0.0"\n')
    config = load_toml(path)
    assert (config.metrics_host, config.metrics_port) == ("0.0.0.0", 9200)

"""Every pitchside.toml shipped with the manifests parses with the orchestrator's own loader."""

from pathlib import Path

import pytest

from orchestrator.config.run_config import Mode, load_toml
from orchestrator.metrics import ORCHESTRATOR_METRICS_PORT
from orchestrator.sinks.uri import parse_sink_uri

pytestmark = pytest.mark.deploy
K8S = Path(__file__).resolve().parents[2] / "k8s"
CONFIGS = sorted(K8S.rglob("pitchside.toml"))


def test_there_are_shipped_configs() -> None:
    assert {p.parent.name for p in CONFIGS} >= {"orchestrator", "dev", "gpu"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(K8S)))
def test_shipped_config_loads_and_validates(path: Path) -> None:
    config = load_toml(path).validated()
    assert config.streams and config.sinks
    assert config.metrics_port == ORCHESTRATOR_METRICS_PORT
    assert config.flow.mode is Mode.LIVE
    for uri in config.sinks:
        parse_sink_uri(uri)  # raises on a sink URI the orchestrator would refuse at start
    assert all(url.endswith(":8001") for url in config.triton.urls), config.triton.urls

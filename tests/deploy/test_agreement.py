"""Images, ports, probes, commands and metric names agree across the manifests, the Dockerfile and the code."""

from typing import Any

import pytest
import typer
import yaml

from orchestrator.triton.embedded import (
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_METRICS_PORT,
    GRPC_INFER_ALLOCATION_POOL_SIZE,
)
from tests.deploy import checks

pytestmark = pytest.mark.deploy

OVERLAYS = [overlay.name for overlay in checks.overlays()]
TRITON_PORTS = {"http": DEFAULT_HTTP_PORT, "grpc": DEFAULT_GRPC_PORT, "metrics": DEFAULT_METRICS_PORT}


def _triton(resources) -> dict:
    return checks.PodOwner(checks.one(resources, "Deployment", "triton")).container("triton")


def _orchestrator(resources) -> dict:
    return checks.PodOwner(checks.one(resources, "StatefulSet", "orchestrator")).container("orchestrator")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_ports_are_the_servers_defaults_everywhere(rendered, stages, overlay) -> None:
    container = _triton(rendered[overlay])
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == TRITON_PORTS
    flags = checks.tritonserver_flags(container["args"])
    assert {name: int(flags[f"{name}-port"]) for name in TRITON_PORTS} == TRITON_PORTS
    assert stages["triton"].exposed_ports() == set(TRITON_PORTS.values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_args_are_the_images_default_command_plus_the_trace_flags(rendered, stages, overlay) -> None:
    """Where an overlay serves the model store instead of the image's repository (overlays/gpu), that is the
    only other change (tests/deploy/test_gpu_overlay.py checks the store flags themselves)."""
    command = stages["triton"].exec_form("CMD")
    args = checks.image_args(_triton(rendered[overlay])["args"], command)
    assert args[: len(command)] == command
    assert all(a.startswith("--trace-config=") for a in checks.triton_trace_args(rendered[overlay], command))


def test_production_triton_keeps_no_pooled_request_buffers_like_the_embedded_one(stages) -> None:
    """A pooled gRPC request keeps the buffer of the largest input it ever carried (about 300 MB more per
    rejected 256 MB request): the image runs Triton with the same pool size as the embedded launcher."""
    flag = f"--grpc-infer-allocation-pool-size={GRPC_INFER_ALLOCATION_POOL_SIZE}"
    assert flag in stages["triton"].exec_form("CMD")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_tracing_is_off_by_default_and_both_sides_reach_one_collector(rendered, stages, overlay) -> None:
    assert checks.tracing_problems(rendered[overlay], stages["triton"].exec_form("CMD")) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_orchestrator_port_and_command_match_its_image(rendered, stages, overlay) -> None:
    container = _orchestrator(rendered[overlay])
    port = checks.orchestrator_metrics_port()
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [("metrics", port)]
    assert stages["orchestrator"].exposed_ports() == {port}
    assert container["args"] == stages["orchestrator"].exec_form("CMD")
    assert container["args"][container["args"].index("--config") + 1] == checks.ORCHESTRATOR_CONFIG_PATH


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_a_dockerfile_target_with_a_pinned_tag(rendered, stages, overlay) -> None:
    assert checks.image_problems(rendered[overlay], stages) == []


def _cli_command(*path: str) -> Any:
    """The click-style command at ``pitchside PATH...``, or None when the CLI has no such command."""
    from orchestrator.cli.app import app

    command: Any = typer.main.get_command(app)
    for name in path:
        subcommands = getattr(command, "commands", {})
        if name not in subcommands:
            return None
        command = subcommands[name]
    return command


def _option_names(command: Any) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_the_cli_command_the_images_run_exists(stages) -> None:
    argv = stages["orchestrator"].exec_form("CMD")
    command = _cli_command(argv[0])
    assert command is not None, f"the orchestrator image runs `pitchside {argv[0]}`, which the CLI does not have"
    assert {a for a in argv if a.startswith("--")} <= _option_names(command)


def test_the_hpa_metric_is_the_one_prometheus_adapter_serves(rendered) -> None:
    values = yaml.safe_load(checks.ADAPTER_VALUES.read_text())
    (rule,) = values["rules"]["custom"]
    assert rule["seriesQuery"].startswith("nv_inference_pending_request_count{")
    assert rule["name"]["as"] == "triton_pending_requests"
    assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    assert all(f"<<.{p}>>" in rule["metricsQuery"] for p in ("Series", "LabelMatchers", "GroupBy"))
    hpa = checks.one(rendered["gpu"], "HorizontalPodAutoscaler", "triton")
    assert [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]] == [rule["name"]["as"]]


def test_triton_metrics_are_scraped_from_the_port_the_adapter_reads(rendered) -> None:
    monitor = checks.one(rendered["gpu"], "PodMonitor", "triton")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")

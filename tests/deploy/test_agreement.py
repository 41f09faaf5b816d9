"""Images, ports, probes, commands and metric names agree across the manifests, the Dockerfile and the code."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from orchestrator.repository.tensorrt import TensorRtBuild, trtexec_command
from orchestrator.triton.embedded import DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_METRICS_PORT
from tests.deploy import checks

pytestmark = pytest.mark.deploy

OVERLAYS = [overlay.name for overlay in checks.overlays()]
TRITON_PORTS = {"http": DEFAULT_HTTP_PORT, "grpc": DEFAULT_GRPC_PORT, "metrics": DEFAULT_METRICS_PORT}
BUILD_PLAN = checks.PROJECT_ROOT / "docker" / "build-plan.sh"
DETECTOR_ONNX = checks.PROJECT_ROOT / "model_repository" / "detector" / "1" / "model.onnx"


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


def test_the_repo_render_call_in_the_dockerfile_matches_the_cli(stages) -> None:
    (run,) = [r for r in stages["gpu-repository"].values("RUN") if "pitchside repo render" in r]
    command = _cli_command("repo", "render")
    assert command is not None
    used = {word for word in run.split() if word.startswith("--")}
    assert used <= _option_names(command), used - _option_names(command)


def _fake_trtexec(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "trtexec.args"
    fake = tmp_path / "trtexec"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'for a in "$@"; do case "$a" in --saveEngine=*) echo plan > "${a#--saveEngine=}";; esac; done\n'
    )
    fake.chmod(0o755)
    return fake, log


def _rendered_gpu_repository(tmp_path: Path) -> Path:
    out = tmp_path / "gpu-repository"
    subprocess.run(
        [str(Path(os.sys.executable).parent / "pitchside"), "repo", "render", "--profile", "gpu", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def test_build_plan_script_builds_the_plan_the_cli_would_and_lays_out_the_repository(tmp_path) -> None:
    fake, log = _fake_trtexec(tmp_path)
    out = tmp_path / "models"
    env = {
        **os.environ,
        "TRTEXEC": str(fake),
        "PITCHSIDE_GPU_REPOSITORY": str(_rendered_gpu_repository(tmp_path)),
        "PITCHSIDE_DETECTOR_ONNX": str(DETECTOR_ONNX),
    }
    subprocess.run(["bash", str(BUILD_PLAN), str(out)], env=env, check=True, capture_output=True)
    assert (out / "detector" / "1" / "model.plan").read_text() == "plan\n"
    assert not list(out.rglob("*.partial"))
    assert {p.name for p in out.iterdir()} == {"detection", "preprocess", "detector"}
    script_flags = set(log.read_text().split()) - {"--skipInference"}
    cli = trtexec_command(TensorRtBuild(DETECTOR_ONNX, out / "detector" / "1" / "model.plan.partial", 64, 32))
    assert script_flags == set(cli[1:])


def test_build_plan_script_fails_without_an_onnx_graph(tmp_path) -> None:
    fake, _ = _fake_trtexec(tmp_path)
    env = {
        **os.environ,
        "TRTEXEC": str(fake),
        "PITCHSIDE_GPU_REPOSITORY": str(_rendered_gpu_repository(tmp_path)),
        "PITCHSIDE_DETECTOR_ONNX": str(tmp_path / "missing.onnx"),
    }
    result = subprocess.run(["bash", str(BUILD_PLAN), str(tmp_path / "m")], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "no ONNX graph" in result.stderr


def test_build_plan_defaults_match_the_gpu_detector_config(tmp_path) -> None:
    from orchestrator.contract import DETECTOR_INPUT, DETECTOR_MODEL, LETTERBOX
    from orchestrator.repository.model_config import load_repository

    config = load_repository(_rendered_gpu_repository(tmp_path))[DETECTOR_MODEL].config
    script = BUILD_PLAN.read_text()
    dims = next(i.dims for i in config.input if i.name == DETECTOR_INPUT)
    assert f'max_batch="${{PITCHSIDE_MAX_BATCH:-{config.max_batch_size}}}"' in script
    assert f'dims="${{PITCHSIDE_INPUT_DIMS:-{"x".join(map(str, dims))}}}"' in script
    assert f'input_name="{DETECTOR_INPUT}"' in script
    assert f'letterbox_name="{LETTERBOX}"' in script
    assert [i.name for i in config.input] == [DETECTOR_INPUT, LETTERBOX]


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

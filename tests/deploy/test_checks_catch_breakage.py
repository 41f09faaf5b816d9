"""The deploy checks fail on broken inputs: each test runs a check on a deliberately broken copy."""

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from tests.deploy import checks

pytestmark = pytest.mark.deploy

HEALTH_PATHS = {"triton": checks.TRITON_HEALTH_PATHS, "orchestrator": checks.ORCHESTRATOR_HEALTH_PATHS}


@pytest.fixture
def k8s_copy(tmp_path) -> Path:
    target = tmp_path / "k8s"
    shutil.copytree(checks.K8S_DIR, target)
    return target


def _edit_yaml(path: Path, edit) -> None:
    document = yaml.safe_load(path.read_text())
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _triton_container(document: dict) -> dict:
    return document["spec"]["template"]["spec"]["containers"][0]


def test_a_kustomization_naming_a_missing_file_does_not_render(k8s_copy) -> None:
    (k8s_copy / "base" / "triton" / "pdb.yaml").unlink()
    with pytest.raises(checks.RenderError, match=r"pdb\.yaml"):
        checks.render(k8s_copy / "overlays" / "gpu")


def test_a_wrongly_typed_field_fails_schema_validation(k8s_copy) -> None:
    def break_port(document: dict) -> None:
        _triton_container(document)["ports"][0]["containerPort"] = "eight thousand"

    _edit_yaml(k8s_copy / "base" / "triton" / "deployment.yaml", break_port)
    triton = checks.one(checks.render(k8s_copy / "overlays" / "dev"), "Deployment", "triton")
    problems = checks.schema_problems(triton)
    assert problems and "containerPort" in problems[0]


def test_a_misspelt_field_fails_strict_schema_validation(rendered) -> None:
    deployment = copy.deepcopy(checks.one(rendered["gpu"], "Deployment", "triton"))
    container = _triton_container(deployment)
    container["readinesProbe"] = container.pop("readinessProbe")
    assert checks.schema_problems(deployment) != []


def test_a_podmonitor_with_a_bad_interval_or_unknown_field_fails_validation(rendered) -> None:
    monitor = copy.deepcopy(checks.one(rendered["gpu"], "PodMonitor", "triton"))
    monitor["spec"]["podMetricsEndpoints"][0]["interval"] = "15 seconds"
    assert checks.schema_problems(monitor) != []
    monitor = copy.deepcopy(checks.one(rendered["gpu"], "PodMonitor", "triton"))
    monitor["spec"]["podMetricEndpoints"] = monitor["spec"].pop("podMetricsEndpoints")
    assert checks.schema_problems(monitor) != []


def test_a_kind_without_any_schema_is_reported_not_passed() -> None:
    resource = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert checks.schema_problems(resource) != []


def test_a_probe_path_triton_does_not_serve_is_caught(k8s_copy) -> None:
    def break_probe(document: dict) -> None:
        _triton_container(document)["readinessProbe"]["httpGet"]["path"] = "/v2/health/readyz"

    _edit_yaml(k8s_copy / "base" / "triton" / "deployment.yaml", break_probe)
    problems = checks.probe_problems(checks.render(k8s_copy / "overlays" / "gpu"), HEALTH_PATHS)
    assert problems == [
        "Deployment/triton container triton: readinessProbe path '/v2/health/readyz' is not a health endpoint "
        "it serves ['/v2/health/live', '/v2/health/ready']"
    ]


def test_a_probe_on_an_undeclared_port_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["dev"])
    container = _triton_container(checks.one(resources, "Deployment", "triton"))
    container["livenessProbe"]["httpGet"]["port"] = "health"
    assert len(checks.probe_problems(resources, HEALTH_PATHS)) == 1


def test_a_service_pointing_at_a_missing_port_or_no_pods_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    grpc = checks.one(resources, "Service", "triton-grpc")
    grpc["spec"]["ports"][0]["targetPort"] = "gprc"
    checks.one(resources, "Service", "triton")["spec"]["selector"] = {"app.kubernetes.io/name": "tritno"}
    problems = checks.reference_problems(resources)
    assert any("gprc" in p for p in problems) and any("matches no pod template" in p for p in problems)


def test_a_shard_count_out_of_step_with_the_replicas_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    checks.one(resources, "StatefulSet", "orchestrator")["spec"]["replicas"] = 6
    assert checks.shard_problems(resources) == ["PITCHSIDE_SHARD_COUNT=4 but the StatefulSet has 6"]


def test_a_config_pointing_past_the_headless_service_is_caught(rendered) -> None:
    config = checks.orchestrator_config(rendered["gpu"])
    config["triton"]["urls"] = ["triton.pitchside.svc.cluster.local:8001"]
    config["sinks"].append({"uri": "kafka://events"})
    assert len(checks.config_problems(config, "triton-grpc.pitchside.svc.cluster.local:8001", 9108)) == 2


def test_aws_keys_in_a_manifest_are_caught() -> None:
    text = "env:\n- name: AWS_SECRET_ACCESS_KEY\n  value: x\n- name: K\n  value: AKIAABCDEFGHIJKLMNOP\n"
    assert len(checks.secret_problems(text)) == 2


def test_an_image_that_is_no_dockerfile_target_or_floats_on_latest_is_caught(rendered, stages) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    _triton_container(checks.one(resources, "Deployment", "triton"))["image"] = "nvcr.io/nvidia/tritonserver:latest"
    assert len(checks.image_problems(resources, stages)) == 2


def test_hadolint_flags_an_unpinned_base_image_and_unpinned_packages(tmp_path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        checks.DOCKERFILE.read_text().replace("tritonserver:${NGC_RELEASE}-py3", "tritonserver:latest")
        + "RUN pip install numpy\n"
    )
    findings = "\n".join(checks.hadolint(broken))
    assert "DL3007" in findings and "DL3013" in findings


def test_a_copy_of_a_missing_or_dockerignored_path_is_caught(tmp_path) -> None:
    (tmp_path / "present.txt").write_text("x")
    (tmp_path / "secret.env").write_text("x")
    (tmp_path / ".dockerignore").write_text("*\n!present.txt\n")
    _, stages = checks.parse_dockerfile("FROM scratch AS s\nCOPY present.txt missing.txt secret.env /x/\n")
    assert checks.copy_source_problems(stages, tmp_path) == [
        "stage s: COPY source missing.txt does not exist",
        "stage s: COPY source secret.env is excluded by .dockerignore",
    ]

"""The model-rollout Job: `pitchside model rollout --every-pod` on every Triton pod of the GPU overlay, from the
image that carries the golden frames, with only the network and the role it needs."""

import re
from typing import Final

import pytest

from tests.deploy import checks
from tests.deploy.test_model_pipeline import MODEL_BUILDER, cli_problems

pytestmark = pytest.mark.deploy

JOB_DIR: Final = checks.K8S_DIR / "jobs" / "model-rollout"
TRITON_GRPC_SERVICE: Final = "triton-grpc"


@pytest.fixture(scope="module")
def resources() -> list[checks.Resource]:
    return checks.render(JOB_DIR)


@pytest.fixture(scope="module")
def job(resources) -> checks.PodOwner:
    return checks.PodOwner(checks.one(resources, "Job", "model-rollout"))


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_every_resource_validates_strictly_and_hangs_together(resources) -> None:
    assert {r["kind"] for r in resources} == {"Job", "ServiceAccount", "NetworkPolicy", "ConfigMap"}
    assert [p for r in resources for p in checks.schema_problems(r)] == []
    assert {r["metadata"]["namespace"] for r in resources} == {"pitchside"}
    assert checks.reference_problems(resources) == []
    assert checks.token_problems(resources) == []


def test_the_job_rolls_out_on_every_pod_behind_the_headless_service(rendered, job) -> None:
    (container,) = job.containers()
    args = container["args"]
    assert args[:2] == ["model", "rollout"] and cli_problems(args) == []
    assert "--every-pod" in args
    host, port = option(args, "--triton-url").split(":")
    for overlay in ("dev", "gpu"):
        service = checks.one(rendered[overlay], "Service", host)
        assert service["spec"]["clusterIP"] == "None", "only a headless Service resolves to every pod"
        assert int(port) in {p["port"] for p in service["spec"]["ports"]}
        assert host == TRITON_GRPC_SERVICE


def test_the_job_rolls_out_on_the_store_the_gpu_overlays_triton_serves(rendered, resources, job) -> None:
    (container,) = job.containers()
    variables = {e["name"]: e["valueFrom"]["configMapKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert option(container["args"], "--store") == "$(PITCHSIDE_MODEL_STORE)"
    (config,) = checks.by_kind(resources, "ConfigMap")
    assert variables["PITCHSIDE_MODEL_STORE"]["name"] == config["metadata"]["name"]
    store = config["data"][variables["PITCHSIDE_MODEL_STORE"]["key"]]
    triton = checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))
    served = checks.tritonserver_flags(triton.container("triton")["args"])["model-repository"]
    assert store == served
    assert re.fullmatch(r"\d+", config["data"][variables["PITCHSIDE_MODEL_VERSION"]["key"]])


def test_the_job_judges_on_the_golden_frames_of_the_model_builder_image(resources, job) -> None:
    (container,) = job.containers()
    assert checks.image_target(container["image"]) == "model-builder"
    stages = checks.parse_dockerfile(MODEL_BUILDER.read_text())[1]
    assert checks.image_problems(resources, stages) == []
    copies = " ".join(stage_copy for stage in stages.values() for stage_copy in stage.values("COPY"))
    assert option(container["args"], "--golden") in copies
    assert "nvidia.com/gpu" not in job.requests(), "the candidates run in the Triton pods, not here"


def test_a_refused_rollout_is_not_retried_and_the_job_ends(job) -> None:
    spec = checks.one([job.resource], "Job", "model-rollout")["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] > 0 and spec["ttlSecondsAfterFinished"] > 0
    assert job.spec["restartPolicy"] == "Never"


def test_the_job_runs_as_non_root_read_only_with_its_own_irsa_role(job, resources) -> None:
    assert job.spec["securityContext"]["runAsNonRoot"] is True
    (container,) = job.containers()
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    account = checks.one(resources, "ServiceAccount", job.spec["serviceAccountName"])
    assert account["metadata"]["name"] == "model-rollout"
    assert re.fullmatch(
        r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    )


def test_the_network_policy_allows_dns_triton_grpc_and_https_out_and_triton_admits_the_job(
    rendered, resources, job
) -> None:
    deny = checks.one(rendered["gpu"], "NetworkPolicy", "default-deny")
    assert checks.network_policy_problems([*resources, deny]) == []
    policy = checks.one(resources, "NetworkPolicy", "model-rollout")
    assert policy["spec"]["ingress"] == []
    ports = {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {(53, "UDP"), (53, "TCP"), (8001, "TCP"), (443, "TCP")}
    triton = checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))
    (to_triton,) = [rule for rule in policy["spec"]["egress"] if rule["ports"][0]["port"] == 8001]
    assert all(checks.selects(peer["podSelector"], triton.labels) for peer in to_triton["to"])
    assert triton.port_names()["grpc"] == 8001
    blocks = [peer["ipBlock"] for rule in policy["spec"]["egress"] for peer in rule["to"] if "ipBlock" in peer]
    assert blocks and all("169.254.169.254/32" in b["except"] for b in blocks)


def test_checkov_passes_the_job_with_the_projects_skip_list(resources, tmp_path) -> None:
    if checks.checkov_binary() is None:
        pytest.skip("checkov is not installed: bash scripts/bootstrap.sh .venv")
    assert checks.checkov({"model-rollout": resources}, tmp_path, config=checks.CHECKOV_CONFIG) == []

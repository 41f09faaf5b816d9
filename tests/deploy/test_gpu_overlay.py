"""Production puts Triton on a GPU node and serves the validated GPU model store from S3 (no plan is built in
the pod); dev asks for no GPU at all and serves the image's repository."""

import copy

import pytest

from tests.deploy import checks, model_store

pytestmark = pytest.mark.deploy

GPU = "nvidia.com/gpu"


@pytest.fixture(scope="module")
def triton(rendered) -> checks.PodOwner:
    return checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))


def _broken(rendered) -> tuple[list[checks.Resource], checks.Resource]:
    resources = copy.deepcopy(rendered["gpu"])
    return resources, checks.PodOwner(checks.one(resources, "Deployment", "triton")).container("triton")


def test_triton_gets_one_gpu(triton) -> None:
    resources = triton.container("triton")["resources"]
    assert resources["limits"][GPU] == resources["requests"][GPU] == "1"


def test_triton_is_placed_on_gpu_nodes_and_tolerates_their_taint(triton) -> None:
    assert triton.spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in triton.spec["tolerations"]


def test_triton_serves_the_model_store_and_builds_nothing_in_the_pod(rendered, triton) -> None:
    assert model_store.store_serving_problems(rendered["gpu"]) == []
    assert "initContainers" not in triton.spec
    flags = checks.tritonserver_flags(triton.container("triton")["args"])
    assert flags["model-repository"].startswith("s3://") and flags["model-control-mode"] == "explicit"
    assert not [v for v in triton.spec["volumes"] if v["name"] == "models"], "nothing shadows the image's /models"


def test_only_the_triton_deployment_skips_checkovs_secret_in_env_check(rendered, triton) -> None:
    skips = [
        (checks.name_of(r), value)
        for overlay in rendered.values()
        for r in overlay
        for key, value in r["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    ]
    assert skips == [("Deployment/triton", triton.resource["metadata"]["annotations"]["checkov.io/skip1"])]
    assert skips[0][1].startswith("CKV_K8S_35=")


def test_startup_probe_allows_minutes_for_download_plan_loading_and_warmup(triton) -> None:
    probe = triton.container("triton")["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 300


def test_dev_asks_for_no_gpu_and_serves_the_images_repository(rendered, stages) -> None:
    owner = checks.PodOwner(checks.one(rendered["dev"], "Deployment", "triton"))
    assert all(GPU not in c["resources"].get("limits", {}) for c in owner.containers())
    assert "nodeSelector" not in owner.spec and "initContainers" not in owner.spec
    args = owner.container("triton")["args"]
    assert args[: len(stages["triton"].exec_form("CMD"))] == stages["triton"].exec_form("CMD")


# ---- the checks catch an overlay that builds per pod again or serves something else ------------------------


def test_a_plan_building_init_container_is_caught(rendered) -> None:
    resources, _ = _broken(rendered)
    spec = checks.one(resources, "Deployment", "triton")["spec"]["template"]["spec"]
    spec["initContainers"] = [{"name": "build", "image": "pitchside/model-builder:0.1.0", "args": ["model", "build"]}]
    assert model_store.store_serving_problems(resources) == [
        "Deployment/triton: init container build (pitchside/model-builder:0.1.0) runs in every Triton pod: "
        "plans come validated from the model store, never built per pod"
    ]


def test_a_container_from_the_model_builder_image_is_caught(rendered) -> None:
    resources, _ = _broken(rendered)
    spec = checks.one(resources, "Deployment", "triton")["spec"]["template"]["spec"]
    spec["containers"].append({"name": "builder", "image": "pitchside/model-builder:0.1.0", "args": ["--help"]})
    assert model_store.store_serving_problems(resources) == [
        "Deployment/triton: container builder builds a TensorRT plan in the pod"
    ]


def test_a_container_that_runs_trtexec_or_model_build_is_caught(rendered) -> None:
    for command in (["trtexec", "--onnx=/m.onnx"], ["pitchside", "model", "build", "--profile", "gpu"]):
        resources, _ = _broken(rendered)
        spec = checks.one(resources, "Deployment", "triton")["spec"]["template"]["spec"]
        spec["containers"].append({"name": "builder", "image": "pitchside/orchestrator:0.1.0", "command": command})
        assert model_store.store_serving_problems(resources) == [
            "Deployment/triton: container builder builds a TensorRT plan in the pod"
        ], command


@pytest.mark.parametrize(
    ("repository", "problem"),
    [
        ("/models", "Triton serves '/models', not the model store (s3://BUCKET/PREFIX)"),
        ("gs://models/gpu", "Triton serves 'gs://models/gpu', not the model store (s3://BUCKET/PREFIX)"),
        ("s3://pitchside-models-111122223333", "Triton serves the whole bucket"),
        ("s3://minio.local:9000/models/gpu", "from another endpoint than S3"),
    ],
)
def test_a_repository_that_is_not_the_store_is_caught(rendered, repository: str, problem: str) -> None:
    resources, container = _broken(rendered)
    container["args"] = [
        f"{checks.REPOSITORY_FLAG}{repository}" if a.startswith(checks.REPOSITORY_FLAG) else a
        for a in container["args"]
    ]
    (found,) = model_store.store_serving_problems(resources)
    assert problem in found


def test_serving_the_store_without_explicit_model_control_is_caught(rendered) -> None:
    resources, container = _broken(rendered)
    container["args"] = [a for a in container["args"] if a not in checks.MODEL_STORE_FLAGS]
    container["args"].append("--model-control-mode=poll")
    problems = model_store.store_serving_problems(resources)
    assert len(problems) == 2
    assert "needs --model-control-mode=explicit --load-model=*" in problems[0]
    assert problems[1] == "--model-control-mode=poll: a rollout needs explicit control"


def test_missing_store_credentials_region_or_egress_are_caught(rendered) -> None:
    resources, container = _broken(rendered)
    container["envFrom"][0]["secretRef"]["optional"] = True
    container["env"] = [e for e in container["env"] if e["name"] != model_store.REGION_VARIABLE]
    policy = checks.one(resources, "NetworkPolicy", "triton")
    policy["spec"]["egress"] = [r for r in policy["spec"]["egress"] if {"port": 443, "protocol": "TCP"} not in
                                r.get("ports", [])]  # fmt: skip
    assert model_store.store_serving_problems(resources) == [
        "Triton does not read the store's keys from the Secret triton-model-store (envFrom, required)",
        "Triton has no AWS_DEFAULT_REGION: its S3 client needs the bucket's region",
        "NetworkPolicy/triton: no HTTPS egress (outside the metadata service) to reach the store",
    ]

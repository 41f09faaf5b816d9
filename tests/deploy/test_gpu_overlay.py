"""Production puts Triton on a GPU node and builds the TensorRT plan there; dev asks for no GPU at all."""

import pytest

from tests.deploy import checks

pytestmark = pytest.mark.deploy

GPU = "nvidia.com/gpu"


@pytest.fixture(scope="module")
def triton(rendered) -> checks.PodOwner:
    return checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))


def test_triton_and_the_plan_builder_each_get_one_gpu(triton) -> None:
    for name in ("triton", "plan-builder"):
        resources = triton.container(name)["resources"]
        assert resources["limits"][GPU] == resources["requests"][GPU] == "1", name


def test_triton_is_placed_on_gpu_nodes_and_tolerates_their_taint(triton) -> None:
    assert triton.spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in triton.spec["tolerations"]


def test_the_plan_is_built_into_the_repository_triton_serves(triton) -> None:
    builder = triton.container("plan-builder")
    assert checks.image_target(builder["image"]) == "plan-builder"
    (out_dir,) = builder["args"]
    written = next(m["name"] for m in builder["volumeMounts"] if m["mountPath"] == out_dir)
    served_path = checks.tritonserver_flags(triton.container("triton")["args"])["model-repository"]
    served = next(m for m in triton.container("triton")["volumeMounts"] if m["mountPath"] == served_path)
    assert served["name"] == written
    assert served.get("readOnly") is True
    volume = next(v for v in triton.spec["volumes"] if v["name"] == written)
    assert "emptyDir" in volume, "a plan belongs to this node's GPU: never share it through a persistent volume"


def test_startup_probe_allows_minutes_for_plan_loading_and_warmup(triton) -> None:
    probe = triton.container("triton")["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 300


def test_dev_asks_for_no_gpu_and_no_gpu_node(rendered) -> None:
    owner = checks.PodOwner(checks.one(rendered["dev"], "Deployment", "triton"))
    assert all(GPU not in c["resources"].get("limits", {}) for c in owner.containers())
    assert "nodeSelector" not in owner.spec and "initContainers" not in owner.spec

"""A first deploy schedules on the nodes the docs recommend, and each orchestrator's journal survives the pod."""

import pytest

from tests.deploy import checks, nodes

pytestmark = pytest.mark.deploy

OVERLAYS = [overlay.name for overlay in checks.overlays()]
DEPLOY_DOC = checks.PROJECT_ROOT / "docs" / "DEPLOY.md"


def test_every_node_type_the_deploy_guide_names_is_modelled() -> None:
    named = nodes.named_in(DEPLOY_DOC.read_text())
    assert named >= {"g5.xlarge", "g6.xlarge"}
    assert named == set(nodes.NODE_TYPES)


def test_the_node_model_matches_the_eks_ami_reservations() -> None:
    g5 = nodes.NODE_TYPES["g5.xlarge"]
    assert g5.kube_reserved_cpu_m == 80  # 60m + 10m + 5m + 5m
    assert g5.kube_reserved_memory_mib == 255 + 11 * 58
    assert g5.allocatable_cpu_m == 3920
    assert 14 * nodes.GIB < g5.allocatable_memory_bytes < 15 * nodes.GIB


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_fits_the_recommended_node_types(rendered, overlay) -> None:
    assert checks.fit_problems(rendered[overlay], list(nodes.NODE_TYPES.values())) == []


def test_production_triton_pod_requests_one_gpu_and_fits_a_g5_xlarge(rendered) -> None:
    triton = checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))
    wanted = triton.requests()
    assert wanted["nvidia.com/gpu"] == 1
    assert wanted["cpu"] <= nodes.NODE_TYPES["g5.xlarge"].room_cpu_m
    assert wanted == checks.container_requests(triton.container("triton"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_journal_and_dead_letters_are_on_each_replicas_persistent_volume(rendered, overlay) -> None:
    assert checks.state_problems(rendered[overlay]) == []
    paths = checks.state_paths(rendered[overlay])
    assert all(not path.is_relative_to("/etc/pitchside") for path in paths.values()), paths


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_volume_is_a_claim_template_kept_when_scaled_down(rendered, overlay) -> None:
    statefulset = checks.one(rendered[overlay], "StatefulSet", "orchestrator")
    (template,) = statefulset["spec"]["volumeClaimTemplates"]
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert nodes.parse_memory(template["spec"]["resources"]["requests"]["storage"]) >= nodes.GIB
    assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert template["metadata"]["name"] not in {v["name"] for v in checks.PodOwner(statefulset).spec["volumes"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_claims_use_a_zone_aware_storage_class_and_production_names_one(rendered, overlay) -> None:
    assert checks.storage_problems(rendered[overlay], require_class=overlay == "gpu") == []


def test_production_journal_volumes_are_encrypted_gp3_that_can_grow(rendered) -> None:
    storage = checks.one(rendered["gpu"], "StorageClass", "pitchside-journal")
    assert storage["provisioner"] == "ebs.csi.aws.com"
    assert storage["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage["allowVolumeExpansion"] is True

"""Every kustomize overlay renders, validates against the Kubernetes schemas offline, and hangs together."""

import re

import pytest
import yaml

from tests.deploy import checks

pytestmark = pytest.mark.deploy

OVERLAYS = [overlay.name for overlay in checks.overlays()]
HEALTH_PATHS = {
    "triton": checks.TRITON_HEALTH_PATHS,
    "orchestrator": checks.ORCHESTRATOR_HEALTH_PATHS,
}
TRITON_GRPC = "triton-grpc.pitchside.svc.cluster.local:8001"
IRSA_ROLE = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")


def test_there_is_a_cpu_dev_and_a_gpu_production_overlay() -> None:
    assert {"dev", "gpu"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_triton_and_the_orchestrators(rendered, overlay) -> None:
    resources = rendered[overlay]
    checks.one(resources, "Deployment", "triton")
    checks.one(resources, "StatefulSet", "orchestrator")
    namespaced = [r for r in resources if r["kind"] not in checks.CLUSTER_SCOPED_KINDS]
    assert {r["metadata"].get("namespace") for r in namespaced} == {"pitchside"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_validates_against_the_kubernetes_schemas(rendered, overlay) -> None:
    problems = [p for resource in rendered[overlay] for p in checks.schema_problems(resource)]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_ports_and_references_resolve(rendered, overlay) -> None:
    assert checks.reference_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_hit_declared_ports_and_real_health_endpoints(rendered, overlay) -> None:
    assert checks.probe_problems(rendered[overlay], HEALTH_PATHS) == []
    assert checks.missing_probes(rendered[overlay], frozenset(HEALTH_PATHS)) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_is_guaranteed_qos_with_requests_equal_to_limits(rendered, overlay) -> None:
    triton = checks.PodOwner(checks.one(rendered[overlay], "Deployment", "triton"))
    for container in triton.containers():
        resources = container["resources"]
        assert resources["requests"] == resources["limits"], container["name"]
        assert {"cpu", "memory"} <= set(resources["limits"]), container["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_triton_dev_shm_is_a_memory_backed_empty_dir(rendered, overlay) -> None:
    triton = checks.PodOwner(checks.one(rendered[overlay], "Deployment", "triton"))
    mount = next(m for m in triton.container("triton")["volumeMounts"] if m["mountPath"] == "/dev/shm")
    volume = next(v for v in triton.spec["volumes"] if v["name"] == mount["name"])
    assert volume["emptyDir"]["medium"] == "Memory"
    assert "sizeLimit" in volume["emptyDir"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_as_non_root_without_privilege(rendered, overlay) -> None:
    for owner in checks.pod_owners(rendered[overlay]):
        pod = owner.spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, checks.name_of(owner.resource)
        for container in owner.containers():
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grpc_service_is_headless_and_metrics_service_is_not(rendered, overlay) -> None:
    grpc = checks.one(rendered[overlay], "Service", "triton-grpc")
    metrics = checks.one(rendered[overlay], "Service", "triton")
    assert grpc["spec"]["clusterIP"] == "None"
    assert [p["name"] for p in grpc["spec"]["ports"]] == ["grpc"]
    assert "clusterIP" not in metrics["spec"]
    assert "metrics" in [p["name"] for p in metrics["spec"]["ports"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_orchestrators_and_the_rollout_job_reach_the_triton_grpc_port(rendered, overlay) -> None:
    resources = rendered[overlay]
    orchestrator = checks.PodOwner(checks.one(resources, "StatefulSet", "orchestrator"))
    rollout = checks.PodOwner(
        checks.one(checks.render(checks.K8S_DIR / "jobs" / "model-rollout"), "Job", "model-rollout")
    )
    triton = checks.PodOwner(checks.one(resources, "Deployment", "triton"))
    policies = [
        p for p in checks.by_kind(resources, "NetworkPolicy") if checks.selects(p["spec"]["podSelector"], triton.labels)
    ]
    assert policies and all("Ingress" in p["spec"]["policyTypes"] for p in policies)
    grpc_rules = [
        rule
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        if not rule.get("ports") or any(p["port"] in ("grpc", 8001) for p in rule["ports"])
    ]
    assert grpc_rules, "no rule admits the orchestrators at all"
    for rule in grpc_rules:
        assert rule.get("ports"), "a rule without ports opens every port"
        peers = rule.get("from", [])
        assert peers and all(set(peer) == {"podSelector"} for peer in peers), peers
        clients = [owner.labels for owner in (orchestrator, rollout)]
        assert all(any(checks.selects(peer["podSelector"], labels) for labels in clients) for peer in peers)
    admitted = [peer["podSelector"] for rule in grpc_rules for peer in rule["from"]]
    assert all(any(checks.selects(peer, owner.labels) for peer in admitted) for owner in (orchestrator, rollout))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_orchestrator_config_uses_the_headless_service_and_its_metrics_port(rendered, overlay) -> None:
    config = checks.orchestrator_config(rendered[overlay])
    assert checks.config_problems(config, TRITON_GRPC, checks.orchestrator_metrics_port()) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_shard_count_matches_the_orchestrator_replicas(rendered, overlay) -> None:
    assert checks.shard_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_shard_has_streams(rendered, overlay) -> None:
    replicas = checks.one(rendered[overlay], "StatefulSet", "orchestrator")["spec"]["replicas"]
    streams = checks.orchestrator_config(rendered[overlay])["streams"]
    idle = [i for i in range(replicas) if not [s for n, s in enumerate(streams) if n % replicas == i]]
    assert idle == [], f"replicas {idle} would serve no stream"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_aws_credentials_anywhere_and_orchestrators_use_irsa(rendered, overlay) -> None:
    assert checks.secret_problems(yaml.safe_dump_all(rendered[overlay])) == []
    account = checks.one(rendered[overlay], "ServiceAccount", "orchestrator")
    assert IRSA_ROLE.match(account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])
    statefulset = checks.PodOwner(checks.one(rendered[overlay], "StatefulSet", "orchestrator"))
    assert statefulset.spec["serviceAccountName"] == "orchestrator"


def test_no_aws_credentials_in_any_k8s_source_file() -> None:
    problems = [
        f"{path.relative_to(checks.K8S_DIR)}: {p}"
        for path in checks.K8S_DIR.rglob("*")
        if path.is_file()
        for p in checks.secret_problems(path.read_text())
    ]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_both_kinds_of_pod_have_a_disruption_budget(rendered, overlay) -> None:
    budgets = checks.by_kind(rendered[overlay], "PodDisruptionBudget")
    for owner in (
        checks.one(rendered[overlay], kind, name)
        for kind, name in (("Deployment", "triton"), ("StatefulSet", "orchestrator"))
    ):
        labels = checks.PodOwner(owner).labels
        assert [b for b in budgets if checks.selects(b["spec"]["selector"], labels)], checks.name_of(owner)


def test_production_is_monitored_and_autoscaled_on_triton_queue_depth(rendered) -> None:
    resources = rendered["gpu"]
    monitored = {
        m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for m in checks.by_kind(resources, "PodMonitor")
    }
    assert monitored == {"triton", "orchestrator"}
    hpa = checks.one(resources, "HorizontalPodAutoscaler", "triton")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "triton"}
    assert hpa["spec"]["minReplicas"] >= 2
    assert [m["type"] for m in hpa["spec"]["metrics"]] == ["Pods"]
    assert "replicas" not in checks.one(resources, "Deployment", "triton")["spec"], "the HPA owns the count"


def test_no_autoscaler_on_the_orchestrators_since_scaling_reshards(rendered) -> None:
    for resources in rendered.values():
        targets = [h["spec"]["scaleTargetRef"]["kind"] for h in checks.by_kind(resources, "HorizontalPodAutoscaler")]
        assert "StatefulSet" not in targets

"""The deploy checks fail on broken inputs: each test runs a check on a deliberately broken copy."""

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from tests.deploy import checks, nodes, observability

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


def test_triton_asking_for_four_cpus_does_not_fit_a_g5_or_g6_xlarge(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    triton = checks.one(resources, "Deployment", "triton")
    for container in checks.PodOwner(triton).containers():
        container["resources"]["requests"]["cpu"] = container["resources"]["limits"]["cpu"] = "4"
    problems = checks.fit_problems(resources, list(nodes.NODE_TYPES.values()))
    assert problems == [
        f"Deployment/triton on {node}: requests 4000m CPU, 3520m left after DaemonSets"
        for node in ("g5.xlarge", "g6.xlarge")
    ]


def test_a_pod_too_big_for_memory_or_without_requests_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    container = checks.PodOwner(checks.one(resources, "StatefulSet", "orchestrator")).container("orchestrator")
    container["resources"]["requests"]["memory"] = "40Gi"
    del checks.PodOwner(checks.one(resources, "Deployment", "triton")).container("triton")["resources"]["requests"]
    problems = checks.fit_problems(resources, list(nodes.NODE_TYPES.values()))
    assert "Deployment/triton triton: no ['cpu', 'memory'] request" in problems
    assert any(p.startswith("StatefulSet/orchestrator on m6i.2xlarge: requests 40.0 GiB") for p in problems)


def test_a_journal_left_beside_the_read_only_config_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    container = checks.PodOwner(checks.one(resources, "StatefulSet", "orchestrator")).container("orchestrator")
    container["env"] = [e for e in container["env"] if e["name"] != "PITCHSIDE_STATE_DIR"]
    config_map = next(c for c in checks.by_kind(resources, "ConfigMap") if "pitchside.toml" in c["data"])
    text = config_map["data"]["pitchside.toml"]
    config_map["data"]["pitchside.toml"] = text.replace('state_dir = "/var/lib/pitchside"', "")
    assert checks.state_problems(resources) == [
        "journal at /etc/pitchside/out/journal: under the read-only mount /etc/pitchside",
        "dead letters at /etc/pitchside/out/dead-letter.jsonl: under the read-only mount /etc/pitchside",
    ]


def test_a_journal_on_an_empty_dir_or_the_root_filesystem_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["dev"])
    statefulset = checks.one(resources, "StatefulSet", "orchestrator")
    del statefulset["spec"]["volumeClaimTemplates"]
    statefulset["spec"]["template"]["spec"]["volumes"].append({"name": "data", "emptyDir": {}})
    problems = checks.state_problems(resources)
    assert len(problems) == 2 and all("volume data is not a persistent volume claim template" in p for p in problems)
    container = checks.PodOwner(statefulset).container("orchestrator")
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != "data"]
    assert all("read-only root filesystem" in p for p in checks.state_problems(resources))


def test_a_mount_of_a_claim_template_that_is_gone_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    del checks.one(resources, "StatefulSet", "orchestrator")["spec"]["volumeClaimTemplates"]
    assert checks.reference_problems(resources) == [
        "StatefulSet/orchestrator orchestrator: mounts undeclared volume data"
    ]


def test_a_metrics_listener_on_loopback_is_caught(rendered) -> None:
    config = checks.orchestrator_config(rendered["gpu"])
    del config["metrics"]["host"]
    assert checks.config_problems(config, "triton-grpc.pitchside.svc.cluster.local:8001", 9108) == [
        "[metrics] host '127.0.0.1' is loopback: probes and Prometheus reach the pod from outside"
    ]


def test_a_mounted_service_account_token_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    del checks.one(resources, "StatefulSet", "orchestrator")["spec"]["template"]["spec"]["automountServiceAccountToken"]
    assert checks.token_problems(resources) == []  # the ServiceAccount still says no
    del checks.one(resources, "ServiceAccount", "orchestrator")["automountServiceAccountToken"]
    assert checks.token_problems(resources) == [
        "StatefulSet/orchestrator: mounts a service-account token it does not need"
    ]


def test_a_workload_without_its_own_network_policy_or_egress_rules_is_caught(rendered) -> None:
    resources = [r for r in copy.deepcopy(rendered["gpu"]) if checks.name_of(r) != "NetworkPolicy/orchestrator"]
    checks.one(resources, "NetworkPolicy", "triton")["spec"]["policyTypes"] = ["Ingress"]
    assert checks.network_policy_problems(resources) == [
        "Deployment/triton: its NetworkPolicy does not govern both Ingress and Egress",
        "StatefulSet/orchestrator: no NetworkPolicy of its own",
    ]
    resources = [r for r in resources if checks.name_of(r) != "NetworkPolicy/default-deny"]
    assert checks.network_policy_problems(resources)[0].startswith("no default-deny NetworkPolicy")


def test_a_tag_only_image_fails_the_release_digest_check(rendered) -> None:
    problems = checks.digest_problems(rendered["gpu"])
    containers = [c for owner in checks.pod_owners(rendered["gpu"]) for c in owner.containers()]
    assert len(problems) == len(containers) >= 2 and all("is not pinned by digest" in p for p in problems)


def test_checkov_flags_a_mounted_service_account_token(rendered, tmp_path) -> None:
    if checks.checkov_binary() is None:
        pytest.skip("checkov is not installed (test_hardening.py fails in CI when it is missing)")
    resources = copy.deepcopy(rendered["gpu"])
    checks.one(resources, "StatefulSet", "orchestrator")["spec"]["template"]["spec"]["automountServiceAccountToken"] = (
        True
    )
    findings = checks.checkov({"gpu": resources}, tmp_path, config=checks.CHECKOV_CONFIG)
    assert "CKV_K8S_38 StatefulSet.pitchside.orchestrator" in findings


def test_promtool_rejects_a_broken_expression_and_a_bad_duration(tmp_path) -> None:
    if observability.promtool_binary() is None:
        pytest.skip("promtool is not installed (test_observability.py fails in CI when it is missing)")
    rule = observability.load_rule()
    rule["spec"]["groups"][0]["rules"][0]["expr"] = "sum by (stream) (rate(pitchside_frames_dropped_total[5m])"
    assert "unclosed left parenthesis" in "\n".join(observability.promtool_check_rules(rule, tmp_path))
    rule = observability.load_rule()
    rule["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
    assert 'not a valid duration string: "ten minutes"' in "\n".join(observability.promtool_check_rules(rule, tmp_path))


def test_an_alert_without_a_runbook_section_is_caught() -> None:
    rule = observability.load_rule()
    alert = observability.alerts(rule)[0]
    runbook = observability.RUNBOOK.read_text().replace(f"## {alert['alert']}\n", "## Renamed\n")
    del observability.alerts(rule)[1]["labels"]["severity"]
    problems = observability.runbook_problems(rule, runbook)
    assert problems == [
        f"{alert['alert']}: runbook_url 'docs/RUNBOOK.md#{alert['alert'].lower()}' is not a section "
        f"'## {alert['alert']}' of docs/RUNBOOK.md",
        f"{observability.alerts(rule)[1]['alert']}: needs a severity label and a summary annotation",
    ]


def test_a_misspelt_metric_in_the_dashboard_is_found_and_reported() -> None:
    dashboard = observability.load_dashboard()
    target = next(p for p in dashboard["panels"] if p.get("targets"))["targets"][0]
    target["expr"] = target["expr"].replace("pitchside_stage_latency_seconds_bucket", "pitchside_stage_latency_bucket")
    used = observability.dashboard_metrics(dashboard)
    assert "pitchside_stage_latency_bucket" in used
    scraped = observability.dashboard_metrics(observability.load_dashboard())
    assert observability.scrape_problems(used, scraped) == ["pitchside_stage_latency_bucket: used but in no scrape"]


def test_metric_names_skip_functions_labels_grouping_and_variables() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (stream, le) (rate(a_bucket{stage="x", s=~"$stream"}[$__rate_interval])))'
        " > on (pod) group_left b_total offset 5m and bool c:recorded"
    )
    assert observability.metric_names(expr) == {"a_bucket", "b_total", "c:recorded"}


def test_a_claim_without_a_class_or_with_one_that_binds_at_once_is_caught(rendered) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    checks.one(resources, "StorageClass", "pitchside-journal")["volumeBindingMode"] = "Immediate"
    assert checks.storage_problems(resources, require_class=True) == [
        "StatefulSet/orchestrator claim data: StorageClass pitchside-journal must bind WaitForFirstConsumer"
    ]
    template = checks.one(resources, "StatefulSet", "orchestrator")["spec"]["volumeClaimTemplates"][0]
    del template["spec"]["storageClassName"]
    assert checks.storage_problems(resources, require_class=True) == [
        "StatefulSet/orchestrator claim data: no storageClassName, and the cluster may have no default class"
    ]
    template["spec"]["storageClassName"] = "gp2"
    assert checks.storage_problems(resources, require_class=True) == [
        "StatefulSet/orchestrator claim data: StorageClass gp2 is not in the overlay"
    ]


def test_an_alert_that_waits_too_long_fails_its_promtool_unit_test(tmp_path) -> None:
    if observability.promtool_binary() is None:
        pytest.skip("promtool is not installed (test_observability.py fails in CI when it is missing)")
    rule = observability.load_rule()
    backlog = next(a for a in observability.alerts(rule) if a["alert"] == "PitchsideJournalBacklog")
    backlog["for"] = "30m"
    findings = "\n".join(observability.promtool_test_rules(rule, tmp_path))
    assert "FAILED" in findings and "alertname: PitchsideJournalBacklog, time: 25m" in findings


def _trace_problems(resources, stages) -> list[str]:
    return checks.tracing_problems(resources, stages["triton"].exec_form("CMD"))


def test_triton_sampling_by_itself_or_exporting_elsewhere_is_caught(rendered, stages) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    args = _triton_container(checks.one(resources, "Deployment", "triton"))["args"]
    args[args.index("--trace-config=rate=0")] = "--trace-config=rate=1"
    (problem,) = _trace_problems(resources, stages)
    assert "--trace-config=rate=1" in problem and "should be the trace flags" in problem
    resources = copy.deepcopy(rendered["gpu"])
    args = _triton_container(checks.one(resources, "Deployment", "triton"))["args"]
    (url,) = [i for i, a in enumerate(args) if a.startswith("--trace-config=opentelemetry,url=")]
    args[url] = "--trace-config=opentelemetry,url=http://localhost:4318/v1/traces"
    assert len(_trace_problems(resources, stages)) == 1


def test_tracing_shipped_on_or_without_a_collector_is_caught(rendered, stages) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    config_map = next(r for r in checks.by_kind(resources, "ConfigMap") if "pitchside.toml" in r.get("data", {}))
    text = config_map["data"]["pitchside.toml"]
    config_map["data"]["pitchside.toml"] = text.replace("enabled = false", "enabled = true")
    assert _trace_problems(resources, stages) == [
        "[tracing] enabled = true: tracing must be off by default (turn it on to investigate)"
    ]
    config_map["data"]["pitchside.toml"] = text.replace("sample_ratio = 0.01", "sample_ratio = 5")
    (problem,) = _trace_problems(resources, stages)
    assert "sample_ratio must be within 0..1" in problem


def test_a_policy_that_blocks_the_collector_is_caught(rendered, stages) -> None:
    resources = copy.deepcopy(rendered["gpu"])
    policy = checks.one(resources, "NetworkPolicy", "triton")
    policy["spec"]["egress"] = [r for r in policy["spec"]["egress"] if {p["port"] for p in r["ports"]} != {4318}]
    assert _trace_problems(resources, stages) == [
        "NetworkPolicy/triton: no egress to the collector (monitoring port 4318)"
    ]

"""The Grafana dashboard and the PrometheusRule: provisioned by kustomize, valid, complete, each alert with a
runbook entry, and the rules pass promtool. tests/integration/test_metrics_scrape.py finds every metric they
use in real scrapes."""

import json
import os

import pytest

from orchestrator.cli.logs import LogFormat
from tests.deploy import checks, observability

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def monitoring() -> list[checks.Resource]:
    return checks.render(observability.MONITORING_DIR)


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return observability.load_dashboard()


@pytest.fixture(scope="module")
def rule(monitoring) -> checks.Resource:
    return checks.one(monitoring, "PrometheusRule", "pitchside")


def test_monitoring_renders_a_dashboard_config_map_and_the_rules_and_both_validate(monitoring, dashboard) -> None:
    assert sorted(checks.name_of(r) for r in monitoring) == [
        "ConfigMap/pitchside-dashboard",
        "PrometheusRule/pitchside",
    ]
    assert [p for r in monitoring for p in checks.schema_problems(r)] == []
    config_map = checks.one(monitoring, "ConfigMap", "pitchside-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["pitchside.json"]) == dashboard
    assert {r["metadata"]["namespace"] for r in monitoring} == {"monitoring"}


def test_the_rules_are_loaded_by_the_same_prometheus_release_as_the_pod_monitors(rendered, rule) -> None:
    monitors = checks.by_kind(rendered["gpu"], "PodMonitor")
    assert {m["metadata"]["labels"]["release"] for m in monitors} == {rule["metadata"]["labels"]["release"]}


def test_the_dashboard_shows_every_signal_the_issue_asks_for(dashboard) -> None:
    exprs = observability.dashboard_queries(dashboard)

    def shown(*fragments: str) -> bool:
        return any(all(f in e for f in fragments) for e in exprs)

    assert shown("histogram_quantile(0.5", "glass_to_event", "by (stream, le)")
    assert shown("histogram_quantile(0.99", "glass_to_event", "by (stream, le)")
    assert shown("pitchside_frames_dropped_total", "by (reason)")
    assert shown("pitchside_sink_lag_seconds", "by (sink)")
    assert shown("pitchside_sink_journal_segments", "by (sink)")
    assert shown("pitchside_sink_dead_lettered_total")
    assert shown("nv_inference_queue_duration_us", "by (model)")
    assert shown("nv_inference_compute_infer_duration_us", "by (model)")
    assert shown("nv_inference_count", "nv_inference_exec_count", "by (model)")
    assert shown("DCGM_FI_DEV_GPU_UTIL") and shown("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE")


def test_every_panel_has_a_unique_id_and_reads_the_chosen_datasource(dashboard) -> None:
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels if p["type"] != "row")


@pytest.fixture(scope="module")
def promtool() -> None:
    if observability.promtool_binary() is None:
        message = "promtool is not installed: bash scripts/bootstrap.sh .venv (Debian's prometheus package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_the_rules_pass_promtool(rule, promtool, tmp_path) -> None:
    assert observability.promtool_check_rules(rule, tmp_path) == []


def test_the_alerts_fire_when_and_as_their_unit_tests_say(rule, promtool, tmp_path) -> None:
    assert observability.promtool_test_rules(rule, tmp_path) == []


def test_every_alert_has_a_runbook_section_severity_and_summary(rule) -> None:
    assert len(observability.alerts(rule)) >= 10
    assert observability.runbook_problems(rule, observability.RUNBOOK.read_text()) == []


def test_only_dcgm_metrics_are_exempt_from_the_scrape_and_each_is_used(dashboard, rule) -> None:
    used = observability.dashboard_metrics(dashboard) | observability.rule_metrics(rule)
    assert all(name.startswith("DCGM_FI_") for name in observability.GPU_NODE_ONLY)
    assert used >= observability.GPU_NODE_ONLY


def test_orchestrator_pods_log_json(rendered) -> None:
    for resources in rendered.values():
        container = checks.PodOwner(checks.one(resources, "StatefulSet", "orchestrator")).container("orchestrator")
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert LogFormat(env["PITCHSIDE_LOG_FORMAT"]) is LogFormat.JSON

"""The dashboard and the alert rules: which metrics they read, and promtool's verdict on the rules.

Each function returns data or a list of problems, like :mod:`tests.deploy.checks`, so that the tests can run it
on the shipped files and on broken copies.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

import yaml

from tests.deploy import checks

MONITORING_DIR: Final = checks.K8S_DIR / "monitoring"
DASHBOARD: Final = MONITORING_DIR / "dashboards" / "pitchside.json"
RULES: Final = MONITORING_DIR / "prometheusrule.yaml"
RUNBOOK: Final = checks.PROJECT_ROOT / "docs" / "RUNBOOK.md"

GPU_NODE_ONLY: Final = frozenset({"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"})
"""Metrics the dashboard and alerts read that no scrape here can show: NVIDIA's DCGM exporter publishes them
only on a node with a GPU (the DaemonSet of the GPU operator or the dcgm-exporter chart). Every other metric
must appear in a real scrape of the orchestrator or Triton; only DCGM names (DCGM_FI_*) may be listed here."""

_KEYWORDS: Final = frozenset(
    {
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
    }
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_SAMPLE_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_VALUES = re.compile(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, labels and grouping left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    """Every panel target's expression, nested rows included."""
    exprs: list[str] = []
    for panel in dashboard.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            exprs += [t["expr"] for t in inner.get("targets", []) if t.get("expr")]
    return exprs


def dashboard_metrics(dashboard: dict[str, Any]) -> set[str]:
    names = {name for expr in dashboard_queries(dashboard) for name in metric_names(expr)}
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        names |= set(_LABEL_VALUES.findall(text)) if variable.get("type") == "query" else set()
    return names


def rule_groups(rule: checks.Resource) -> list[dict[str, Any]]:
    return list(rule["spec"]["groups"])


def alerts(rule: checks.Resource) -> list[dict[str, Any]]:
    return [r for group in rule_groups(rule) for r in group["rules"] if "alert" in r]


def rule_metrics(rule: checks.Resource) -> set[str]:
    return {name for group in rule_groups(rule) for r in group["rules"] for name in metric_names(str(r["expr"]))}


def load_dashboard(path: Path = DASHBOARD) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def load_rule(path: Path = RULES) -> checks.Resource:
    return dict(yaml.safe_load(path.read_text()))


def promtool_binary() -> str | None:
    return shutil.which("promtool")


def promtool_check_rules(rule: checks.Resource, scratch: Path) -> list[str]:
    """``promtool check rules`` on the PrometheusRule's groups (the file format Prometheus itself loads)."""
    binary = promtool_binary()
    if binary is None:
        return ["promtool is not installed (bash scripts/bootstrap.sh installs Debian's prometheus package)"]
    path = scratch / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(rule)}, sort_keys=False))
    result = subprocess.run([binary, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    return [] if result.returncode == 0 else (result.stdout + result.stderr).strip().splitlines()


ALERT_TESTS: Final = Path(__file__).resolve().parent / "alert_tests.yaml"


def promtool_test_rules(rule: checks.Resource, scratch: Path, tests: Path = ALERT_TESTS) -> list[str]:
    """``promtool test rules``: the unit tests in ``tests`` against the PrometheusRule's groups."""
    binary = promtool_binary()
    if binary is None:
        return ["promtool is not installed (bash scripts/bootstrap.sh installs Debian's prometheus package)"]
    (scratch / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(rule)}, sort_keys=False))
    shutil.copy(tests, scratch / tests.name)
    result = subprocess.run(
        [binary, "test", "rules", tests.name], cwd=scratch, capture_output=True, text=True, check=False
    )
    return [] if result.returncode == 0 else (result.stdout + result.stderr).strip().splitlines()


def runbook_problems(rule: checks.Resource, runbook: str) -> list[str]:
    """Every alert has a severity, a summary and a runbook_url naming a section of docs/RUNBOOK.md."""
    anchors = {_anchor(line) for line in runbook.splitlines() if line.startswith("## ")}
    problems = []
    for alert in alerts(rule):
        name, annotations = alert["alert"], alert.get("annotations", {})
        url = annotations.get("runbook_url", "")
        if url != f"docs/RUNBOOK.md#{name.lower()}" or name.lower() not in anchors:
            problems.append(f"{name}: runbook_url {url!r} is not a section '## {name}' of docs/RUNBOOK.md")
        if "severity" not in alert.get("labels", {}) or "summary" not in annotations:
            problems.append(f"{name}: needs a severity label and a summary annotation")
    return problems


def _anchor(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def scrape_problems(used: set[str], scraped: set[str]) -> list[str]:
    """Every metric the dashboard or alerts use is in the scrape, or is a GPU-node-only DCGM metric."""
    problems = [
        f"{name}: listed as GPU-node-only but is no DCGM metric"
        for name in sorted(GPU_NODE_ONLY)
        if not name.startswith("DCGM_FI_")
    ]
    problems += [f"{name}: used but in no scrape" for name in sorted(used - scraped - GPU_NODE_ONLY)]
    return problems


def sample_names(exposition: str) -> set[str]:
    """The series names in a Prometheus text exposition, exactly as Prometheus stores them (``_bucket``,
    ``_total``... included; a counter without ``_total``, like Triton's, stays without it)."""
    return {
        match.group(0)
        for line in exposition.splitlines()
        if not line.startswith("#") and (match := _SAMPLE_NAME.match(line))
    }

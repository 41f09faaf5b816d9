"""Hardening: no API tokens, a NetworkPolicy for every workload, and checkov clean with a commented skip list."""

import os
import shutil
from pathlib import Path

import pytest

from tests.deploy import checks

pytestmark = pytest.mark.deploy

OVERLAYS = [overlay.name for overlay in checks.overlays()]
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def checkov_available() -> None:
    if checks.checkov_binary() is None:
        message = "checkov is not installed: bash scripts/bootstrap.sh .venv"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_mounts_a_service_account_token(rendered, overlay) -> None:
    assert checks.token_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_default_deny_and_a_network_policy_for_every_workload(rendered, overlay) -> None:
    assert checks.network_policy_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_orchestrators_are_scraped_only_from_monitoring_and_never_reach_instance_metadata(rendered, overlay) -> None:
    policy = checks.one(rendered[overlay], "NetworkPolicy", "orchestrator")
    (ingress,) = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    blocks = [peer["ipBlock"] for rule in policy["spec"]["egress"] for peer in rule.get("to", []) if "ipBlock" in peer]
    assert blocks and all("169.254.169.254/32" in b.get("except", []) for b in blocks)


def test_every_checkov_skip_says_why() -> None:
    skips = checks.checkov_skips()
    assert skips, "the skip list is empty: drop the config's skip-check or this test"
    assert {check: len(why) > 40 for check, why in skips.items()} == dict.fromkeys(skips, True)


def test_checkov_passes_every_overlay_with_the_skip_list(rendered, checkov_available, tmp_path) -> None:
    assert checks.checkov(rendered, tmp_path, config=checks.CHECKOV_CONFIG) == []


def test_every_skip_is_still_needed(rendered, checkov_available, tmp_path) -> None:
    fired = {finding.split()[0] for finding in checks.checkov(rendered, tmp_path, config=None)}
    assert fired == set(checks.checkov_skips())


def test_a_release_render_pins_images_by_digest_and_passes_checkov_without_that_skip(
    checkov_available, tmp_path
) -> None:
    release = _release_copy(tmp_path)
    resources = checks.render(release / "overlays" / "gpu")
    assert checks.digest_problems(resources) == []
    assert checks.image_problems(resources, checks.parse_dockerfile(checks.DOCKERFILE.read_text())[1]) == []
    config = tmp_path / "release-checkov.yaml"
    config.write_text(checks.CHECKOV_CONFIG.read_text().replace("  - CKV_K8S_43\n", ""))
    scratch = tmp_path / "scan"
    scratch.mkdir()
    assert checks.checkov({"gpu": resources}, scratch, config=config) == []


def _release_copy(tmp_path: Path) -> Path:
    """What the release step does: `kustomize edit set image NAME=NEWNAME:TAG@DIGEST` for every image."""
    target = tmp_path / "k8s"
    shutil.copytree(checks.K8S_DIR, target)
    kustomization = target / "overlays" / "gpu" / "kustomization.yaml"
    text = kustomization.read_text()
    images = text.count("  - name: pitchside/")
    assert images >= 2 and text.count("    newTag: 0.1.0\n") == images
    kustomization.write_text(text.replace("    newTag: 0.1.0\n", f"    newTag: 0.1.0\n    digest: {DIGEST}\n"))
    return target

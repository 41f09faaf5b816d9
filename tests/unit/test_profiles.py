"""GPU profile rendered from the one repository: only the detector changes, and the result checks clean."""

import filecmp
from pathlib import Path

import pytest
from tritonclient.grpc import model_config_pb2 as pb
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.repository.check import check_repository
from orchestrator.repository.model_config import load_repository
from orchestrator.repository.profiles import (
    GPU_MAX_BATCH,
    GPU_PREFERRED_BATCHES,
    PLAN_FILE,
    GpuSettings,
    Profile,
    plan_filename,
    render,
)


def test_gpu_profile_serves_per_architecture_plans_tuned_for_the_gpu(model_repository: Path, tmp_path: Path) -> None:
    plans = {"": tmp_path / "any.plan", "9.0": tmp_path / "h100.plan", "8.9": tmp_path / "l4.plan"}
    for name, plan in plans.items():
        plan.write_bytes(f"engine {name}".encode())
    out = tmp_path / "gpu"
    render(model_repository, Profile.GPU, out, plans, GpuSettings(cpu_instances=3))

    source, rendered = load_repository(model_repository), load_repository(out)
    detector = rendered["detector"].config
    assert detector.platform == "tensorrt_plan" and not detector.backend
    assert detector.default_model_filename == PLAN_FILE
    assert dict(detector.cc_model_filenames) == {"8.9": "model.sm89.plan", "9.0": "model.sm90.plan"}
    assert (out / "detector" / "1" / "model.sm90.plan").read_bytes() == b"engine 9.0"
    assert (out / "detector" / "1" / PLAN_FILE).read_bytes() == b"engine "
    assert detector.max_batch_size == GPU_MAX_BATCH >= 64
    assert list(detector.dynamic_batching.preferred_batch_size) == list(GPU_PREFERRED_BATCHES)
    assert detector.dynamic_batching.default_queue_policy.allow_timeout_override
    assert detector.dynamic_batching.default_queue_policy.timeout_action == pb.ModelQueuePolicy.REJECT
    assert [(g.kind, g.count) for g in detector.instance_group] == [(pb.ModelInstanceGroup.KIND_GPU, 2)]
    assert detector.optimization.cuda.graphs
    assert [g.batch_size for g in detector.optimization.cuda.graph_spec] == list(GPU_PREFERRED_BATCHES)
    assert not {"onnx_file", "source_onnx", "intra_op_threads"} & set(detector.parameters)
    assert list(detector.input) == list(source["detector"].config.input)
    assert list(detector.output) == list(source["detector"].config.output)
    labelled = {o.name: o.label_filename for o in detector.output if o.label_filename}
    assert labelled == {"CLASS_SCORES": "labels.txt"}, "the plans serve the class names as the CPU profile does"
    assert filecmp.cmp(out / "detector" / "labels.txt", model_repository / "detector" / "labels.txt", shallow=False)
    assert not (out / "detector" / "1" / "model.py").exists() and not (out / "detector" / "source.onnx").exists()
    served = model_repository / "detector" / "1" / "model.onnx"
    assert filecmp.cmp(out / "detector" / "1" / "model.onnx", served, shallow=False), "rollout's reference graph"
    assert [(g.kind, g.count) for g in rendered["preprocess"].config.instance_group] == [
        (pb.ModelInstanceGroup.KIND_CPU, 3)
    ]
    assert rendered["detection"].config == source["detection"].config
    assert check_repository(out) == []


def test_gpu_profile_without_plan_reports_the_missing_engine(model_repository: Path, tmp_path: Path) -> None:
    render(model_repository, Profile.GPU, tmp_path / "gpu")
    assert [str(p) for p in check_repository(tmp_path / "gpu")] == [
        "detector: default_model_filename: 1/model.plan is missing"
    ]


@pytest.mark.parametrize("bad", [{"max_batch": 8, "preferred_batches": (16,)}, {"detector_instances": 0}])
def test_gpu_settings_refuse_what_triton_would(bad: dict) -> None:
    with pytest.raises(ValueError):
        GpuSettings(**bad)


def test_plan_names_follow_the_compute_capability() -> None:
    assert plan_filename("9.0") == "model.sm90.plan"
    with pytest.raises(ValueError, match=r"8\.9"):
        plan_filename("sm89")


def test_cpu_profile_is_the_repository_itself(model_repository: Path, tmp_path: Path) -> None:
    render(model_repository, Profile.CPU, tmp_path / "cpu")
    compare = filecmp.dircmp(model_repository / "detector", tmp_path / "cpu" / "detector", ignore=["__pycache__"])
    assert not compare.left_only and not compare.diff_files


def test_render_refuses_a_non_empty_target(model_repository: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        render(model_repository, Profile.GPU, tmp_path)


def test_render_cli(model_repository: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["repo", "render", "--profile", "gpu", "--out", str(tmp_path / "gpu"),
                                      "--max-batch", "32", "--no-cuda-graphs"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "model.plan is missing" in result.output
    detector = load_repository(tmp_path / "gpu")["detector"].config
    assert (detector.platform, detector.max_batch_size) == ("tensorrt_plan", 32)
    assert list(detector.dynamic_batching.preferred_batch_size) == [8, 16, 32]
    assert not detector.optimization.cuda.graphs
    missing = CliRunner().invoke(app, ["repo", "render", "--out", str(tmp_path / "g2"), "--plan", "9.0=nowhere"])
    assert missing.exit_code == 1 and "nowhere is not a file" in missing.output

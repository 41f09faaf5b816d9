"""TensorRT builds and the parity check, up to the point TensorRT is needed: the exact command lines rendered from
the served graph, the errors without the tools, and the CLI that drives them (fake tools stand in for a run)."""

import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.modelstore import frames_loader
from orchestrator.modelstore.calibration_frames import LOADER_FILE
from orchestrator.modelstore.plan_build import PlanOptions, plan_parity
from orchestrator.repository.tensorrt import (
    Builder,
    Calibration,
    ConversionError,
    ParityCheck,
    TensorRtBuild,
    TensorRtUnavailableError,
    check_parity,
    convert,
    parity_commands,
    polygraphy_convert_command,
    trtexec_command,
)

SHAPES_1 = "images:1x416x416x3,LETTERBOX:1x5"


@pytest.fixture(scope="module")
def onnx(model_repository: Path) -> Path:
    return model_repository / "detector" / "1" / "model.onnx"


def _fake_tool(directory: Path, name: str, script: str) -> Path:
    """A stand-in for a TensorRT tool on PATH that logs its arguments one per line to ``<name>.args``."""
    directory.mkdir(parents=True, exist_ok=True)
    tool = directory / name
    tool.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{directory / name}.args"\n{script}\n')
    tool.chmod(0o755)
    return tool


def _only_on_path(monkeypatch: pytest.MonkeyPatch, directory: Path, system: bool = False) -> None:
    """PATH is ``directory`` (the fake tools), and with ``system`` the system's own (cp, dirname) after it."""
    directory.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("PATH", f"{directory}:/usr/bin:/bin" if system else str(directory))


# ---- trtexec -----------------------------------------------------------------------------------------------


def test_trtexec_command_covers_the_batch_range(onnx: Path, tmp_path: Path) -> None:
    command = trtexec_command(TensorRtBuild(onnx, tmp_path / "model.plan", max_batch=16, opt_batch=4))
    assert command == [
        "trtexec", f"--onnx={onnx}", f"--saveEngine={tmp_path / 'model.plan'}", f"--minShapes={SHAPES_1}",
        "--optShapes=images:4x416x416x3,LETTERBOX:4x5", "--maxShapes=images:16x416x416x3,LETTERBOX:16x5",
        "--memPoolSize=workspace:2048M", "--fp16",
    ]  # fmt: skip


def test_trtexec_command_with_a_timing_cache_and_int8_from_a_calibration_cache(onnx: Path, tmp_path: Path) -> None:
    build = TensorRtBuild(onnx, tmp_path / "p", 64, 32, timing_cache=tmp_path / "t.cache",
                          int8=Calibration(tmp_path / "calib.cache"))  # fmt: skip
    assert trtexec_command(build)[-4:] == [
        f"--timingCacheFile={tmp_path / 't.cache'}",
        "--fp16",
        "--int8",
        f"--calib={tmp_path / 'calib.cache'}",
    ]
    assert "--fp16" not in trtexec_command(TensorRtBuild(onnx, tmp_path / "p", 64, 32, fp16=False))


def test_trtexec_cannot_calibrate_on_frames_and_opt_batch_must_fit(onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trtexec cannot calibrate from frames"):
        TensorRtBuild(onnx, tmp_path / "p", 64, 32, int8=Calibration(tmp_path / "c", tmp_path / "load.py"))
    with pytest.raises(ValueError, match=r"opt batch 65 must lie within 1\.\.64"):
        TensorRtBuild(onnx, tmp_path / "p", 64, 65)


# ---- polygraphy convert ------------------------------------------------------------------------------------


def test_polygraphy_convert_command_for_an_int8_build_calibrated_on_frames(onnx: Path, tmp_path: Path) -> None:
    loader = tmp_path / "calibration" / LOADER_FILE
    build = TensorRtBuild(onnx, tmp_path / "model.plan", 64, 32, timing_cache=tmp_path / "t.cache",
                          int8=Calibration(tmp_path / "c.cache", loader), builder=Builder.POLYGRAPHY)  # fmt: skip
    assert polygraphy_convert_command(build) == [
        "polygraphy", "convert", str(onnx), "--convert-to", "trt", "-o", str(tmp_path / "model.plan"),
        "--trt-min-shapes", "images:[1,416,416,3]", "LETTERBOX:[1,5]",
        "--trt-opt-shapes", "images:[32,416,416,3]", "LETTERBOX:[32,5]",
        "--trt-max-shapes", "images:[64,416,416,3]", "LETTERBOX:[64,5]",
        "--pool-limit", "workspace:2048M",
        "--load-timing-cache", str(tmp_path / "t.cache"), "--save-timing-cache", str(tmp_path / "t.cache"),
        "--fp16", "--int8", "--calibration-cache", str(tmp_path / "c.cache"),
        "--data-loader-script", f"{loader}:load_data",
    ]  # fmt: skip


# ---- running the tools -------------------------------------------------------------------------------------


def test_convert_without_trtexec_says_tensorrt_is_missing_and_where_to_run(onnx: Path, tmp_path: Path, monkeypatch):
    _only_on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(TensorRtUnavailableError, match=r"trtexec not found on PATH \(TensorRT is not installed"):
        convert(TensorRtBuild(onnx, tmp_path / "m.plan", 8, 4))
    with pytest.raises(TensorRtUnavailableError, match=r"polygraphy not found.*tensorrt:24\.10-py3"):
        convert(TensorRtBuild(onnx, tmp_path / "m.plan", 8, 4, builder=Builder.POLYGRAPHY))
    assert not (tmp_path / "m.plan").exists()


def test_convert_reports_the_tools_failure_and_leaves_no_plan(onnx: Path, tmp_path: Path, monkeypatch) -> None:
    _fake_tool(tmp_path / "bin", "trtexec", "echo '[E] unsupported operator' >&2\nexit 3")
    _only_on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(ConversionError, match=r"code 3:\n\[E\] unsupported operator"):
        convert(TensorRtBuild(onnx, tmp_path / "m.plan", 8, 4))
    assert list(tmp_path.glob("m.plan*")) == []


def test_convert_writes_the_plan_through_a_partial_file(onnx: Path, tmp_path: Path, monkeypatch) -> None:
    write = 'for a in "$@"; do case "$a" in --saveEngine=*) echo plan > "${a#--saveEngine=}";; esac; done'
    _fake_tool(tmp_path / "bin", "trtexec", write)
    _only_on_path(monkeypatch, tmp_path / "bin")
    convert(TensorRtBuild(onnx, tmp_path / "out" / "m.plan", 8, 4))
    assert (tmp_path / "out" / "m.plan").read_text() == "plan\n"
    logged = (tmp_path / "bin" / "trtexec.args").read_text().splitlines()
    assert f"--saveEngine={tmp_path / 'out' / 'm.plan.partial'}" in logged


def test_a_tool_that_exits_0_without_a_plan_is_a_failure(onnx: Path, tmp_path: Path, monkeypatch) -> None:
    _fake_tool(tmp_path / "bin", "trtexec", "exit 0")
    _only_on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(ConversionError, match="wrote no plan"):
        convert(TensorRtBuild(onnx, tmp_path / "m.plan", 8, 4))


# ---- parity ------------------------------------------------------------------------------------------------


def test_parity_runs_the_graph_under_onnx_runtime_then_the_plan_under_tensorrt(onnx: Path, tmp_path: Path) -> None:
    check = ParityCheck(onnx, tmp_path / "m.plan", tmp_path / "load.py", tmp_path / "ort.json")
    reference, compare = parity_commands(check)
    data = ["--data-loader-script", f"{tmp_path / 'load.py'}:load_data"]
    assert reference == [
        "polygraphy",
        "run",
        str(onnx),
        "--onnxrt",
        *data,
        "--save-outputs",
        str(tmp_path / "ort.json"),
    ]
    assert compare == [
        "polygraphy", "run", str(tmp_path / "m.plan"), "--model-type", "engine", "--trt", *data,
        "--load-outputs", str(tmp_path / "ort.json"),
        "--atol", "0.02", "DETECTIONS:0.1", "NUM_DETECTIONS:2",
        "--rtol", "0", "DETECTIONS:0", "NUM_DETECTIONS:0",
        "--check-error-stat", "max", "DETECTIONS:mean", "NUM_DETECTIONS:max",
    ]  # fmt: skip


def test_parity_out_of_tolerance_is_a_failure_with_polygraphys_report(onnx: Path, tmp_path: Path, monkeypatch):
    _fake_tool(tmp_path / "bin", "polygraphy", 'case "$*" in *--trt*) echo "FAILED | DETECTIONS" >&2; exit 1;; esac')
    _only_on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(ConversionError, match=re.escape("FAILED | DETECTIONS")):
        check_parity(ParityCheck(onnx, tmp_path / "m.plan", tmp_path / "load.py", tmp_path / "ort.json"))


def test_plan_parity_feeds_the_letterboxed_golden_frames_and_reports(onnx: Path, tmp_path: Path, monkeypatch):
    keep = tmp_path / "seen"
    # The fake polygraphy keeps what the loader script would feed, by running it as polygraphy would.
    script = f'for a in "$@"; do case "$a" in *:load_data) cp "$(dirname "${{a%:load_data}}")"/* "{keep}/";; esac; done'
    keep.mkdir()
    _fake_tool(tmp_path / "bin", "polygraphy", script)
    _only_on_path(monkeypatch, tmp_path / "bin", system=True)
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"plan")
    golden = tmp_path / "golden"
    golden.mkdir()
    shutil.copyfile(Path(__file__).parents[2] / "media" / "basketball1.png", golden / "a.png")
    result = plan_parity(onnx, plan, golden)
    assert result["checked"] is True and result["passed"] is True and result["frames"] == 1
    assert shlex.split(result["commands"][1])[:4] == ["polygraphy", "run", str(plan), "--model-type"]
    (feed,) = frames_loader.load_data(keep / frames_loader.FRAMES_FILE)
    assert feed["images"].shape == (1, 416, 416, 3) and feed["images"].dtype == np.uint8
    assert feed["LETTERBOX"].shape == (1, 5) and feed["LETTERBOX"].dtype == np.float32


def test_plan_parity_without_polygraphy_says_so(onnx: Path, tmp_path: Path, monkeypatch) -> None:
    _only_on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(TensorRtUnavailableError, match="polygraphy not found"):
        plan_parity(onnx, tmp_path / "m.plan", None)


# ---- model build --profile gpu options ---------------------------------------------------------------------


def test_int8_picks_polygraphy_to_calibrate_on_frames_and_trtexec_for_a_cache(onnx: Path, tmp_path: Path) -> None:
    frames = PlanOptions(tmp_path / "sm86" / "model.plan", int8=True, calibration_frames=tmp_path).build(onnx)
    assert frames.builder is Builder.POLYGRAPHY
    assert frames.int8 == Calibration(tmp_path / "sm86" / "model.calibration.cache",
                                      tmp_path / "sm86" / "calibration" / LOADER_FILE)  # fmt: skip
    (tmp_path / "c.cache").write_bytes(b"cache")
    cached = PlanOptions(tmp_path / "p.plan", int8=True, calibration_cache=tmp_path / "c.cache").build(onnx)
    assert cached.builder is Builder.TRTEXEC and cached.int8 == Calibration(tmp_path / "c.cache")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"int8": True}, "--int8 needs --calibration-frames DIR"),
        ({"calibration_frames": Path(".")}, "are for an --int8 build"),
        ({"int8": True, "calibration_cache": Path("missing.cache")}, "calibration cache missing.cache does not exist"),
        ({"int8": True, "calibration_frames": Path("."), "builder": Builder.TRTEXEC}, "trtexec cannot calibrate"),
    ],
)
def test_options_that_do_not_go_together_are_refused(onnx: Path, tmp_path: Path, options, message) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        PlanOptions(tmp_path / "p.plan", **options).build(onnx)


@pytest.fixture
def repository(model_repository: Path, tmp_path: Path) -> Path:
    """A copy of the detector to build into (model build writes the served graph)."""
    shutil.copytree(model_repository / "detector", tmp_path / "repo" / "detector")
    return tmp_path / "repo"


def test_cli_gpu_dry_run_prints_the_exact_command(repository: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plans" / "sm86" / "model.plan"
    result = CliRunner().invoke(app, [
        "model", "build", "--repository", str(repository), "--profile", "gpu", "--plan", str(plan),
        "--timing-cache", str(tmp_path / "sm86.cache"), "--dry-run",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    command = shlex.split(result.output.splitlines()[0])
    onnx = repository / "detector" / "1" / "model.onnx"
    assert command == trtexec_command(TensorRtBuild(onnx, plan, 64, 32, timing_cache=tmp_path / "sm86.cache"))
    assert not plan.exists()


def test_cli_gpu_build_without_tensorrt_fails_with_one_clear_line(repository: Path, tmp_path: Path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, ["model", "build", "--repository", str(repository), "--profile", "gpu",
                                 "--plan", str(tmp_path / "model.plan")])  # fmt: skip
    assert result.exit_code == 1
    assert "error: trtexec not found on PATH (TensorRT is not installed here)" in result.output


def test_cli_int8_on_frames_writes_the_letterboxed_frames_for_polygraphy(repository: Path, tmp_path: Path, monkeypatch):
    write = 'while [ "$#" -gt 0 ]; do [ "$1" = -o ] && echo plan > "$2"; shift; done'
    _fake_tool(tmp_path / "bin", "polygraphy", write)
    _only_on_path(monkeypatch, tmp_path / "bin")
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in ("basketball1.png", "astronaut.png"):
        shutil.copyfile(Path(__file__).parents[2] / "media" / name, frames / name)
    plan = tmp_path / "plans" / "model.plan"
    result = CliRunner().invoke(app, [
        "model", "build", "--repository", str(repository), "--profile", "gpu", "--plan", str(plan),
        "--int8", "--calibration-frames", str(frames), "--opt-batch", "4",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert plan.read_text() == "plan\n" and f"wrote {plan} with polygraphy" in result.output
    batches = list(frames_loader.load_data(plan.parent / "calibration" / frames_loader.FRAMES_FILE))
    assert [b["images"].shape for b in batches] == [(4, 416, 416, 3)]
    logged = (tmp_path / "bin" / "polygraphy.args").read_text().splitlines()
    assert f"{plan.parent / 'calibration' / LOADER_FILE}:load_data" in logged


def test_cli_validate_with_a_plan_out_of_tolerance_fails_and_says_so_in_the_report(
    repository: Path, tmp_path: Path, monkeypatch
) -> None:
    _fake_tool(tmp_path / "bin", "polygraphy", 'case "$*" in *--trt*) echo "FAILED | DETECTIONS" >&2; exit 1;; esac')
    golden = tmp_path / "golden"
    golden.mkdir()
    shutil.copyfile(Path(__file__).parents[2] / "media" / "basketball1.png", golden / "a.png")
    plan = tmp_path / "model.plan"
    plan.write_bytes(b"plan")
    runner = CliRunner()
    assert runner.invoke(app, ["model", "build", "--repository", str(repository)]).exit_code == 0
    _only_on_path(monkeypatch, tmp_path / "bin", system=True)
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["model", "validate", "--repository", str(repository), "--golden", str(golden),
                                 "--plan", str(plan), "--json", str(report)])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "parity with ONNX Runtime OUT OF tolerance" in result.output
    written = json.loads(report.read_text())
    assert written["passed"] is False and written["gate"]["passed"] is True
    assert written["tensorrt_parity"]["checked"] is True and written["tensorrt_parity"]["passed"] is False
    assert "FAILED | DETECTIONS" in written["tensorrt_parity"]["why"]


def test_cli_tensorrt_options_without_the_gpu_profile_are_refused(repository: Path) -> None:
    result = CliRunner().invoke(app, ["model", "build", "--repository", str(repository), "--int8"])
    assert result.exit_code == 2
    assert "are for --profile gpu" in result.output

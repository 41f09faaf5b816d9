"""repo check and TensorRT plans: compared with the config where TensorRT can read them, named where it cannot.

TensorRT is not installable on the CI machine; the comparison is exercised with a stand-in ``tensorrt`` module that
answers the engine-inspection calls TensorRT 10 offers (num_io_tensors, get_tensor_name/mode/dtype/shape).
"""

import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.repository.check import check_repository, unverified_plans
from orchestrator.repository.profiles import Profile, render


class _Enum:
    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"DataType.{self.name}"


def fake_tensorrt(io: list[tuple[str, bool, str, tuple[int, ...]]], loads: bool = True) -> types.ModuleType:
    module = types.ModuleType("tensorrt")
    module.__version__ = "10.5.0"  # type: ignore[attr-defined]
    module.TensorIOMode = types.SimpleNamespace(INPUT="in", OUTPUT="out")  # type: ignore[attr-defined]
    module.Logger = type("Logger", (), {"ERROR": 0, "__init__": lambda self, level: None})  # type: ignore[attr-defined]

    class Engine:
        num_io_tensors = len(io)

        def get_tensor_name(self, i: int) -> str:
            return io[i][0]

        def get_tensor_mode(self, name: str) -> str:
            return "in" if next(t for t in io if t[0] == name)[1] else "out"

        def get_tensor_dtype(self, name: str) -> _Enum:
            return _Enum(next(t for t in io if t[0] == name)[2])

        def get_tensor_shape(self, name: str) -> tuple[int, ...]:
            return next(t for t in io if t[0] == name)[3]

    class Runtime:
        def __init__(self, logger: object) -> None: ...

        def deserialize_cuda_engine(self, data: bytes) -> Engine | None:
            return Engine() if loads else None

    module.Runtime = Runtime  # type: ignore[attr-defined]
    return module


SERVED = [("images", True, "UINT8", (-1, 416, 416, 3)), ("LETTERBOX", True, "FLOAT", (-1, 5)),
          ("DETECTIONS", False, "FLOAT", (-1, 300, 6)), ("NUM_DETECTIONS", False, "INT32", (-1, 1)),
          ("CLASS_SCORES", False, "FLOAT", (-1, 80))]  # fmt: skip


@pytest.fixture
def gpu_repository(model_repository: Path, tmp_path: Path) -> Path:
    plan = tmp_path / "engine.plan"
    plan.write_bytes(b"engine")
    render(model_repository, Profile.GPU, tmp_path / "gpu", {"": plan, "9.0": plan})
    return tmp_path / "gpu"


def test_without_tensorrt_plans_are_named_as_unchecked(gpu_repository: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import fails as on the CI machine
    assert check_repository(gpu_repository) == []
    assert unverified_plans(gpu_repository) == [
        "detector/1/model.plan: inputs and outputs not checked: TensorRT is not importable here",
        "detector/1/model.sm90.plan: inputs and outputs not checked: TensorRT is not importable here",
    ]
    result = CliRunner().invoke(app, ["repo", "check", str(gpu_repository)])
    assert result.exit_code == 0 and "note: detector/1/model.plan: inputs and outputs not checked" in result.output


def test_a_plan_matching_its_config_passes(gpu_repository: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt(SERVED))
    assert check_repository(gpu_repository) == [] and unverified_plans(gpu_repository) == []


def test_a_plan_built_from_another_graph_is_a_problem(gpu_repository: Path, monkeypatch) -> None:
    old_graph = [("images", True, "FLOAT", (-1, 3, 416, 416)), ("output0", False, "FLOAT", (-1, 84, 3549))]
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt(old_graph))
    problems = [str(p) for p in check_repository(gpu_repository)]
    assert any("detector (1/model.plan): input[images]: dtype mismatch" in p for p in problems), problems
    assert any("detector (1/model.sm90.plan): input[LETTERBOX]: the plan has no input" in p for p in problems)
    assert any("the plan has output 'output0', the config does not declare it" in p for p in problems), problems


def test_a_plan_this_gpu_cannot_load_is_named(gpu_repository: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt(SERVED, loads=False))
    assert check_repository(gpu_repository) == []
    assert all("built for another GPU or version" in note for note in unverified_plans(gpu_repository))

"""The Dockerfile lints clean and builds what the models need (it is linted and checked here, not built)."""

import ast
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from orchestrator.triton.embedded import MAX_IMAGE_PIXELS
from tests.deploy import checks

pytestmark = pytest.mark.deploy

DOCKER_DIR = checks.PROJECT_ROOT / "docker"
MODEL_REPOSITORY = checks.PROJECT_ROOT / "model_repository"
FINAL_TARGETS = ("orchestrator", "triton")
STUB_PYTHON = (3, 10)
"""The Python of NGC 24.10's tritonserver image, which runs the Python-backend models' imports."""
NEWER_THAN_STUB = {
    "typing": {"Self", "LiteralString", "Never", "assert_never", "reveal_type", "Required", "NotRequired",
               "TypeVarTuple", "Unpack", "dataclass_transform", "assert_type", "override", "TypeAliasType"},
    "enum": {"StrEnum", "ReprEnum", "verify", "member", "nonmember", "global_enum"},
    "asyncio": {"TaskGroup", "timeout", "Runner"},
    "datetime": {"UTC"},
}  # fmt: skip
NEWER_MODULES = {"tomllib"}
NEWER_BUILTINS = {"ExceptionGroup", "BaseExceptionGroup"}


def test_hadolint_finds_nothing() -> None:
    assert checks.hadolint(checks.DOCKERFILE) == []


def test_every_copy_source_exists_and_is_in_the_build_context(stages) -> None:
    assert checks.copy_source_problems(stages, checks.PROJECT_ROOT) == []


def test_final_images_run_as_a_numeric_non_root_user(stages) -> None:
    for target in FINAL_TARGETS:
        user = stages[target].values("USER")[-1]
        uid = user.split(":")[0]
        assert uid.isdigit() and int(uid) > 0, f"{target}: USER {user}"


def test_triton_comes_from_a_pinned_ngc_release(stages) -> None:
    """TensorRT's release (the plans') is the model builder's, kept equal to this one in test_model_pipeline.py."""
    triton = stages["triton"].base
    assert re.fullmatch(r"nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3", triton), triton


def test_python_base_image_is_pinned_to_a_patch_release(stages) -> None:
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", stages["orchestrator"].base)


def test_triton_image_pins_every_model_dependency_and_numpy_below_2() -> None:
    requirements = _requirements(DOCKER_DIR / "triton-requirements.txt")
    assert all(str(r.specifier).startswith("==") for r in requirements.values())
    assert {"numpy", "opencv-python-headless", "onnxruntime"} <= set(requirements)
    assert requirements["numpy"].specifier.contains(next(iter(requirements["numpy"].specifier)).version)
    assert int(next(iter(requirements["numpy"].specifier)).version.split(".")[0]) < 2


def test_orchestrator_constraints_satisfy_pyproject() -> None:
    constraints = _requirements(DOCKER_DIR / "orchestrator-constraints.txt")
    project = tomllib.loads((checks.PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for dependency in map(Requirement, project["dependencies"]):
        pinned = constraints.get(_canonical(dependency.name))
        assert pinned is not None, f"{dependency.name} is not pinned"
        version = next(iter(pinned.specifier)).version
        assert dependency.specifier.contains(version), f"{dependency.name}=={version} vs {dependency.specifier}"


def test_triton_image_applies_the_same_decode_limit_as_the_embedded_server(stages) -> None:
    env = " ".join(stages["triton"].values("ENV"))
    assert f"OPENCV_IO_MAX_IMAGE_PIXELS={MAX_IMAGE_PIXELS}" in env


def test_triton_image_puts_the_package_on_the_stubs_path_and_checks_numpy(stages) -> None:
    runs = " ".join(stages["triton"].values("RUN"))
    assert "site.getsitepackages()" in runs and ".pth" in runs
    assert "numpy.__version__ < '2'" in runs
    imported = re.findall(r"orchestrator(?:\.\w+)+", runs)
    assert _direct_model_imports() <= set(imported), "the build must import what every model.py imports"


def test_modules_the_models_import_run_on_the_triton_images_python() -> None:
    problems = [p for module in sorted(_model_import_closure()) for p in _newer_python_uses(_module_file(module))]
    assert problems == []


def _requirements(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {_canonical(r.name): r for r in map(Requirement, filter(None, lines))}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _module_file(module: str) -> Path:
    path = checks.PROJECT_ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _orchestrator_imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "orchestrator":
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules |= {a.name for a in node.names if a.name.split(".")[0] == "orchestrator"}
    parents = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)}
    return modules | parents


def _direct_model_imports() -> set[str]:
    """The orchestrator modules the model.py files import themselves (not their parent packages)."""
    modules = set()
    for path in MODEL_REPOSITORY.glob("*/1/model.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orchestrator."):
                modules.add(str(node.module))
    return modules


def _model_import_closure() -> set[str]:
    """Every orchestrator module a model.py loads, directly or through other orchestrator modules."""
    pending = set().union(*(_orchestrator_imports(p) for p in MODEL_REPOSITORY.glob("*/1/model.py")))
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        seen.add(module)
        pending |= _orchestrator_imports(_module_file(module)) - seen
    return seen


def _newer_python_uses(path: Path) -> list[str]:
    """Syntax or standard-library names newer than the stub's Python in one module."""
    source = path.read_text()
    try:
        tree = ast.parse(source, feature_version=STUB_PYTHON)
    except SyntaxError as exc:
        return [f"{path.name}: syntax newer than Python 3.10: {exc}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            newer = {a.name for a in node.names} & NEWER_THAN_STUB.get(node.module, set())
            problems += [f"{path.name}: from {node.module} import {n}" for n in sorted(newer)]
            if node.module in NEWER_MODULES:
                problems.append(f"{path.name}: imports {node.module}")
        elif isinstance(node, ast.Import):
            problems += [f"{path.name}: imports {a.name}" for a in node.names if a.name in NEWER_MODULES]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in NEWER_THAN_STUB.get(node.value.id, set()):
                problems.append(f"{path.name}: uses {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            problems.append(f"{path.name}: uses {node.id}")
    return problems

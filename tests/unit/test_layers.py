"""The package's layers: data flows one way, so no module imports a package above its own.

From the bottom: the parts (sources, triton, tracking, events, sinks, vision, pitch, metrics, tracing, config,
repository, modelstore), then the pipeline that joins them, then the front ends (bench, cli).
"""

import ast
from pathlib import Path

import orchestrator

PACKAGE = Path(orchestrator.__file__).parent
PARTS = ("sources", "triton", "tracking", "events", "sinks", "vision", "pitch", "metrics", "tracing", "config",
         "repository", "modelstore", "serving", "contract", "paths")  # fmt: skip
LAYERS = {**dict.fromkeys(PARTS, 0), "pipeline": 1, "bench": 2, "cli": 3}


def imported_packages(path: Path) -> set[str]:
    """The orchestrator subpackages (or top-level modules) that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found |= {name.split(".")[1] for name in names if name.startswith("orchestrator.")}
    return found


def upward_imports(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        own = relative.parts[0].removesuffix(".py")
        if own not in LAYERS:
            continue
        for target in imported_packages(path) - {own}:
            if LAYERS.get(target, 0) > LAYERS[own]:
                problems.append(f"{relative} ({own}) imports {target}")
    return problems


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__"}}
    assert packages | modules <= set(LAYERS)


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports(PACKAGE) == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "reader.py").write_text("from orchestrator.pipeline.results import Inferred\n")
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "stream.py").write_text("import orchestrator.cli.app\n")
    assert upward_imports(tmp_path) == [
        "pipeline/stream.py (pipeline) imports cli",
        "sources/reader.py (sources) imports pipeline",
    ]

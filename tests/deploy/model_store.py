"""Checks that the GPU overlay's Triton serves the validated model store and never builds a plan in the pod.

The plans are built once per GPU architecture, gated (accuracy + ONNX Runtime parity) and published by the model
pipeline (`pitchside model build --profile gpu`, `model validate --plan`, `model publish`); a pod that builds
its own would serve an unvalidated plan, a different one per pod. Each check returns a list of problems, so the
breakage tests run it on broken copies.
"""

from typing import Final

from orchestrator.modelstore.store_uri import StoreUri, StoreUriError
from tests.deploy import checks

STORE_SECRET: Final = "triton-model-store"
"""The Secret whose keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) Triton's S3 client reads as variables."""
REGION_VARIABLE: Final = "AWS_DEFAULT_REGION"
PLAN_TOOLS: Final = ("trtexec", "polygraphy", "model build")
"""Words in a container's command or args that mean it builds a TensorRT plan."""
PLAN_BUILDER_IMAGES: Final = frozenset({"model-builder"})
"""Images that build plans: the model-build Job's (docker/model-builder.Dockerfile)."""
HTTPS: Final = 443
METADATA_SERVICE: Final = "169.254.169.254/32"


def store_serving_problems(resources: list[checks.Resource]) -> list[str]:
    """Triton serves ``s3://…`` with explicit model control (what the store's configs pin, then rollouts), with
    the store's credentials and region, reachable through its NetworkPolicy; no container builds a plan."""
    triton = checks.PodOwner(checks.one(resources, "Deployment", "triton"))
    container = triton.container("triton")
    return [
        *per_pod_build_problems(triton),
        *_repository_problems(container.get("args", [])),
        *_credential_problems(container),
        *_egress_problems(checks.one(resources, "NetworkPolicy", "triton")),
    ]


def per_pod_build_problems(owner: checks.PodOwner) -> list[str]:
    """No init container at all (there is nothing to prepare: the store holds the plans), and no container that
    runs a plan builder."""
    where = checks.name_of(owner.resource)
    problems = [
        f"{where}: init container {c['name']} ({c.get('image')}) runs in every Triton pod: plans come validated "
        "from the model store, never built per pod"
        for c in owner.spec.get("initContainers", [])
    ]
    for container in owner.containers(init=False):
        words = " ".join([*container.get("command", []), *container.get("args", [])])
        if checks.image_target(container["image"]) in PLAN_BUILDER_IMAGES or any(t in words for t in PLAN_TOOLS):
            problems.append(f"{where}: container {container['name']} builds a TensorRT plan in the pod")
    return problems


def _repository_problems(args: list[str]) -> list[str]:
    flags = checks.tritonserver_flags(args)
    repository = flags.get("model-repository", "")
    problems = []
    try:
        store = StoreUri.parse(repository)
    except StoreUriError:
        return [f"Triton serves {repository!r}, not the model store (s3://BUCKET/PREFIX)"]
    if not store.prefix:
        problems.append(f"Triton serves the whole bucket {repository}: name the GPU store's prefix")
    if store.endpoint_url is not None:
        problems.append(f"Triton serves {repository} from another endpoint than S3")
    index = args.index(f"{checks.REPOSITORY_FLAG}{repository}")
    if args[index + 1 : index + 1 + len(checks.MODEL_STORE_FLAGS)] != list(checks.MODEL_STORE_FLAGS):
        problems.append(
            f"Triton needs {' '.join(checks.MODEL_STORE_FLAGS)} after the store: it loads the versions the store's "
            "configs pin at start, then only what `pitchside model rollout` asks for"
        )
    if "model-control-mode" in flags and flags["model-control-mode"] != "explicit":
        problems.append(f"--model-control-mode={flags['model-control-mode']}: a rollout needs explicit control")
    return problems


def _credential_problems(container: checks.Resource) -> list[str]:
    problems = []
    refs = [e["secretRef"] for e in container.get("envFrom", []) if "secretRef" in e]
    if not any(r.get("name") == STORE_SECRET and not r.get("optional", False) for r in refs):
        problems.append(f"Triton does not read the store's keys from the Secret {STORE_SECRET} (envFrom, required)")
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    if not env.get(REGION_VARIABLE):
        problems.append(f"Triton has no {REGION_VARIABLE}: its S3 client needs the bucket's region")
    return problems


def _egress_problems(policy: checks.Resource) -> list[str]:
    for rule in policy["spec"].get("egress", []):
        ports = {p.get("port") for p in rule.get("ports", [])}
        blocks = [peer["ipBlock"] for peer in rule.get("to", []) if "ipBlock" in peer]
        if HTTPS in ports and blocks and all(METADATA_SERVICE in b.get("except", []) for b in blocks):
            return []
    return [f"{checks.name_of(policy)}: no HTTPS egress (outside the metadata service) to reach the store"]

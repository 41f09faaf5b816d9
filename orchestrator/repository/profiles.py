"""Deployment profiles rendered from the one model repository in ``model_repository/``.

The tree in the checkout *is* the CPU profile, loadable by Triton as it is. Other profiles are derived
from it by a small, tested transformation at deploy time, so there is never a second copy to drift:

* ``gpu``: the detector's served graph becomes TensorRT plans (``platform: "tensorrt_plan"``), one per GPU
  architecture (``cc_model_filenames``), with the same tensor names, tuned for the GPU: large dynamic batches
  with preferred sizes, several instances so copies overlap compute, CUDA graphs, and a queue policy that lets a
  live client's per-request timeout reject a frame that went stale in the queue instead of computing it. The
  Python pre-processing step (used only by clients that send full frames) gets instances sized to the node.
  The served graph stays beside the plans (``1/model.onnx``, never loaded: the config names only plans) as the
  reference ``pitchside model rollout`` judges a version's answers through the server against; the
  researcher's source ONNX and the Python model are left out.
"""

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.contract import DETECTOR_MODEL, PREPROCESS_MODEL
from orchestrator.repository.model_config import CONFIG_FILE, ModelEntry, load_repository, write_config

PLAN_FILE: Final = "model.plan"
CPU_ONLY_PARAMETERS: Final = ("onnx_file", "intra_op_threads", "source_onnx")
GPU_MAX_BATCH: Final = 64
"""A NanoDet-class detector reaches ~10,000 frames/s on an H200 at batch 64 (docs/PERFORMANCE.md)."""
GPU_PREFERRED_BATCHES: Final = (8, 16, 32, 64)
GPU_MAX_QUEUE_DELAY_US: Final = 500
"""Half a millisecond of waiting for a fuller batch: inside the live latency budget, enough to fill batches
when many cameras share a GPU."""
GPU_DETECTOR_INSTANCES: Final = 2
"""Two execution contexts per GPU: one copies its batch in while the other computes."""
DEFAULT_CPU_INSTANCES: Final = 2
QUEUE_DEFAULT_TIMEOUT_US: Final = 60_000_000


class Profile(StrEnum):
    CPU = "cpu"
    GPU = "gpu"


@dataclass(frozen=True)
class GpuSettings:
    """How the GPU profile is tuned; the defaults are the documented starting point."""

    max_batch: int = GPU_MAX_BATCH
    preferred_batches: tuple[int, ...] = GPU_PREFERRED_BATCHES
    max_queue_delay_us: int = GPU_MAX_QUEUE_DELAY_US
    detector_instances: int = GPU_DETECTOR_INSTANCES
    cpu_instances: int = DEFAULT_CPU_INSTANCES
    """Instances of the Python pre-processing step: about one per CPU core the Triton pod has."""
    cuda_graphs: bool = True

    def __post_init__(self) -> None:
        if self.max_batch < 1 or any(not 1 <= b <= self.max_batch for b in self.preferred_batches):
            raise ValueError(f"preferred batch sizes {self.preferred_batches} must lie within 1..{self.max_batch}")
        if self.detector_instances < 1 or self.cpu_instances < 1:
            raise ValueError("instance counts must be at least 1")


def plan_filename(compute_capability: str) -> str:
    """``model.sm89.plan`` for compute capability ``8.9``."""
    major, _, minor = compute_capability.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ValueError(f"compute capability must look like 8.9, got {compute_capability!r}")
    return f"model.sm{major}{minor}.plan"


def render(
    source: Path,
    profile: Profile,
    out: Path,
    plans: Mapping[str, Path] | None = None,
    gpu: GpuSettings | None = None,
) -> None:
    """Write the repository for ``profile`` into ``out`` (created; must not exist or be empty).

    ``plans``: TensorRT engines by the compute capability they were built for (``"9.0"`` for H100/H200,
    ``"8.9"`` for L4, ``"8.6"`` for A10G); ``""`` names the default plan Triton loads on any other GPU.
    """
    models = load_repository(source)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    for entry in models.values():
        if profile is Profile.GPU and entry.name == DETECTOR_MODEL:
            _render_tensorrt_detector(entry, out / entry.name, plans or {}, gpu or GpuSettings())
        elif profile is Profile.GPU and entry.name == PREPROCESS_MODEL:
            _copy(entry, out / entry.name)
            write_config(with_cpu_instances(entry.config, (gpu or GpuSettings()).cpu_instances), out / entry.name)
        else:
            _copy(entry, out / entry.name)


def tensorrt_detector_config(
    config: pb.ModelConfig, settings: GpuSettings, compute_capabilities: tuple[str, ...] = ()
) -> pb.ModelConfig:
    """The detector's config with its ONNX-in-Python backend replaced by TensorRT plans tuned for the GPU."""
    gpu = pb.ModelConfig()
    gpu.CopyFrom(config)
    gpu.ClearField("backend")
    gpu.platform = "tensorrt_plan"
    gpu.default_model_filename = PLAN_FILE
    gpu.max_batch_size = settings.max_batch
    for key in CPU_ONLY_PARAMETERS:
        if key in gpu.parameters:
            del gpu.parameters[key]
    for capability in compute_capabilities:
        gpu.cc_model_filenames[capability] = plan_filename(capability)
    del gpu.instance_group[:]
    gpu.instance_group.add(count=settings.detector_instances, kind=pb.ModelInstanceGroup.KIND_GPU)
    gpu_batching(gpu.dynamic_batching, settings)
    if settings.cuda_graphs:
        gpu.optimization.cuda.graphs = True
        for batch in settings.preferred_batches:
            gpu.optimization.cuda.graph_spec.add(batch_size=batch)
    for warmup in gpu.model_warmup:
        warmup.batch_size = min(warmup.batch_size, settings.max_batch)
    return gpu


def with_cpu_instances(config: pb.ModelConfig, count: int) -> pb.ModelConfig:
    """A Python step's config with ``count`` CPU instances."""
    tuned = pb.ModelConfig()
    tuned.CopyFrom(config)
    del tuned.instance_group[:]
    tuned.instance_group.add(count=count, kind=pb.ModelInstanceGroup.KIND_CPU)
    return tuned


def live_queue_policy(batching: pb.ModelDynamicBatching) -> None:
    """A request's own timeout (a live frame's staleness budget) rejects it in the queue; Triton only honours a
    request's timeout below the default, hence a long default for requests that set none."""
    batching.default_queue_policy.timeout_action = pb.ModelQueuePolicy.REJECT
    batching.default_queue_policy.default_timeout_microseconds = QUEUE_DEFAULT_TIMEOUT_US
    batching.default_queue_policy.allow_timeout_override = True


def gpu_batching(batching: pb.ModelDynamicBatching, settings: GpuSettings) -> None:
    """Preferred batch sizes, a short queue delay and the live queue policy."""
    del batching.preferred_batch_size[:]
    batching.preferred_batch_size.extend(settings.preferred_batches)
    batching.max_queue_delay_microseconds = settings.max_queue_delay_us
    live_queue_policy(batching)


def _copy(entry: ModelEntry, target: Path) -> None:
    shutil.copytree(entry.directory, target, ignore=shutil.ignore_patterns("__pycache__"))


def _render_tensorrt_detector(entry: ModelEntry, target: Path, plans: Mapping[str, Path], gpu: GpuSettings) -> None:
    def cpu_only(directory: str, names: list[str]) -> set[str]:
        """The Python model and caches anywhere; the config and the source ONNX beside it (not the version's
        served graph: it is rollout's reference)."""
        skipped = {n for n in names if n == "__pycache__" or n.endswith(".py")}
        if Path(directory) == entry.directory:
            skipped |= {n for n in names if n == CONFIG_FILE or n.endswith(".onnx")}
        return skipped

    shutil.copytree(entry.directory, target, ignore=cpu_only)
    capabilities = tuple(sorted(cc for cc in plans if cc))
    write_config(tensorrt_detector_config(entry.config, gpu, capabilities), target)
    (target / "1").mkdir(exist_ok=True)
    for capability, plan in plans.items():
        shutil.copyfile(plan, target / "1" / (plan_filename(capability) if capability else PLAN_FILE))

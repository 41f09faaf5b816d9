"""A copy of the model repository whose detector is the stand-in, batched as the GPU profile batches."""

import shutil
from pathlib import Path
from typing import Final

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.bench.standin.replay import RecordedOutputs
from orchestrator.contract import DETECTOR_MODEL
from orchestrator.repository.model_config import CONFIG_FILE, load_repository, write_config
from orchestrator.repository.profiles import CPU_ONLY_PARAMETERS, GpuSettings, gpu_batching

ADAPTER: Final = Path(__file__).with_name("model.py")
RECORDED_FILE: Final = "recorded.npz"
STANDIN_PARAMETER: Final = "standin"
"""Set on the stand-in's config, so a server's config says plainly that its detector computes nothing."""


def render_standin_repository(source: Path, recorded: RecordedOutputs, out: Path) -> None:
    """Write ``source`` into ``out`` with the detector replaced by the stand-in (``out`` must not exist)."""
    models = load_repository(source)
    for entry in models.values():
        if entry.name != DETECTOR_MODEL:
            shutil.copytree(entry.directory, out / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
    detector = models[DETECTOR_MODEL]
    target = out / DETECTOR_MODEL
    shutil.copytree(
        detector.directory, target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.onnx", CONFIG_FILE)
    )
    (target / "1").mkdir(exist_ok=True)
    shutil.copyfile(ADAPTER, target / "1" / "model.py")
    recorded.save(target / "1" / RECORDED_FILE)
    write_config(standin_config(detector.config), target)


def standin_config(config: pb.ModelConfig, gpu: GpuSettings | None = None) -> pb.ModelConfig:
    """The detector's config served by the stand-in: same tensors, the GPU profile's batching, one instance."""
    settings = gpu or GpuSettings()
    standin = pb.ModelConfig()
    standin.CopyFrom(config)
    standin.max_batch_size = settings.max_batch
    for key in CPU_ONLY_PARAMETERS:
        if key in standin.parameters:
            del standin.parameters[key]
    standin.parameters[STANDIN_PARAMETER].string_value = "replays recorded outputs; computes nothing"
    gpu_batching(standin.dynamic_batching, settings)
    del standin.instance_group[:]
    standin.instance_group.add(count=1, kind=pb.ModelInstanceGroup.KIND_CPU)
    for warmup in standin.model_warmup:
        warmup.batch_size = min(warmup.batch_size, settings.max_batch)
    return standin

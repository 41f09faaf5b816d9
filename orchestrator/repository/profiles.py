"""Deployment profiles rendered from the one model repository in ``model_repository/``.

The tree in the checkout *is* the CPU profile, loadable by Triton as it is. Other profiles are derived
from it by a small, tested transformation at deploy time, so there is never a second copy to drift:

* ``gpu``: the detector becomes a TensorRT plan (``platform: "tensorrt_plan"``, ``model.plan``) with the
  same tensor names, on a GPU instance group; pre/post-processing models are copied unchanged.
"""

import shutil
from enum import StrEnum
from pathlib import Path
from typing import Final

from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.contract import DETECTOR_MODEL
from orchestrator.repository.model_config import CONFIG_FILE, ModelEntry, load_repository, write_config

PLAN_FILE: Final = "model.plan"
CPU_ONLY_PARAMETERS: Final = ("onnx_file", "intra_op_threads")


class Profile(StrEnum):
    CPU = "cpu"
    GPU = "gpu"


def render(source: Path, profile: Profile, out: Path, plan: Path | None = None) -> None:
    """Write the repository for ``profile`` into ``out`` (created; must not exist or be empty).

    ``plan``: a TensorRT engine built for the target GPU (``pitchside convert``), copied into the
    detector's version directory for the GPU profile.
    """
    models = load_repository(source)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    for entry in models.values():
        if profile is Profile.GPU and entry.name == DETECTOR_MODEL:
            _render_tensorrt_detector(entry, out / entry.name, plan)
        else:
            shutil.copytree(entry.directory, out / entry.name, ignore=shutil.ignore_patterns("__pycache__"))


def tensorrt_detector_config(config: pb.ModelConfig) -> pb.ModelConfig:
    """The detector's config with its ONNX-in-Python backend replaced by a TensorRT plan on the GPU."""
    gpu = pb.ModelConfig()
    gpu.CopyFrom(config)
    gpu.ClearField("backend")
    gpu.platform = "tensorrt_plan"
    gpu.default_model_filename = PLAN_FILE
    for key in CPU_ONLY_PARAMETERS:
        if key in gpu.parameters:
            del gpu.parameters[key]
    del gpu.instance_group[:]
    gpu.instance_group.add(count=1, kind=pb.ModelInstanceGroup.KIND_GPU)
    return gpu


def _render_tensorrt_detector(entry: ModelEntry, target: Path, plan: Path | None) -> None:
    shutil.copytree(
        entry.directory, target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.onnx", CONFIG_FILE)
    )
    write_config(tensorrt_detector_config(entry.config), target)
    if plan is not None:
        shutil.copyfile(plan, target / "1" / PLAN_FILE)

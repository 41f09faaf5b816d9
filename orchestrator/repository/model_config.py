"""Parsing ``config.pbtxt`` files with the ModelConfig protobuf schema that tritonclient ships."""

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as pb

CONFIG_FILE: Final = "config.pbtxt"
ModelConfig = pb.ModelConfig


class RepositoryError(Exception):
    """A model repository that Triton would refuse or serve wrongly; the message names model and field."""


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A tensor's dtype (ModelConfig DataType enum) and dims (-1 = variable)."""

    data_type: int
    dims: tuple[int, ...]


@dataclass(frozen=True)
class ModelEntry:
    """One model directory: its parsed config and where it lives."""

    directory: Path
    config: pb.ModelConfig

    @property
    def name(self) -> str:
        return self.directory.name


def load_model(directory: Path) -> ModelEntry:
    """Parse ``directory/config.pbtxt``; raise RepositoryError naming the model on a syntax or schema error."""
    path = directory / CONFIG_FILE
    try:
        config = text_format.Parse(path.read_text(), pb.ModelConfig())
    except text_format.ParseError as exc:
        raise RepositoryError(f"{directory.name}: {CONFIG_FILE}: {exc}") from exc
    except OSError as exc:
        raise RepositoryError(f"{directory.name}: cannot read {CONFIG_FILE}: {exc}") from exc
    return ModelEntry(directory, config)


def load_repository(root: Path) -> dict[str, ModelEntry]:
    """Every model directory (one holding config.pbtxt) under ``root``, by directory name."""
    if not root.is_dir():
        raise RepositoryError(f"model repository {root} is not a directory")
    return {d.name: load_model(d) for d in sorted(root.iterdir()) if (d / CONFIG_FILE).is_file()}


def label_file(entry: ModelEntry) -> Path | None:
    """The labels file an output of the model names (``label_filename``, beside the config); None when none."""
    name = next((o.label_filename for o in entry.config.output if o.label_filename), "")
    return entry.directory / name if name else None


def read_labels(path: Path) -> tuple[str, ...]:
    """One class name per line, in class-id order; blank lines are an error, not a skipped class."""
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(line.strip() for line in lines)


def dtype_name(data_type: int) -> str:
    """``TYPE_FP32`` for the enum value."""
    return str(pb.DataType.Name(data_type))


def write_config(config: pb.ModelConfig, directory: Path) -> None:
    (directory / CONFIG_FILE).write_text(text_format.MessageToString(config))

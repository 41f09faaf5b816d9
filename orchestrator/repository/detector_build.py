"""Build (and verify) the detector model's served graph from its config: one source of truth.

The detector's ``config.pbtxt`` names the researcher's ONNX (``source_onnx``, beside the config), its class names
(the ``label_filename`` of its ``CLASS_SCORES`` output, one per class) and the settings baked into the served graph
(``score_threshold``, ``class_score_thresholds`` by a name in that file or a class id, ``iou_threshold``,
``max_detections``). ``pitchside model build`` writes ``1/<onnx_file>`` from them; ``repo check``
rebuilds in memory and fails when the committed graph is not what the config says.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import onnx

from orchestrator.repository.detector_graph import GraphSettings, build_detector_graph, read_layout
from orchestrator.repository.model_config import ModelEntry, RepositoryError, label_file, read_labels
from orchestrator.vision.thresholds import (
    DEFAULT_IOU_THRESHOLD,
    DEFAULT_MAX_DETECTIONS,
    DEFAULT_SCORE_THRESHOLD,
    class_thresholds,
    parse_overrides,
)

SOURCE_PARAMETER: Final = "source_onnx"
SERVED_PARAMETER: Final = "onnx_file"
DEFAULT_SERVED_FILE: Final = "model.onnx"


@dataclass(frozen=True)
class DetectorBuild:
    """Where the source and the served graph of one detector model live, and what is baked in."""

    source: Path
    served: Path
    parameters: Mapping[str, str]
    labels: tuple[str, ...] = ()
    """The class names of the labels file the config names, in class-id order; () when it names none."""

    @classmethod
    def of(cls, entry: ModelEntry, version: str = "1") -> "DetectorBuild":
        params = {key: value.string_value for key, value in entry.config.parameters.items()}
        if SOURCE_PARAMETER not in params:
            raise RepositoryError(f"{entry.name}: parameters: no {SOURCE_PARAMETER!r} names the researcher's ONNX")
        served = entry.directory / version / params.get(SERVED_PARAMETER, DEFAULT_SERVED_FILE)
        return cls(entry.directory / params[SOURCE_PARAMETER], served, params, _labels(entry))

    def settings(self, num_classes: int) -> GraphSettings:
        """The baked settings for a detector with ``num_classes`` classes; ValueError on a bad value,
        RepositoryError when the labels file does not name exactly ``num_classes`` classes."""
        if self.labels and len(self.labels) != num_classes:
            raise RepositoryError(
                f"the labels file names {len(self.labels)} classes; {self.source.name} has {num_classes} "
                "(one name per line, in class-id order)"
            )
        p = self.parameters
        thresholds = class_thresholds(
            num_classes,
            float(p.get("score_threshold", DEFAULT_SCORE_THRESHOLD)),
            parse_overrides(p.get("class_score_thresholds", "")),
            self.labels,
        )
        return GraphSettings(
            thresholds,
            float(p.get("iou_threshold", DEFAULT_IOU_THRESHOLD)),
            int(p.get("max_detections", DEFAULT_MAX_DETECTIONS)),
        )

    def build(self) -> onnx.ModelProto:
        """The served graph as the config describes it (not written)."""
        if not self.source.is_file():
            raise RepositoryError(f"source ONNX {self.source.name} is missing beside the detector's config")
        source = onnx.load(str(self.source))
        return build_detector_graph(source, self.settings(read_layout(source).num_classes))

    def write(self) -> Path:
        self.served.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(self.build(), str(self.served))
        return self.served

    def is_current(self) -> bool:
        """True when the served file is byte for byte what ``build`` produces."""
        return self.served.is_file() and self.served.read_bytes() == self.build().SerializeToString()


def _labels(entry: ModelEntry) -> tuple[str, ...]:
    path = label_file(entry)
    if path is None:
        return ()
    if not path.is_file():
        raise RepositoryError(f"{entry.name}: labels file {path.name} named by the config is missing beside it")
    return read_labels(path)

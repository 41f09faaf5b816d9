"""Class names as the served model ships them, read from the server.

The detector's config names its labels file on one output (Triton's ``label_filename``: ``CLASS_SCORES``, one
score per class). Triton serves that file only through its classification extension: asking that output with
``class_count = C`` returns C strings ``"score:index:label"``. One such request, on a black frame, at start-up
gives the orchestrator every class name without reading the model repository, wherever the server runs.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from orchestrator.triton.errors import TritonError

log = logging.getLogger(__name__)

UNNAMED_PREFIX: Final = "class_"


class LabelsError(TritonError):
    """The model's labels file does not name its classes one per line: the server would report wrong names."""


@dataclass(frozen=True, slots=True)
class Labels:
    """Class names indexed by class id; shared by every Detections of a run (a reference, never copied)."""

    names: tuple[str, ...] = ()

    def name(self, class_id: int) -> str:
        """The name of ``class_id``, or ``class_<id>`` for an id the labels file does not name."""
        return self.names[class_id] if 0 <= class_id < len(self.names) else f"{UNNAMED_PREFIX}{class_id}"

    def __len__(self) -> int:
        return len(self.names)


NO_LABELS: Final = Labels()
"""A model without a labels file: every class is ``class_<id>``."""


@dataclass(frozen=True, slots=True)
class LabelOutput:
    """The output of a model config that names a labels file, and its class count C."""

    model: str
    output: str
    num_classes: int


def label_output(model: str, config: Mapping[str, Any]) -> LabelOutput | None:
    """The output of ``config`` (Triton's JSON model config) with a ``label_filename``; None when there is none.

    A labelled output must hold one score per class (dims ``[C]``); anything else is a LabelsError."""
    for output in config.get("output", []):
        if output.get("label_filename"):
            dims = [int(d) for d in output.get("dims", [])]
            if len(dims) != 1 or dims[0] < 1:
                raise LabelsError(
                    f"{model}: output {output['name']!r} names a labels file but has dims {dims}, not [C]"
                )
            return LabelOutput(model, str(output["name"]), dims[0])
    return None


def ensemble_steps(config: Mapping[str, Any]) -> list[str]:
    """The models an ensemble's config runs, in step order (empty for a model that is not an ensemble)."""
    return [str(step["model_name"]) for step in config.get("ensemble_scheduling", {}).get("step", [])]


def parse_classification(entries: Iterable[bytes | str], source: LabelOutput) -> Labels:
    """Labels from the ``"score:index:label"`` strings of a classification of ``source`` with class_count C.

    Raises LabelsError when the file does not name exactly C classes (an index without a label means the file
    has fewer lines than the model has classes) or names one of them with an empty line."""
    names: dict[int, str] = {}
    for entry in entries:
        text = entry.decode() if isinstance(entry, bytes) else entry
        _, index, *label = text.split(":", 2)
        names[int(index)] = label[0].strip() if label else ""
    missing = [i for i in range(source.num_classes) if not names.get(i)]
    if len(names) != source.num_classes or missing:
        raise LabelsError(
            f"{source.model}: the labels file of output {source.output!r} does not name its {source.num_classes} "
            f"classes one per line (no name for class {_ids(missing)}): fix the file beside the model's config"
        )
    return Labels(tuple(names[i] for i in range(source.num_classes)))


def unlabelled(model: str) -> Labels:
    """NO_LABELS, with the one warning that says why events carry ``class_<id>`` names."""
    log.warning("%s names no labels file (label_filename) on any output: classes are reported as class_<id>", model)
    return NO_LABELS


def _ids(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")

"""Per-class score thresholds: one default plus overrides by class name (as the model's labels file names it) or
class id."""

import json
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

DEFAULT_SCORE_THRESHOLD: Final = 0.35
DEFAULT_IOU_THRESHOLD: Final = 0.5
DEFAULT_MAX_DETECTIONS: Final = 300


def class_thresholds(
    num_classes: int, default: float, overrides: Mapping[str, float], names: Sequence[str] = ()
) -> npt.NDArray[np.float32]:
    """(num_classes,) float32 thresholds; ``overrides`` keys are class names (``"referee"``), looked up in
    ``names`` (the model's labels, in class-id order), or class ids (``"32"``)."""
    thresholds = np.full(num_classes, _score(default, "default"), dtype=np.float32)
    for key, value in overrides.items():
        thresholds[_class_index(key, num_classes, names)] = _score(value, key)
    return thresholds


def parse_overrides(text: str) -> dict[str, float]:
    """Parse a JSON object such as ``{"ball": 0.25, "3": 0.6}`` (names as the labels file has them, or ids);
    empty text means no overrides."""
    if not text.strip():
        return {}
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError(f"class score thresholds must be a JSON object, got {text!r}")
    return {str(k): float(v) for k, v in parsed.items()}


def _class_index(key: str, num_classes: int, names: Sequence[str]) -> int:
    index = int(key) if key.isdigit() else _name_index(key, names)
    if not 0 <= index < num_classes:
        raise ValueError(f"class {key!r} is outside the detector's {num_classes} classes")
    return index


def _name_index(name: str, names: Sequence[str]) -> int:
    if not names:
        raise ValueError(f"unknown class name {name!r}: the model has no labels file; use a class id")
    if name not in names:
        raise ValueError(f"unknown class name {name!r}: not in the model's labels file; use a name in it or an id")
    return list(names).index(name)


def _score(value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"score threshold for {what} must be within 0..1, got {value}")
    return float(value)

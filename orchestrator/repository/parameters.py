"""Reading a model's string ``parameters`` from the JSON config that Triton hands a Python model."""

from collections.abc import Mapping
from typing import Any


def string_parameters(model_config: Mapping[str, Any]) -> dict[str, str]:
    """``{"key": {"string_value": "v"}}`` entries of ``model_config["parameters"]`` as ``{"key": "v"}``."""
    raw = model_config.get("parameters", {}) or {}
    return {key: str(value.get("string_value", "")) for key, value in raw.items()}

"""What is being benchmarked: a model or ensemble on the server, its composing models and stages."""

from dataclasses import dataclass
from typing import Any

from orchestrator.bench.generic_client import GenericTritonClient
from orchestrator.bench.stages import Stage, stages_of


@dataclass(frozen=True)
class Target:
    model: str
    config: dict[str, Any]
    composing: tuple[str, ...]
    """Models the ensemble runs (step order); () for a plain model."""
    stages: tuple[Stage, ...]
    """Pipeline stages it runs: what the direct baseline must run too."""

    @property
    def max_batch_size(self) -> int:
        return int(self.config.get("max_batch_size", 0))

    @property
    def models(self) -> tuple[str, ...]:
        """Whose statistics are read: the model itself, then its composing models."""
        return (self.model, *self.composing)

    @property
    def is_ensemble(self) -> bool:
        return self.config.get("platform") == "ensemble"


async def describe_target(client: GenericTritonClient, model: str) -> Target:
    await client.require_ready(model)
    config = await client.model_config(model)
    composing = await client.composing_models(model)
    return Target(model, config, composing, stages_of(model, composing))

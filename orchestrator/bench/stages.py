"""The detection pipeline's stages, and which of them a benchmarked model runs."""

from enum import StrEnum

from orchestrator.contract import DETECTOR_MODEL, PREPROCESS_MODEL


class Stage(StrEnum):
    """Named as the models that serve them, so a model name maps straight onto a stage."""

    PREPROCESS = PREPROCESS_MODEL
    DETECTOR = DETECTOR_MODEL


def stages_of(model: str, composing: tuple[str, ...]) -> tuple[Stage, ...]:
    """The stages ``model`` runs (an ensemble: its composing models), in pipeline order; () if none."""
    names = set(composing or (model,))
    return tuple(stage for stage in Stage if stage.value in names)

"""What a rollout judges the server's answers against, prepared before the server is touched: the version's served
graph from the store, which must be the graph its validation report judged."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from orchestrator.modelstore.golden import GoldenFrame
from orchestrator.modelstore.rollout import RolloutError, reference_detections
from orchestrator.modelstore.store_read import PublishedVersion

FRAME = GoldenFrame("grey.png", np.full((240, 320, 3), 127, np.uint8))


def _published(files: dict[str, bytes], validation: dict[str, object] | None) -> PublishedVersion:
    return PublishedVersion("detector", 4, {"validation": validation}, files)


@pytest.fixture(scope="module")
def graph(model_repository: Path) -> bytes:
    return (model_repository / "detector" / "1" / "model.onnx").read_bytes()


def test_the_validated_graph_is_run_on_every_golden_frame(graph: bytes) -> None:
    validation = {"served_sha256": hashlib.sha256(graph).hexdigest()}
    reference = reference_detections(_published({"4/model.onnx": graph}, validation), [FRAME])
    assert reference.input_size == 416
    assert reference.detections["grey.png"].shape[1:] == (6,)


def test_a_version_without_a_served_graph_is_refused() -> None:
    plans_only = {"4/model.sm86.plan": b"engine"}
    with pytest.raises(RolloutError, match=r"detector version 4 has no model\.onnx to check the server's answers"):
        reference_detections(_published(plans_only, None), [FRAME])


def test_a_graph_that_is_not_the_validated_one_is_refused(graph: bytes) -> None:
    validation = {"served_sha256": hashlib.sha256(b"another build").hexdigest()}
    with pytest.raises(RolloutError, match=r"model\.onnx is not the graph its validation report judged"):
        reference_detections(_published({"4/model.onnx": graph}, validation), [FRAME])


def test_a_graph_that_does_not_load_is_refused_with_nothing_changed(graph: bytes) -> None:
    with pytest.raises(RolloutError, match=r"model\.onnx does not load here: .*; nothing changed"):
        reference_detections(_published({"4/model.onnx": graph[: len(graph) // 2]}, None), [FRAME])

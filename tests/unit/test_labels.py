"""Class names from the server's classification of the labelled output, and how Detections carries them."""

import logging

import numpy as np
import pytest

from orchestrator.triton.detections import Detections
from orchestrator.triton.labels import (
    NO_LABELS,
    LabelOutput,
    Labels,
    LabelsError,
    ensemble_steps,
    label_output,
    parse_classification,
    unlabelled,
)

SOURCE = LabelOutput("detector", "CLASS_SCORES", 3)
ROWS = np.array([[0, 0, 1, 1, 0.9, 2], [0, 0, 2, 2, 0.8, 0], [0, 0, 3, 3, 0.7, 7]], np.float32)


def test_names_come_by_index_whatever_the_score_order() -> None:
    entries = [b"0.900000:2:referee", b"0.500000:0:ball", b"0.100000:1:player"]
    assert parse_classification(entries, SOURCE) == Labels(("ball", "player", "referee"))


def test_a_label_with_colons_is_kept_whole() -> None:
    entries = ["0.1:0:ball", "0.1:1:team: home", "0.1:2:referee"]
    assert parse_classification(entries, SOURCE).names[1] == "team: home"


def test_a_file_with_fewer_names_than_classes_fails_naming_the_classes() -> None:
    with pytest.raises(LabelsError, match=r"3 classes one per line \(no name for class 2\)"):
        parse_classification([b"0.1:0:ball", b"0.1:1:player", b"0.1:2"], SOURCE)


def test_an_empty_line_fails() -> None:
    with pytest.raises(LabelsError, match="no name for class 1"):
        parse_classification([b"0.1:0:ball", b"0.1:1:", b"0.1:2:referee"], SOURCE)


def test_fewer_entries_than_classes_fail() -> None:
    with pytest.raises(LabelsError, match="no name for class 2"):
        parse_classification([b"0.1:0:ball", b"0.1:1:player"], SOURCE)


def test_an_id_outside_the_labels_is_class_and_its_id() -> None:
    labels = Labels(("ball", "player"))
    assert [labels.name(i) for i in (0, 1, 2, -1)] == ["ball", "player", "class_2", "class_-1"]
    assert NO_LABELS.name(5) == "class_5"


def test_the_labelled_output_is_found_in_the_config() -> None:
    config = {"output": [{"name": "DETECTIONS", "dims": [300, 6]}, {"name": "S", "dims": [3], "label_filename": "l"}]}
    assert label_output("detector", config) == LabelOutput("detector", "S", 3)
    assert label_output("detector", {"output": [{"name": "DETECTIONS", "dims": [300, 6]}]}) is None


def test_a_labelled_output_that_is_not_one_score_per_class_fails() -> None:
    with pytest.raises(LabelsError, match=r"dims \[300, 6\], not \[C\]"):
        label_output("detector", {"output": [{"name": "D", "dims": [300, 6], "label_filename": "l"}]})


def test_ensemble_steps_in_order() -> None:
    config = {"ensemble_scheduling": {"step": [{"model_name": "preprocess"}, {"model_name": "detector"}]}}
    assert ensemble_steps(config) == ["preprocess", "detector"]
    assert ensemble_steps({}) == []


def test_a_model_without_labels_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert unlabelled("detector") is NO_LABELS
    assert len(caplog.records) == 1 and "class_<id>" in caplog.records[0].getMessage()


def test_detections_name_each_row_and_keep_the_shared_labels_through_subsets() -> None:
    labels = Labels(("ball", "player", "referee"))
    found = Detections.from_rows(ROWS, "detector", "1", labels)
    assert found.class_names() == ("referee", "ball", "class_7")
    assert found.of_class(0).labels is labels and found.of_class(0).class_names() == ("ball",)
    assert "referee" in found.describe()[0]


def test_detections_without_labels_are_named_by_id() -> None:
    assert Detections.from_rows(ROWS).class_names() == ("class_2", "class_0", "class_7")

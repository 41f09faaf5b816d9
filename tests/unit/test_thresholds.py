"""Per-class thresholds name classes as the model's labels file does, or by id; nothing else is assumed."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from orchestrator.repository.check import check_repository
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.model_config import RepositoryError, load_model
from orchestrator.vision.thresholds import class_thresholds, parse_overrides

NAMES = ("ball", "player", "referee")


def test_overrides_by_label_name_and_by_id() -> None:
    got = class_thresholds(3, 0.35, {"referee": 0.6, "0": 0.2}, NAMES)
    np.testing.assert_array_equal(got, np.array([0.2, 0.35, 0.6], np.float32))


def test_a_name_the_labels_file_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown class name 'person': not in the model's labels file"):
        class_thresholds(3, 0.35, {"person": 0.6}, NAMES)


def test_without_labels_only_ids_are_accepted() -> None:
    np.testing.assert_array_equal(class_thresholds(2, 0.3, {"1": 0.5}), np.array([0.3, 0.5], np.float32))
    with pytest.raises(ValueError, match="the model has no labels file; use a class id"):
        class_thresholds(2, 0.3, {"sports ball": 0.5})


def test_an_id_outside_the_classes_and_a_score_outside_0_1_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the detector's 3 classes"):
        class_thresholds(3, 0.35, {"3": 0.5}, NAMES)
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        class_thresholds(3, 0.35, {"ball": 1.5}, NAMES)


def test_overrides_parse_from_json() -> None:
    assert parse_overrides('{"referee": 0.6, "2": 0.1}') == {"referee": 0.6, "2": 0.1}
    assert parse_overrides("  ") == {}
    with pytest.raises(ValueError, match="JSON object"):
        parse_overrides("[0.5]")


def detector_copy(model_repository: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "models" / "detector"
    shutil.copytree(model_repository / "detector", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_build_reads_names_from_the_labels_file_its_config_names(model_repository: Path, tmp_path: Path) -> None:
    copy = detector_copy(model_repository, tmp_path)
    labels = (copy / "labels.txt").read_text().splitlines()
    labels[0] = "spectator"
    (copy / "labels.txt").write_text("\n".join(labels) + "\n")
    config = copy / "config.pbtxt"
    config.write_text(config.read_text().replace('string_value: "{}"', 'string_value: "{\\"spectator\\": 0.7}"'))
    build = DetectorBuild.of(load_model(copy))
    assert build.labels[0] == "spectator"
    assert build.settings(80).class_thresholds[0] == np.float32(0.7)


def test_a_labels_file_that_does_not_name_every_class_fails_the_build_and_the_check(
    model_repository: Path, tmp_path: Path
) -> None:
    copy = detector_copy(model_repository, tmp_path)
    lines = (copy / "labels.txt").read_text().splitlines()
    (copy / "labels.txt").write_text("\n".join(lines[:79]) + "\n")
    with pytest.raises(RepositoryError, match=r"the labels file names 79 classes; source\.onnx has 80"):
        DetectorBuild.of(load_model(copy)).build()
    problems = [str(p) for p in check_repository(copy.parent)]
    assert any("names 79 classes" in p for p in problems), problems


def test_a_labels_file_named_but_missing_fails(model_repository: Path, tmp_path: Path) -> None:
    copy = detector_copy(model_repository, tmp_path)
    (copy / "labels.txt").unlink()
    with pytest.raises(RepositoryError, match=r"labels file labels\.txt named by the config is missing"):
        DetectorBuild.of(load_model(copy))

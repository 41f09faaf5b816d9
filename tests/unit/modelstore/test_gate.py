"""The accuracy gate on synthetic detections, and the model store's s3:// URI.

Rows are (x1, y1, x2, y2, score, class_id) in source pixels, as both the source model and the served graph give
them. The frames' images are never looked at by the gate: the callables look the rows up by frame name.
"""

import json

import numpy as np
import pytest

from orchestrator.modelstore.gate import (
    MAX_SCORE_DRIFT,
    MIN_IOU,
    MIN_PRECISION,
    MIN_RECALL,
    GateReport,
    GateThresholds,
    Rows,
    match_rows,
    run_gate,
)
from orchestrator.modelstore.golden import GoldenFrame
from orchestrator.modelstore.store_uri import StoreUri, StoreUriError

BLANK = np.zeros((4, 4, 3), np.uint8)


def rows(*detections: tuple[float, float, float, float, float, int]) -> Rows:
    return np.array(detections, np.float32).reshape(-1, 6)


def grid(count: int, class_id: int = 0, score: float = 0.8) -> Rows:
    """``count`` disjoint 100x100 boxes, far enough apart that none overlaps another."""
    return rows(*((200.0 * i, 0.0, 200.0 * i + 100.0, 100.0, score, class_id) for i in range(count)))


def gate(source: dict[str, Rows], built: dict[str, Rows], thresholds: GateThresholds | None = None) -> GateReport:
    frames = [GoldenFrame(name, BLANK) for name in source]
    return run_gate(frames, lambda f: source[f.name], lambda f: built[f.name], thresholds)


def test_the_thresholds_are_the_documented_ones() -> None:
    assert (MIN_IOU, MIN_RECALL, MIN_PRECISION, MAX_SCORE_DRIFT) == (0.9, 0.99, 0.99, 0.02)
    assert GateThresholds() == GateThresholds(0.9, 0.99, 0.99, 0.02)


def test_identical_detections_pass_with_recall_and_precision_1_and_no_drift() -> None:
    frames = {"a.png": grid(5, class_id=0), "b.png": grid(3, class_id=7), "c.mp4#10": rows()}

    report = gate(frames, {name: value.copy() for name, value in frames.items()})

    assert report.passed and report.reasons == ()
    assert (report.recall, report.precision, report.max_score_drift) == (1.0, 1.0, 0.0)
    assert [(f.name, f.source, f.built, f.matched) for f in report.frames] == [
        ("a.png", 5, 5, 5),
        ("b.png", 3, 3, 3),
        ("c.mp4#10", 0, 0, 0),
    ]


def test_a_missed_detection_drops_recall_below_0_99_and_fails_with_that_reason() -> None:
    source = {"a.png": grid(10), "b.png": grid(10)}
    built = {"a.png": grid(10)[1:], "b.png": grid(10)}

    report = gate(source, built)

    assert not report.passed
    assert report.recall == pytest.approx(19 / 20)
    assert report.precision == 1.0
    assert report.reasons == ("recall 0.9500 < 0.99: the build misses what the source model finds",)
    assert [(f.source, f.built, f.matched) for f in report.frames] == [(10, 9, 9), (10, 10, 10)]


def test_recall_exactly_at_0_99_still_passes() -> None:
    source = {"a.png": grid(100)}
    built = {"a.png": grid(100)[:99]}

    report = gate(source, built)

    assert report.recall == pytest.approx(0.99)
    assert report.passed and report.reasons == ()


def test_a_build_that_finds_nothing_fails_on_recall_and_is_not_blamed_for_false_detections() -> None:
    report = gate({"a.png": grid(4), "b.png": grid(2)}, {"a.png": rows(), "b.png": rows()})

    assert not report.passed
    assert (report.recall, report.precision) == (0.0, 1.0)
    assert report.reasons == ("recall 0.0000 < 0.99: the build misses what the source model finds",)


def test_an_extra_detection_drops_precision_and_fails_with_that_reason() -> None:
    source = {"a.png": grid(10)}
    built = {"a.png": np.concatenate([grid(10), rows((0.0, 500.0, 50.0, 550.0, 0.9, 0))])}

    report = gate(source, built)

    assert not report.passed
    assert report.recall == 1.0
    assert report.precision == pytest.approx(10 / 11)
    assert report.reasons == ("precision 0.9091 < 0.99: the build finds what the source does not",)


def test_a_box_shifted_below_iou_0_9_is_unmatched_and_just_above_it_is_matched() -> None:
    source = rows((0.0, 0.0, 100.0, 100.0, 0.8, 0))
    slightly = rows((5.0, 0.0, 105.0, 100.0, 0.8, 0))  # IoU 9500 / 10500 = 0.905
    too_far = rows((6.0, 0.0, 106.0, 100.0, 0.8, 0))  # IoU 9400 / 10600 = 0.887

    assert match_rows(source, slightly, MIN_IOU) == [(0, 0)]
    assert match_rows(source, too_far, MIN_IOU) == []

    report = gate({"a.png": source}, {"a.png": too_far})
    assert (report.recall, report.precision) == (0.0, 0.0)
    assert report.reasons == (
        "recall 0.0000 < 0.99: the build misses what the source model finds",
        "precision 0.0000 < 0.99: the build finds what the source does not",
    )


def test_the_same_box_with_another_class_is_unmatched() -> None:
    source = rows((0.0, 0.0, 100.0, 100.0, 0.8, 0), (200.0, 0.0, 300.0, 100.0, 0.7, 32))
    swapped = rows((0.0, 0.0, 100.0, 100.0, 0.8, 32), (200.0, 0.0, 300.0, 100.0, 0.7, 0))

    assert match_rows(source, swapped, MIN_IOU) == []
    assert match_rows(source, source.copy(), MIN_IOU) == [(0, 0), (1, 1)]
    report = gate({"a.png": source}, {"a.png": swapped})
    assert not report.passed and report.frames[0].matched == 0


def test_each_built_detection_matches_at_most_one_source_detection_best_source_score_first() -> None:
    # Two source boxes that both overlap the single built box above 0.9: only the higher-scored one gets it.
    source = rows((0.0, 0.0, 100.0, 100.0, 0.6, 0), (1.0, 0.0, 101.0, 100.0, 0.9, 0))
    built = rows((0.0, 0.0, 100.0, 100.0, 0.9, 0))

    assert match_rows(source, built, MIN_IOU) == [(1, 0)]


def test_the_best_overlapping_built_box_is_the_match() -> None:
    source = rows((0.0, 0.0, 100.0, 100.0, 0.8, 0))
    built = rows((4.0, 0.0, 104.0, 100.0, 0.5, 0), (1.0, 0.0, 101.0, 100.0, 0.5, 0))

    assert match_rows(source, built, MIN_IOU) == [(0, 1)]


def test_matching_empty_rows_gives_no_pairs() -> None:
    assert match_rows(rows(), grid(3), MIN_IOU) == []
    assert match_rows(grid(3), rows(), MIN_IOU) == []


def test_score_drift_over_0_02_fails_and_the_largest_drift_is_reported() -> None:
    source = {"a.png": grid(3, score=0.80), "b.png": grid(2, score=0.50)}
    built = {"a.png": grid(3, score=0.81), "b.png": grid(2, score=0.53)}

    report = gate(source, built)

    assert (report.recall, report.precision) == (1.0, 1.0)
    assert report.max_score_drift == pytest.approx(0.03, abs=1e-6)
    assert [f.max_score_drift for f in report.frames] == pytest.approx([0.01, 0.03], abs=1e-6)
    assert not report.passed
    assert report.reasons == ("score drift 0.0300 > 0.02",)


def test_score_drift_within_0_02_passes() -> None:
    report = gate({"a.png": grid(3, score=0.80)}, {"a.png": grid(3, score=0.815)})

    assert report.passed
    assert report.max_score_drift == pytest.approx(0.015, abs=1e-6)


def test_a_source_that_finds_nothing_fails_because_there_is_nothing_to_judge() -> None:
    report = gate({"a.png": rows(), "b.png": rows()}, {"a.png": rows(), "b.png": rows()})

    assert not report.passed
    assert report.recall == 0.0
    assert report.reasons[0] == "the source model finds nothing on the golden frames: nothing to judge the build on"
    assert report.reasons[1:] == ("recall 0.0000 < 0.99: the build misses what the source model finds",)


def test_thresholds_can_be_loosened_for_a_different_judgement() -> None:
    source = {"a.png": grid(10)}
    built = {"a.png": grid(10, score=0.85)[1:]}
    loose = GateThresholds(min_iou=0.5, min_recall=0.9, min_precision=0.9, max_score_drift=0.1)

    assert not gate(source, built).passed
    report = gate(source, built, loose)
    assert report.passed and report.thresholds == loose


def test_the_report_as_json_holds_thresholds_frames_and_reasons() -> None:
    report = gate({"a.png": grid(2)}, {"a.png": grid(1)})

    data = json.loads(json.dumps(report.as_json()))

    assert data["passed"] is False
    assert data["thresholds"] == {"min_iou": 0.9, "min_recall": 0.99, "min_precision": 0.99, "max_score_drift": 0.02}
    assert data["frames"] == [{"name": "a.png", "source": 2, "built": 1, "matched": 1, "max_score_drift": 0.0}]
    assert data["reasons"] == ["recall 0.5000 < 0.99: the build misses what the source model finds"]


@pytest.mark.parametrize(
    ("text", "bucket", "prefix", "endpoint"),
    [
        ("s3://models/detectors", "models", "detectors", None),
        ("s3://models", "models", "", None),
        ("s3://models/team/detectors/", "models", "team/detectors", None),
        ("s3://127.0.0.1:9000/models/a/b", "models", "a/b", "http://127.0.0.1:9000"),
        ("s3://minio.internal:9000/models", "models", "", "http://minio.internal:9000"),
    ],
)
def test_store_uri_parses_aws_and_host_port_forms(text: str, bucket: str, prefix: str, endpoint: str | None) -> None:
    store = StoreUri.parse(text)

    assert (store.bucket, store.prefix, store.endpoint_url) == (bucket, prefix, endpoint)


def test_store_uri_keys_sit_under_the_prefix_and_it_prints_as_parsed() -> None:
    store = StoreUri.parse("s3://127.0.0.1:9000/bucket/a/b")

    assert store.key("detector", "1", "model.onnx") == "a/b/detector/1/model.onnx"
    assert StoreUri.parse("s3://bucket").key("detector", "config.pbtxt") == "detector/config.pbtxt"
    assert str(store) == "s3://127.0.0.1:9000/bucket/a/b"
    assert str(StoreUri.parse("s3://bucket")) == "s3://bucket"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "https://bucket/prefix",
            "'https://bucket/prefix': a model store is s3://BUCKET/PREFIX or s3://HOST:PORT/BUCKET/PREFIX",
        ),
        ("bucket/prefix", "'bucket/prefix': a model store is s3://BUCKET/PREFIX or s3://HOST:PORT/BUCKET/PREFIX"),
        ("s3://", "'s3://' names no bucket"),
        ("s3://127.0.0.1:9000/", "'s3://127.0.0.1:9000/' names no bucket"),
    ],
)
def test_store_uri_errors_say_which_forms_are_accepted(text: str, message: str) -> None:
    with pytest.raises(StoreUriError) as error:
        StoreUri.parse(text)

    assert str(error.value) == message
    assert isinstance(error.value, ValueError)  # the CLI's one-line error path catches ValueError

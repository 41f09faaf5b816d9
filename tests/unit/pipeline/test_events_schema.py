"""Every kind of event serialises to JSON that validates against the shipped schema."""

import json

import jsonschema
import pytest

from orchestrator.events.model import (
    SCHEMA_PATH,
    DetectionEvent,
    FrameContext,
    FrameErrorCode,
    FrameErrorEvent,
    ModelRef,
    StageLatency,
    StatusEvent,
    StreamState,
    TrackedDetection,
    to_json_bytes,
    to_json_dict,
)

SCHEMA = json.loads(SCHEMA_PATH.read_text())
FRAME = FrameContext("north", "run1", 42, 4.2, 1_800_000_000.0, 768, 576)
MODEL = ModelRef("detector", "3")


def detection_event() -> DetectionEvent:
    person = TrackedDetection((76.8, 57.6, 384.0, 576.0), 0.81, 0, "person", 7)
    return DetectionEvent(FRAME, (person,), StageLatency(3.0, 1.5, 40.0, 47.0), 1_800_000_000.05, MODEL)


def test_detection_event_json() -> None:
    document = to_json_dict(detection_event())
    jsonschema.validate(document, SCHEMA)
    assert document["type"] == "detections" and document["frame_seq"] == 42
    (det,) = document["detections"]
    assert det["box_norm"] == [0.1, 0.1, 0.5, 1.0]
    assert (det["class_name"], det["track_id"]) == ("person", 7)
    assert document["latency_ms"]["glass_to_event"] == 47.0
    assert document["model"] == {"name": "detector", "version": "3"}
    assert json.loads(to_json_bytes(detection_event())) == document


def test_event_id_is_stable_and_distinct() -> None:
    first, again = to_json_dict(detection_event()), to_json_dict(detection_event())
    assert first["event_id"] == again["event_id"], "a retried event must keep its id"
    other = to_json_dict(
        DetectionEvent(FrameContext("north", "run1", 43, 4.3, 0.0, 768, 576), (), StageLatency(0, 0, 0, 0), 1.0, MODEL)
    )
    assert other["event_id"] != first["event_id"]


def test_frame_error_and_status_events() -> None:
    error = to_json_dict(FrameErrorEvent(FRAME, FrameErrorCode.REJECTED, "frame is too large", 1.0))
    undecodable = FrameContext("north", "run1", 43, 4.3, 1.0, None, None)
    no_size = to_json_dict(FrameErrorEvent(undecodable, FrameErrorCode.REJECTED, "not an image", 1.0))
    started = to_json_dict(StatusEvent("north", "run1", 0, StreamState.STARTED, "opened", 1.0, 0))
    ended = to_json_dict(StatusEvent("north", "run1", 0, StreamState.ENDED, "0 frames", 2.0, 1))
    for document in (error, no_size, started, ended):
        jsonschema.validate(document, SCHEMA)
    assert "frame_size" not in no_size
    assert started["event_id"] != ended["event_id"]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("event_id"),
        lambda d: d.update(type="detection"),
        lambda d: d["detections"][0].update(track_id=0),
        lambda d: d["detections"][0].update(box_norm=[0, 0, 1.5, 1]),
        lambda d: d.pop("latency_ms"),
        lambda d: d.update(extra=1),
    ],
)
def test_schema_rejects_broken_events(breakage) -> None:
    document = to_json_dict(detection_event())
    breakage(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)

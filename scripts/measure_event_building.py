"""CPU time the orchestrator spends per frame after inference: tracking, pitch positions and zones, JSON.

A full football scene (22 people walking, a calibrated camera with the template's zones) through the real
EventBuilder, against the same frames through the tracker alone (the direct baseline: what any tracking client
pays). CPU time of this process (time.process_time), so other load on the machine inflates it little.

    .venv/bin/python scripts/measure_event_building.py [--frames 2000] [--people 22]
"""

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from orchestrator.config.camera import CameraPitch, CameraSettings
from orchestrator.events.model import to_json_dict
from orchestrator.pipeline.event_builder import EventBuilder
from orchestrator.pipeline.results import Inferred
from orchestrator.pitch.calibration import fit_calibration
from orchestrator.pitch.templates import football
from orchestrator.sources.frame import Frame
from orchestrator.tracking.tracker import Tracker
from orchestrator.triton.detections import Detections

SIZE = (1920, 1080)
FPS = 25.0


def frames(count: int, people: int) -> list[Inferred]:
    """People at 0.5 m/s-ish random walks seen by a camera whose image spans the whole pitch."""
    rng = np.random.default_rng(7)
    xy = rng.uniform([5.0, 5.0], [100.0, 63.0], (people, 2))
    scale = np.array([SIZE[0] / 105.0, SIZE[1] / 68.0])
    image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    out = []
    for seq in range(count):
        xy += rng.normal(0.0, 0.05, xy.shape)
        feet = xy * scale
        rows = np.column_stack([feet[:, 0] - 10, feet[:, 1] - 45, feet[:, 0] + 10, feet[:, 1],
                                np.full(people, 0.9), np.zeros(people)]).astype(np.float32)  # fmt: skip
        frame = Frame("cam", seq, image, seq / FPS, time.time(), 0.0, time.monotonic())
        out.append(Inferred(frame, Detections.from_rows(rows, "detector", "1"), 0.0, 0.0, "local"))
    return out


def calibrated() -> CameraSettings:
    image = np.array([[0, 0], [SIZE[0], 0], [SIZE[0], SIZE[1]], [0, SIZE[1]]], np.float64)
    pitch = football()
    calibration = fit_calibration(image, np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float64), SIZE)
    return CameraSettings(pitch=CameraPitch(pitch, calibration, SIZE, pitch.zones))


def as_json(builder: EventBuilder, work: Inferred) -> list[str]:
    return [json.dumps(to_json_dict(e)) for e in builder.detections(work, 0.0)]


def cpu_ms_per_frame(work: list[Inferred], step: object) -> float:
    started = time.process_time()
    for item in work:
        step(item)  # type: ignore[operator]
    return (time.process_time() - started) * 1e3 / len(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--people", type=int, default=22)
    args = parser.parse_args()
    work = frames(args.frames, args.people)
    tracker = Tracker()
    plain = EventBuilder("cam", "run", Tracker())
    pitch = EventBuilder("cam", "run", Tracker(), calibrated())
    with_json = EventBuilder("cam", "run", Tracker(), calibrated())
    found = [w.detections for w in work]
    with threadpool_limits(limits=1, user_api="blas"):  # as in a run
        started = time.process_time()
        for d in found:
            tracker.update(d.boxes, d.scores, d.class_ids)
        baseline = (time.process_time() - started) * 1e3 / len(found)
        report = {
            "frames": args.frames,
            "detections_per_frame": args.people,
            "tracker_only_ms": round(baseline, 3),
            "events_ms": round(cpu_ms_per_frame(work, lambda w: plain.detections(w, 0.0)), 3),
            "events_with_pitch_ms": round(cpu_ms_per_frame(work, lambda w: pitch.detections(w, 0.0)), 3),
            "events_with_pitch_and_json_ms": round(cpu_ms_per_frame(work, lambda w: as_json(with_json, w)), 3),
        }
    report["ratio_to_tracker_only"] = round(report["events_with_pitch_and_json_ms"] / baseline, 2)
    report["frames_per_cpu_second"] = round(1e3 / report["events_with_pitch_and_json_ms"])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

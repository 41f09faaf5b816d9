"""``pitchside run`` with tracing on: one trace per frame, five spans in order, and Triton's spans in the same
trace, all received by a real OTLP/HTTP receiver that both pitchside and the embedded Triton export to."""

import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
FRAMES = 6
STAGES = ["decode", "queue", "infer", "track", "deliver"]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """No --triton-url: the run starts its own embedded Triton, which must join the traces by itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PITCHSIDE_"))}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--offline", "--max-frames", str(FRAMES),
         "--metrics-port", "0", "--sink", "jsonl:out/events.jsonl", *args],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env,
    )  # fmt: skip


def _detection_seqs(tmp_path: Path) -> list[int]:
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    return [e["frame_seq"] for e in events if e["type"] == "detections"]


def _children(spans: list[ReceivedSpan], root: ReceivedSpan) -> list[ReceivedSpan]:
    mine = [s for s in spans if s.trace_id == root.trace_id and s.parent_span_id == root.span_id]
    return sorted(mine, key=lambda s: (s.start_ns, s.end_ns))


def test_every_frame_is_one_trace_of_five_ordered_spans_that_triton_joins(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        result = _run(tmp_path, "--otlp-endpoint", receiver.endpoint)
        spans = receiver.spans
    assert result.returncode == 0, result.stderr[-3000:]
    assert receiver.rejected == []
    assert _detection_seqs(tmp_path) == list(range(FRAMES))

    ours = [s for s in spans if s.service == "pitchside"]
    triton = [s for s in spans if s.service == "triton"]
    roots = [s for s in ours if s.name == "frame"]
    assert sorted(r.attributes["pitchside.frame_seq"] for r in roots) == list(range(FRAMES))
    assert len({r.trace_id for r in roots}) == FRAMES, "one trace per frame"
    assert all(r.parent_span_id == "" and r.attributes["pitchside.stream_id"] == "sample" for r in roots)
    assert {s.content_type for s in ours} == {"application/x-protobuf"}
    assert {s.content_type.split(";")[0] for s in triton} == {"application/json"}

    for root in roots:
        children = _children(ours, root)
        assert [c.name for c in children] == STAGES, root.attributes
        assert all(a.end_ns <= b.start_ns for a, b in pairwise(children)), "stages do not overlap"
        assert root.start_ns == children[0].start_ns and children[-1].end_ns <= root.end_ns
        assert root.attributes["pitchside.outcome"] == "detections"
        assert len([s for s in ours if s.trace_id == root.trace_id]) == len(STAGES) + 1

    joined = {s.trace_id for s in triton}
    assert joined <= {r.trace_id for r in roots}, "Triton traced the frames' requests and nothing else"
    # Triton 2.51 leaves an occasional request (or part of its spans) out of its export although the request
    # carried the context (docs/RUNBOOK.md#traces): every frame whose request span Triton exported is checked in
    # full, and there must be at least one.
    assert joined, "no frame's trace id reached Triton"
    checked = 0
    for root in (r for r in roots if r.trace_id in joined):
        infer = _children(ours, root)[STAGES.index("infer")]
        spans_of_triton = [s for s in triton if s.trace_id == root.trace_id]
        requests = [s for s in spans_of_triton if s.parent_span_id == infer.span_id]
        if not requests:
            continue
        (request,) = requests
        assert request.name == "InferRequest"
        (model,) = [s for s in spans_of_triton if s.parent_span_id == request.span_id]
        assert (model.name, model.attributes["triton.model_name"]) == ("detector", "detector")
        assert [s.name for s in spans_of_triton if s.parent_span_id == model.span_id] == ["compute"]
        assert len(spans_of_triton) == 3
        checked += 1
    assert checked, "Triton exported no frame's request span under the frame's infer span"


def test_frames_sampled_out_are_traced_by_neither_pitchside_nor_triton(tmp_path: Path) -> None:
    """Triton traces every request that carries a trace context (its own rate is 0): a frame the orchestrator
    does not sample must send none, and then Triton exports nothing either."""
    with OtlpReceiver() as receiver:
        config = tmp_path / "pitchside.toml"
        config.write_text(f'[tracing]\nenabled = true\nsample_ratio = 0\notlp_endpoint = "{receiver.endpoint}"\n')
        result = _run(tmp_path, "--config", str(config))
        spans = receiver.spans
    assert result.returncode == 0, result.stderr[-3000:]
    assert _detection_seqs(tmp_path) == list(range(FRAMES))
    assert spans == [] and receiver.rejected == []

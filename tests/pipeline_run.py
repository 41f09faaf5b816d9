"""Run a real pitchside session into a JSON Lines sink and read back what arrived."""

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
from prometheus_client import CollectorRegistry

from orchestrator.config.run_config import FlowSettings, Mode, RunConfig, TritonSettings
from orchestrator.events.model import SCHEMA_PATH
from orchestrator.pipeline.session import RunSummary, run_session
from orchestrator.sinks.settings import DeliverySettings
from orchestrator.sources.spec import SourceSpec

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def session_config(
    tmp_path: Path, streams: tuple[SourceSpec, ...], grpc_url: str | tuple[str, ...], mode: Mode, **flow: object
) -> RunConfig:
    urls = (grpc_url,) if isinstance(grpc_url, str) else grpc_url
    return RunConfig(
        streams=streams,
        sinks=(f"jsonl:{tmp_path / 'events.jsonl'}",),
        triton=TritonSettings(urls=urls),
        flow=replace(FlowSettings(mode=mode), **flow),
        metrics_port=None,
        progress_interval_s=3600,
        delivery=DeliverySettings(journal_dir=tmp_path / "journal", dead_letter_path=tmp_path / "dead-letter.jsonl"),
    )


async def run_and_read(config: RunConfig, **kwargs: object) -> tuple[RunSummary, list[dict]]:
    """Run to the end; every event that reached the sink, each validated against the event schema."""
    summary = await run_session(config, registry=CollectorRegistry(), report=lambda line: None, **kwargs)
    sink = next(s for s in config.sinks if s.startswith("jsonl:"))
    events = [json.loads(line) for line in Path(sink.removeprefix("jsonl:")).read_text().splitlines()]
    for event in events:
        jsonschema.validate(event, SCHEMA)
    return summary, events


def of_stream(events: list[dict], stream_id: str, kind: str | None = None) -> list[dict]:
    return [e for e in events if e["stream_id"] == stream_id and (kind is None or e["type"] == kind)]

"""A RunConfig written back in the TOML layout: what ``pitchside config show`` prints, and a file
``pitchside config check`` accepts (paths resolved, the shard's streams only, every default spelled out)."""

import json
import re
from dataclasses import asdict, fields
from enum import Enum
from pathlib import Path
from typing import Any

from orchestrator.config.camera import CameraSettings
from orchestrator.config.run_config import FlowSettings, RunConfig
from orchestrator.sources.spec import SourceSpec
from orchestrator.tracking.tracker import TrackerConfig

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
LIVE_KEYS = ("staleness_budget_s", "live_buffer_frames", "live_in_flight")
OFFLINE_KEYS = ("offline_buffer_frames", "offline_in_flight", "outage_timeout_s")
DELIVERY_ELSEWHERE = ("journal_dir", "dead_letter_path", "retry")


def as_mapping(config: RunConfig) -> dict[str, Any]:
    flow, delivery = config.flow, config.delivery
    out: dict[str, Any] = {"mode": flow.mode, "progress_interval_s": config.progress_interval_s}
    out.update(_given(annotate=config.annotate, max_frames=flow.max_frames))
    out["triton"] = _given(**asdict(config.triton))
    out["live"] = {k: getattr(flow, k) for k in LIVE_KEYS}
    out["offline"] = {k: getattr(flow, k) for k in OFFLINE_KEYS}
    out["reconnect"] = asdict(flow.reconnect)
    out["tracker"] = asdict(config.tracker)
    out["metrics"] = {"port": config.metrics_port or 0, "host": config.metrics_host}
    out["delivery"] = {
        "journal_dir": delivery.journal_dir,
        "dead_letter": delivery.dead_letter_path,
        **{f.name: getattr(delivery, f.name) for f in fields(delivery) if f.name not in DELIVERY_ELSEWHERE},
        "retry": {"base_s": delivery.retry.base_s, "max_s": delivery.retry.max_s},
    }
    out["tracing"] = _given(**asdict(config.tracing))
    out["streams"] = [_stream(spec, config) for spec in config.streams]
    out["sinks"] = [{"uri": uri} for uri in config.sinks]
    plain: dict[str, Any] = _plain(out)
    return plain


def to_json(config: RunConfig) -> str:
    return json.dumps(as_mapping(config), indent=2)


def to_toml(mapping: dict[str, Any]) -> str:
    """TOML for the shapes a config has: scalars and lists of them, tables, arrays of tables."""
    lines = _scalars(mapping)
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]", *_scalars(value)]
            lines += [
                line
                for sub, table in value.items()
                if isinstance(table, dict)
                for line in ["", f"[{key}.{sub}]", *_scalars(table)]
            ]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                lines += ["", f"[[{key}]]", *_scalars(entry)]
                lines += [
                    line
                    for sub, table in entry.items()
                    if isinstance(table, dict)
                    for line in [f"[{key}.{sub}]", *_scalars(table, inline=True)]
                ]
    return "\n".join(lines).lstrip("\n") + "\n"


def _stream(spec: SourceSpec, config: RunConfig) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": spec.stream_id, "source": spec.uri}
    own, run_flow = config.flow_for(spec), config.flow
    for f in fields(FlowSettings):
        if f.name != "reconnect" and getattr(own, f.name) != getattr(run_flow, f.name):
            entry[f.name] = getattr(own, f.name)
    if own.reconnect != run_flow.reconnect:
        entry["reconnect"] = asdict(own.reconnect)
    tracker = config.tracker_for(spec)
    if tracker != config.tracker:
        entry["tracker"] = {f.name: getattr(tracker, f.name) for f in fields(TrackerConfig)}
    return {**entry, **_camera(config.camera_for(spec))}


def _camera(camera: CameraSettings) -> dict[str, Any]:
    """A camera's settings; a calibration as the homography it was fitted to (what the run uses)."""
    out: dict[str, Any] = _given(
        classes=None if camera.classes is None else sorted(camera.classes), max_fps=camera.max_fps
    )
    if camera.score_thresholds:
        out["score_thresholds"] = dict(camera.score_thresholds)
    pitch = camera.pitch
    if pitch is not None:
        template = pitch.template
        out["pitch"] = {
            "template": template.name,
            "length_m": template.length_m,
            "width_m": template.width_m,
            "image_size": list(pitch.image_size),
            "homography": pitch.calibration.homography.tolist(),
            "zones": {name: polygon.tolist() for name, polygon in pitch.zones.items()},
            "ball_classes": list(pitch.ball_classes),
        }
    return out


def _given(**values: Any) -> dict[str, Any]:
    """TOML has no null: a setting left unset is left out."""
    return {k: v for k, v in values.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def _scalars(table: dict[str, Any], inline: bool = False) -> list[str]:
    """``key = value`` lines; with ``inline``, a table inside is written as an inline table (TOML sub-tables of
    an array of tables' sub-table would need their own headers)."""
    return [
        f"{_key(k)} = {_value(v)}" for k, v in table.items() if not _is_table(v) or (inline and isinstance(v, dict))
    ]


def _key(key: str) -> str:
    """A bare key where TOML allows one, else a quoted key ("*")."""
    return key if BARE_KEY.fullmatch(key) else json.dumps(key)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and bool(value) and isinstance(value[0], dict))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string

"""[tracing] in pitchside.toml, --otlp-endpoint and OTEL_EXPORTER_OTLP_ENDPOINT, the exporter's sampler, and the
flags that make Triton join the traces."""

from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orchestrator.cli.run_options import RunFlags, resolve
from orchestrator.config.run_config import ConfigError, from_mapping
from orchestrator.tracing.export import tracer_provider
from orchestrator.tracing.settings import DEFAULT_OTLP_ENDPOINT, OTLP_ENDPOINT_ENV, TracingSettings
from orchestrator.triton.tracing import TritonTracing

STREAMS = {"streams": [{"id": "a", "source": "clip.mp4"}]}


def test_tracing_is_off_by_default() -> None:
    settings = from_mapping(STREAMS).tracing
    assert settings == TracingSettings(enabled=False, otlp_endpoint=None, service_name="pitchside", sample_ratio=1.0)
    assert settings.traces_url == f"{DEFAULT_OTLP_ENDPOINT}/v1/traces"


def test_the_tracing_table_is_read() -> None:
    table = {"enabled": True, "otlp_endpoint": "http://collector:4318/", "service_name": "pitch-a", "sample_ratio": 0}
    settings = from_mapping({**STREAMS, "tracing": table}).validated().tracing
    assert settings == TracingSettings(True, "http://collector:4318/", "pitch-a", 0.0)
    assert settings.traces_url == "http://collector:4318/v1/traces"
    assert TracingSettings(otlp_endpoint="http://c:4318/v1/traces").traces_url == "http://c:4318/v1/traces"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"enable": True}, r"^config: tracing.enable: unknown setting \(known: enabled, otlp_endpoint, "),
        ({"enabled": "yes"}, r"^config: tracing.enabled: expected true or false, got the string 'yes'$"),
        ({"sample_ratio": 1.5}, r"^config: tracing: sample_ratio must be within 0..1, got 1.5$"),
        ({"otlp_endpoint": "collector:4318"}, r"^config: tracing: otlp_endpoint must be an http\(s\) URL"),
        ({"service_name": ""}, r"^config: tracing: service_name must not be empty$"),
    ],
)
def test_a_bad_tracing_setting_is_a_config_error(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping({**STREAMS, "tracing": table}).validated()


def _file(tmp_path: Path, endpoint: str | None) -> Path:
    path = tmp_path / "pitchside.toml"
    path.write_text(
        '[[streams]]\nsource = "clip.mp4"\n' + (f'[tracing]\notlp_endpoint = "{endpoint}"\n' if endpoint else "")
    )
    return path


def test_the_flag_turns_tracing_on_and_wins_over_file_and_environment(tmp_path: Path) -> None:
    flags = RunFlags(otlp_endpoint="http://flag:4318")
    tracing = resolve(_file(tmp_path, "http://file:4318"), flags, {OTLP_ENDPOINT_ENV: "http://env:4318"}).tracing
    assert (tracing.enabled, tracing.otlp_endpoint) == (True, "http://flag:4318")


def test_the_environment_fills_in_only_an_endpoint_the_file_left_out_and_turns_nothing_on(tmp_path: Path) -> None:
    from_file = resolve(_file(tmp_path, "http://file:4318"), RunFlags(), {OTLP_ENDPOINT_ENV: "http://x:4318"})
    assert from_file.tracing.otlp_endpoint == "http://file:4318"
    from_env = resolve(_file(tmp_path, None), RunFlags(), {OTLP_ENDPOINT_ENV: "http://env:4318"}).tracing
    assert (from_env.enabled, from_env.otlp_endpoint) == (False, "http://env:4318")
    assert resolve(_file(tmp_path, None), RunFlags(), {}).tracing == TracingSettings()


@pytest.mark.parametrize(("ratio", "sampled"), [(1.0, 20), (0.0, 0)])
def test_the_sample_ratio_decides_which_frames_are_traced(ratio: float, sampled: int) -> None:
    exporter = InMemorySpanExporter()
    provider = tracer_provider(TracingSettings(enabled=True, sample_ratio=ratio), exporter)
    tracer = provider.get_tracer("test")
    for _ in range(20):
        tracer.start_span("frame").end()
    provider.shutdown()
    assert len(exporter.get_finished_spans()) == sampled


def test_triton_joins_only_requests_that_carry_a_context_and_exports_to_the_collector() -> None:
    assert TritonTracing("http://collector:4318/v1/traces").args() == [
        "--trace-config=mode=opentelemetry",
        "--trace-config=rate=0",
        "--trace-config=count=-1",
        "--trace-config=level=TIMESTAMPS",
        "--trace-config=opentelemetry,url=http://collector:4318/v1/traces",
        "--trace-config=opentelemetry,resource=service.name=triton",
    ]


def test_a_config_file_with_tracing_loads(tmp_path: Path) -> None:
    path = tmp_path / "pitchside.toml"
    path.write_text('[[streams]]\nsource = "clip.mp4"\n[tracing]\nenabled = true\nsample_ratio = 0.25\n')
    from orchestrator.config.run_config import load_toml

    assert load_toml(path).tracing == TracingSettings(enabled=True, sample_ratio=0.25)

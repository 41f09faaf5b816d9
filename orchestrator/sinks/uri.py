"""Sink URIs, parsed at the edge into one frozen config per sink.

``stdout:``
``jsonl:PATH``                                   (``jsonl:///abs/path`` for an absolute path)
``kinesis://STREAM[?region=R&endpoint_url=U]``
``sqs://QUEUE_NAME[?...]`` or ``sqs://https://HOST/ACCOUNT/QUEUE[?...]`` (a ``.fifo`` name means a FIFO queue;
    ``max_message_bytes`` overrides the per-message limit, default 256 KiB)
``s3://BUCKET[/PREFIX][?gzip=true&max_bytes=N&max_age_s=S&region=R&endpoint_url=U]``

Credentials never come from here: the clients use the standard AWS chain. Without ``endpoint_url`` the standard
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables apply (botocore reads them).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from orchestrator.sinks.errors import SinkConfigError

DEFAULT_S3_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_S3_MAX_AGE_S = 60.0
# The limit the issue and most deployed queues use; AWS now allows queues up to 1 MiB (set per queue).
DEFAULT_SQS_MAX_MESSAGE_BYTES = 256 * 1024
SQS_MAX_MESSAGE_BYTES_CEILING = 1024 * 1024
SQS_MAX_MESSAGE_BYTES_FLOOR = 1024

_KINESIS_STREAM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_SQS_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}(\.fifo)?$")
_S3_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_AWS_KEYS = frozenset({"region", "endpoint_url"})


@dataclass(frozen=True, slots=True)
class AwsTarget:
    """Where an AWS client points: ``None`` means the standard chain (config file, env, instance metadata)."""

    region: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True, slots=True)
class StdoutSinkConfig:
    @property
    def name(self) -> str:
        return "stdout:"


@dataclass(frozen=True, slots=True)
class JsonlSinkConfig:
    path: Path

    @property
    def name(self) -> str:
        return f"jsonl:{self.path}"


@dataclass(frozen=True, slots=True)
class KinesisSinkConfig:
    stream: str
    aws: AwsTarget = AwsTarget()

    @property
    def name(self) -> str:
        return f"kinesis://{self.stream}"


@dataclass(frozen=True, slots=True)
class SqsSinkConfig:
    """``queue`` is a queue name (resolved with GetQueueUrl) or a queue URL."""

    queue: str
    aws: AwsTarget = AwsTarget()
    max_message_bytes: int = DEFAULT_SQS_MAX_MESSAGE_BYTES

    @property
    def name(self) -> str:
        return f"sqs://{self.queue}"

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")

    @property
    def is_url(self) -> bool:
        return self.queue.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class S3SinkConfig:
    """Objects hold at most ``max_bytes`` of JSON Lines and are written at the latest ``max_age_s`` after their
    first event arrived."""

    bucket: str
    prefix: str = ""
    gzip: bool = False
    max_bytes: int = DEFAULT_S3_MAX_BYTES
    max_age_s: float = DEFAULT_S3_MAX_AGE_S
    aws: AwsTarget = AwsTarget()

    @property
    def name(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


SinkConfig = StdoutSinkConfig | JsonlSinkConfig | KinesisSinkConfig | SqsSinkConfig | S3SinkConfig


def parse_sink_uri(uri: str) -> SinkConfig:
    """The config a sink URI names; raises :class:`SinkConfigError` with the reason if it names none."""
    scheme, sep, rest = uri.partition(":")
    parser = _PARSERS.get(scheme.lower()) if sep else None
    if parser is None:
        known = ", ".join(f"{name}:" for name in _PARSERS)
        raise SinkConfigError(f"unknown sink {uri!r}: expected one of {known}")
    return parser(uri, rest)


def _parse_stdout(uri: str, rest: str) -> StdoutSinkConfig:
    if rest.strip("/"):
        raise SinkConfigError(f"{uri!r}: stdout: takes no path")
    return StdoutSinkConfig()


def _parse_jsonl(uri: str, rest: str) -> JsonlSinkConfig:
    path = rest[2:] if rest.startswith("//") else rest
    if not path or "?" in path:
        raise SinkConfigError(f"{uri!r}: expected jsonl:PATH")
    return JsonlSinkConfig(Path(path))


def _parse_kinesis(uri: str, rest: str) -> KinesisSinkConfig:
    parts = urlsplit(uri)
    if parts.path.strip("/") or not _KINESIS_STREAM_NAME.match(parts.netloc):
        raise SinkConfigError(f"{uri!r}: expected kinesis://STREAM with a valid stream name")
    query = _query(uri, parts.query, allowed=_AWS_KEYS)
    return KinesisSinkConfig(parts.netloc, _aws(query))


def _parse_sqs(uri: str, rest: str) -> SqsSinkConfig:
    target, _, raw_query = rest.removeprefix("//").partition("?")
    query = _query(uri, raw_query, allowed=_AWS_KEYS | {"max_message_bytes"})
    is_url = target.startswith(("http://", "https://"))
    name = target.rstrip("/").rsplit("/", 1)[-1] if is_url else target
    if not _SQS_QUEUE_NAME.match(name) or (is_url and not urlsplit(target).netloc):
        raise SinkConfigError(f"{uri!r}: expected sqs://QUEUE_NAME or sqs://https://HOST/ACCOUNT/QUEUE")
    max_message_bytes = _int(uri, query, "max_message_bytes", DEFAULT_SQS_MAX_MESSAGE_BYTES)
    if not SQS_MAX_MESSAGE_BYTES_FLOOR <= max_message_bytes <= SQS_MAX_MESSAGE_BYTES_CEILING:
        raise SinkConfigError(f"{uri!r}: max_message_bytes must be within 1 KiB .. 1 MiB")
    return SqsSinkConfig(target.rstrip("/"), _aws(query), max_message_bytes)


def _parse_s3(uri: str, rest: str) -> S3SinkConfig:
    parts = urlsplit(uri)
    if not _S3_BUCKET_NAME.match(parts.netloc):
        raise SinkConfigError(f"{uri!r}: expected s3://BUCKET/PREFIX with a valid bucket name")
    query = _query(uri, parts.query, allowed=_AWS_KEYS | {"gzip", "max_bytes", "max_age_s"})
    max_bytes = _int(uri, query, "max_bytes", DEFAULT_S3_MAX_BYTES)
    max_age_s = _float(uri, query, "max_age_s", DEFAULT_S3_MAX_AGE_S)
    if max_bytes <= 0 or max_age_s <= 0:
        raise SinkConfigError(f"{uri!r}: max_bytes and max_age_s must be positive")
    gzip = _bool(uri, query, "gzip")
    return S3SinkConfig(parts.netloc, parts.path.strip("/"), gzip, max_bytes, max_age_s, _aws(query))


def _query(uri: str, raw: str, *, allowed: frozenset[str] | set[str]) -> dict[str, str]:
    pairs = parse_qsl(raw, keep_blank_values=True)
    query = dict(pairs)
    unknown = set(query) - set(allowed)
    if unknown or len(query) != len(pairs):
        raise SinkConfigError(f"{uri!r}: unknown or repeated parameters {sorted(unknown) or pairs}")
    return query


def _aws(query: dict[str, str]) -> AwsTarget:
    return AwsTarget(region=query.get("region") or None, endpoint_url=query.get("endpoint_url") or None)


def _int(uri: str, query: dict[str, str], key: str, default: int) -> int:
    try:
        return int(query[key]) if key in query else default
    except ValueError as exc:
        raise SinkConfigError(f"{uri!r}: {key} must be an integer") from exc


def _float(uri: str, query: dict[str, str], key: str, default: float) -> float:
    try:
        return float(query[key]) if key in query else default
    except ValueError as exc:
        raise SinkConfigError(f"{uri!r}: {key} must be a number") from exc


def _bool(uri: str, query: dict[str, str], key: str) -> bool:
    value = query.get(key, "false").lower()
    if value not in {"true", "false", "1", "0"}:
        raise SinkConfigError(f"{uri!r}: {key} must be true or false")
    return value in {"true", "1"}


_PARSERS: dict[str, Callable[[str, str], SinkConfig]] = {
    "stdout": _parse_stdout,
    "jsonl": _parse_jsonl,
    "kinesis": _parse_kinesis,
    "sqs": _parse_sqs,
    "s3": _parse_s3,
}

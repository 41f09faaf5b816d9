"""The boundary to botocore: client settings for every AWS sink, and its exceptions translated into ours."""

import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.sinks.errors import BatchRejectedError, FeedNotFoundError, SinkUnavailableError
from orchestrator.sinks.uri import AwsTarget

T = TypeVar("T")
logger = logging.getLogger(__name__)

# A dead endpoint must fail fast so the channel can back off and journal; a live one answers in milliseconds.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 10.0
# Concurrent calls per client; one channel makes one call at a time, this leaves room for S3's parallel puts.
MAX_POOL_CONNECTIONS = 16

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "LimitExceededException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
    }
)
# The call as a whole was malformed for the feed: only splitting it can tell which record is at fault.
INVALID_CALL_CODES = frozenset(
    {
        "ValidationException",
        "InvalidArgumentException",
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "InvalidMessageContents",
        "BatchRequestTooLong",
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "EntityTooLarge",
        "MaxMessageSizeExceeded",
    }
)

# The feed itself does not exist (as opposed to being unreachable, throttled or refusing credentials).
MISSING_FEED_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NoSuchBucket",
        "404",
        "NotFound",
    }
)


def client_config(target: AwsTarget) -> Config:
    """botocore settings for a sink client. Retries are off: the delivery channel retries, with jitter, only what
    failed, and counts it."""
    return Config(
        region_name=target.region,
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=MAX_POOL_CONNECTIONS,
        retries={"total_max_attempts": 1},
    )


@asynccontextmanager
async def aws_client(session: aioboto3.Session, service: str, target: AwsTarget) -> AsyncIterator[Any]:
    """An open aiobotocore client for ``service``. Only the target's endpoint override is passed; credentials
    and, without an override, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_<SERVICE>`` come from botocore's chain."""
    kwargs: dict[str, Any] = {"config": client_config(target)}
    if target.endpoint_url:
        kwargs["endpoint_url"] = target.endpoint_url
    async with session.client(service, **kwargs) as client:
        yield client


async def call_aws(call: Awaitable[T], what: str) -> T:
    """Await one AWS call, translating its failure into :class:`SinkUnavailableError` (retry later) or
    :class:`BatchRejectedError` (the call itself is invalid)."""
    try:
        return await call
    except ClientError as exc:
        raise translate_client_error(exc, what) from exc
    except (BotoCoreError, OSError, TimeoutError) as exc:
        raise SinkUnavailableError(f"{what}: {exc}") from exc


def translate_client_error(exc: ClientError, what: str) -> Exception:
    """Our error for an AWS error response. Anything not known to be the call's own fault is retried: a missing
    stream, an expired credential or a 5xx must delay events, not lose them."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = f"{what}: {code}: {error.get('Message', '')}"
    if code in INVALID_CALL_CODES:
        return BatchRejectedError(message)
    return SinkUnavailableError(message, throttled=code in THROTTLING_CODES)


async def check_feed_exists(probe: Awaitable[object], what: str) -> None:
    """Start-up check of one feed with a cheap read call (``probe``).

    A feed that does not exist raises :class:`FeedNotFoundError`: events sent there would only pile up in the
    journal while the run reports success. A feed that cannot be reached right now is logged and let through:
    that is an outage, which the delivery channel rides out by journaling and retrying.
    """
    try:
        await probe
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in MISSING_FEED_CODES:
            detail = error.get("Message") or "not found"
            raise FeedNotFoundError(f"{what} does not exist ({code}: {detail})") from exc
        logger.warning("%s: start-up check failed (%s); delivery will retry", what, code or exc)
    except (BotoCoreError, OSError, TimeoutError) as exc:
        logger.warning("%s: unreachable at start (%s); events are journaled until it answers", what, exc)

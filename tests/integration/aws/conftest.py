"""A real moto server for the AWS sink tests, started once per session on 127.0.0.1.

Dummy credentials live here, in the test environment only: the product reads the standard AWS chain.
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks.settings import DeliverySettings, RetryPolicy

# Short backoffs keep the suite quick; the production defaults are in orchestrator.sinks.settings.
TEST_RETRY = RetryPolicy(base_s=0.01, max_s=0.25)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableMotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    empty = tmp_path_factory.mktemp("aws-config") / "none"
    with pytest.MonkeyPatch.context() as env:
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KINESIS",
            "AWS_ENDPOINT_URL_SQS",
            "AWS_ENDPOINT_URL_S3",
        ):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", str(empty))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = RestartableMotoServer()
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def moto(moto_server: RestartableMotoServer) -> Iterator[RestartableMotoServer]:
    """The session's server, guaranteed up again after a test that stopped it."""
    yield moto_server
    if not moto_server.running:
        moto_server.start()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def delivery_settings(tmp_path: Path) -> DeliverySettings:
    return DeliverySettings(
        buffer_records=2_000,
        journal_dir=tmp_path / "journal",
        dead_letter_path=tmp_path / "dead-letter.jsonl",
        flush_timeout_s=60.0,
        segment_records=200,
        retry=TEST_RETRY,
    )

"""tritonclient's errors onto pitchside's: what is retried (unavailable) and what fails the frame for good."""

import pytest
from tritonclient.utils import InferenceServerException

from orchestrator.triton.client import translate_error
from orchestrator.triton.errors import (
    InferenceExpiredError,
    InferenceFailedError,
    InferenceRejectedError,
    InferenceTimeoutError,
    TritonUnavailableError,
)

STOPPING = TritonUnavailableError
"""A stopping server's answers are retried, as an unreachable server's are."""


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        ("StatusCode.INVALID_ARGUMENT", "encoded image declares 30000x30000 pixels", InferenceRejectedError),
        ("StatusCode.OUT_OF_RANGE", "batch size 9 exceeds 8", InferenceRejectedError),
        # what a stopping Triton answers while it unloads its models (seen from the embedded server)
        ("StatusCode.NOT_FOUND", "Request for unknown model: 'detector' has no available versions", STOPPING),
        ("StatusCode.UNAVAILABLE", "failed to connect to all addresses", TritonUnavailableError),
        ("StatusCode.UNAVAILABLE", "Request timeout expired", InferenceExpiredError),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", InferenceTimeoutError),
        ("StatusCode.INTERNAL", "onnxruntime failed", InferenceFailedError),
    ],
)
def test_each_status_becomes_the_error_that_decides_retry_or_refusal(
    status: str, message: str, kind: type[Exception]
) -> None:
    error = translate_error(InferenceServerException(message, status=status))
    assert type(error) is kind
    assert message in str(error)

"""pitchside's errors for Triton: the rest of the code never sees tritonclient's exception types."""


class TritonError(Exception):
    """Base of every Triton-related failure."""


class EmbeddedTritonError(TritonError):
    """The embedded server could not be found, prepared or started."""


class TritonUnavailableError(TritonError):
    """The server cannot be reached or is not ready."""


class InferenceTimeoutError(TritonUnavailableError):
    """No answer within the request's deadline: the server may be alive but overloaded."""


class InferenceExpiredError(InferenceTimeoutError):
    """Triton dropped the request from its queue when the request's own timeout (a live frame's staleness
    budget) expired: the frame went stale waiting, the server is busy but healthy."""


class InferenceRejectedError(TritonError):
    """The server refused this request (gRPC INVALID_ARGUMENT and kin: a bad or oversized frame, a decode bomb,
    a wrong dtype...): retrying the same frame cannot help. The message says why and names the limit; for a
    request that batches several images it starts with the bad one, "item 3 of 8 (batch index 2): ..."."""


class InferenceFailedError(TritonError):
    """The server accepted the request but failed to produce a result."""


class TritonAddressError(TritonError):
    """A server address that is malformed or whose name does not resolve."""

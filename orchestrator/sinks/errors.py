"""pitchside's errors for event delivery: sinks translate client exceptions into these at their boundary."""


class SinkError(Exception):
    """Base of every sink-related failure."""


class SinkConfigError(SinkError, ValueError):
    """A sink URI or delivery setting is invalid; raised at the edge, before anything starts."""


class FeedNotFoundError(SinkConfigError):
    """The configured stream, queue or bucket does not exist: a start-up error, not an outage to wait out."""


class SinkUnavailableError(SinkError):
    """The feed did not take the call (unreachable, throttled, missing resource...): retry it later."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


class BatchRejectedError(SinkError):
    """The feed refused the whole call as invalid: retrying the same call cannot help.

    The delivery channel splits the batch to find the record(s) at fault and dead-letters them.
    """


class SinkClosedError(SinkError):
    """A record was submitted to a sink channel that is not running."""


class JournalCorruptError(SinkError):
    """A journal line could not be read back as a record."""

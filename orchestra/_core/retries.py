"""Step retries and intentional failures: `RetryPolicy`, `Backoff`, `Jitter`, `RetryRequested`, `Failure`."""

from __future__ import annotations

import enum
import random
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError


class Backoff(enum.Enum):
    """How the delay between retries grows: `LINEAR` (delay * attempt) or `EXPONENTIAL` (delay * (2**attempt - 1))."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(enum.Enum):
    """Randomness applied to the delay: `FULL` (uniform in [0, delay]) or `PLUS_MINUS` (delay +/- base delay)."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


class RetryPolicy(NamedTuple("_RetryPolicy", [("max_retries", int), ("delay", Any), ("backoff", Any), ("jitter", Any)])):
    """Retry a failing op up to `max_retries` times, waiting `delay` seconds (shaped by backoff and jitter).

    Example:
        >>> @op(retry_policy=RetryPolicy(max_retries=3, delay=0.5, backoff=Backoff.EXPONENTIAL))
        ... def flaky(): ...
    """

    def __new__(
        cls,
        max_retries: int = 1,
        delay: float | None = None,
        backoff: Backoff | None = None,
        jitter: Jitter | None = None,
    ):
        if not isinstance(max_retries, int) or max_retries < 0:
            raise DagsterInvalidDefinitionError("max_retries must be a non-negative int.")
        if delay is not None and delay < 0:
            raise DagsterInvalidDefinitionError("delay must be a non-negative number.")
        if backoff is not None and delay is None:
            raise DagsterInvalidDefinitionError(
                "Can not set backoff on RetryPolicy without also setting delay"
            )
        if jitter is not None and delay is None:
            raise DagsterInvalidDefinitionError("Can not set jitter on RetryPolicy without also setting delay")
        return super().__new__(cls, max_retries, delay, backoff, jitter)

    def calculate_delay(self, attempt_num: int) -> float:
        return calculate_delay(attempt_num, self.backoff, self.jitter, self.delay or 0)


def calculate_delay(attempt_num: int, backoff: Backoff | None, jitter: Jitter | None, base_delay: float) -> float:
    if backoff is Backoff.EXPONENTIAL:
        delay = ((2**attempt_num) - 1) * base_delay
    elif backoff is Backoff.LINEAR:
        delay = base_delay * attempt_num
    else:
        delay = base_delay
    if jitter is Jitter.FULL:
        delay = random.random() * delay
    elif jitter is Jitter.PLUS_MINUS:
        delay = delay + (2 * random.random() * base_delay) - base_delay
    return delay


class RetryRequested(Exception):
    """Raise from an op body to ask for the step to be retried.

    Example:
        >>> @op
        ... def flakes():
        ...     try:
        ...         call_flaky_service()
        ...     except ConnectionError as e:
        ...         raise RetryRequested(max_retries=3, seconds_to_wait=1) from e
    """

    def __init__(self, max_retries: int | None = 1, seconds_to_wait: float | None = None):
        super().__init__()
        if not isinstance(max_retries, int):
            raise TypeError(f'Param "max_retries" is not a int. Got {max_retries!r} which is type {type(max_retries)}.')
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


class RetryRequestedFromPolicy(RetryRequested):
    """Internal: a user error turned into a retry by the op's RetryPolicy."""


class Failure(Exception):
    """Raise from an op body to fail the step with a description and metadata for the event log.

    Example:
        >>> @op
        ... def check_rows(rows):
        ...     if not rows:
        ...         raise Failure(description="No rows", metadata={"table": "events"})
    """

    def __init__(
        self,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        allow_retries: bool | None = None,
    ):
        super().__init__(description)
        self.description = description
        self.metadata = _normalize_metadata(metadata or {})
        self.allow_retries = True if allow_retries is None else allow_retries


def _normalize_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Use the metadata engineer's normaliser when it exists; keep raw values otherwise."""
    try:
        from orchestra._core.metadata import normalize_metadata
    except ImportError:
        return dict(metadata)
    return normalize_metadata(metadata)

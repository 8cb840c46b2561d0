"""How every adapter calls its service: one retry policy, and what it reports about each call.

`ApiClient.call_with_policy` is the one loop both vendors' clients go through (tenacity does the
repeating): before each send it checks the attempt's deadline and paces under the service's
rate limit; a 401 refreshes the token once and repeats; a 429 lowers the tenant's allowance for a
while (integrations/ratelimit.py `rate_limited`) and is repeated with backoff (or after
`Retry-After`, capped), the repeat paced under the lowered allowance like any call; a 5xx or a
lost connection is repeated only when repeating is harmless. Each attempt that reached the wire
is reported to the call observer (a run's step log). The vendors supply the sending and their
typed errors (see `FortnoxClient`, `HubSpotClient`).
"""

from __future__ import annotations

import email.utils
import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import tenacity
from django.conf import settings

from integrations import deadline, ratelimit
from integrations.errors import DeadlineExceeded, IntegrationError

#: Longest we wait on a `Retry-After`: both services' windows are 5-10 s, so a longer value is
#: better spent in a later attempt of the run than holding a worker.
RETRY_AFTER_MAX_S = 30.0


@dataclass
class CallRecord:
    service: str
    method: str
    path: str
    status: int | None
    duration_ms: int
    attempt: int
    error: str = ""
    waited_ms: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


CallObserver = Callable[[CallRecord], None]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: base * 2^(n-1), capped, plus up to `base` at random
    so the workers of a tenant do not retry in step. Base and cap are seconds at the default
    API_RETRY_BASE_MS (1000); the setting scales both (the tests shorten it)."""

    base: float
    cap: float

    def strategy(self) -> tenacity.wait.wait_base:
        scale = settings.API_RETRY_BASE_MS / 1000
        return tenacity.wait_exponential_jitter(
            multiplier=self.base * scale, max=self.cap * scale, jitter=self.base * scale
        )


@dataclass(frozen=True)
class RetryPolicy:
    service: str  # as users read it: "Fortnox"
    rate: ratelimit.Rate
    timeout: tuple[float, float]  # (connect, read) seconds, before the deadline cuts them
    max_attempts_rate_limited: int = 6
    max_attempts_unavailable: int = 4
    rate_limited_backoff: Backoff = Backoff(1.0, 10.0)
    unavailable_backoff: Backoff = Backoff(1.0, 15.0)
    unreachable_backoff: Backoff = Backoff(0.5, 8.0)


@dataclass(frozen=True)
class Reply:
    """One answer: its status, headers and the vendor's payload (a response or an SDK model)."""

    status: int
    headers: Mapping[str, str]
    body: Any


class NoAnswer(Exception):
    """The request failed on the way (connection, timeout). `sent` is False only when it
    certainly never reached the service, so even a create may be sent again."""

    def __init__(self, cause: Exception, *, sent: bool) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause
        self.sent = sent


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # as the step log shows it
    send: Callable[[str, tuple[float, float]], Reply]  # (token, timeout) -> Reply | NoAnswer
    error_for: Callable[[Reply], IntegrationError]  # a failed answer in the vendor's terms
    idempotent: bool


class _Why(enum.Enum):
    REFRESHED = "refreshed"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNREACHABLE = "unreachable"


class _TryAgain(Exception):
    """This attempt failed in a way a repeat may fix; `error` is what callers see if none does."""

    def __init__(self, error: IntegrationError, why: _Why, retry_after: float | None = None):
        super().__init__(str(error))
        self.error, self.why, self.retry_after = error, why, retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (a number or an HTTP date), capped at RETRY_AFTER_MAX_S."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


class ApiClient:
    """What the vendors' clients share: the retry policy around one request."""

    policy: RetryPolicy
    record_service: str  # in the step log: "fortnox"

    def __init__(self, *, rate_key: str, observer: CallObserver | None) -> None:
        self.rate_key = rate_key
        self.observer = observer
        # A second bucket (key, rate) each call reserves from first: a bulk sync's share of the
        # tenant's pace (integrations/ratelimit.py FORTNOX_BULK_RATE), None for other work.
        self.share_bucket: tuple[str, ratelimit.Rate] | None = None

    # -- the vendor's parts --------------------------------------------------------------------
    def _token_get(self) -> str:
        raise NotImplementedError

    def _token_refresh(self, stale_token: str) -> str:
        raise NotImplementedError

    def _refused_after_refresh(self, call: Call, reply: Reply) -> IntegrationError:
        """A 401 with a token refreshed a moment ago."""
        return call.error_for(reply)

    def _unreachable(self, failure: NoAnswer) -> IntegrationError:
        raise NotImplementedError

    def _repeatable(self, call: Call, status: int) -> bool:
        """May a request answered with this 5xx be sent again?"""
        return call.idempotent

    def _outcome_unknown(
        self, call: Call, reply: Reply | None, failure: NoAnswer | None
    ) -> IntegrationError:
        """A request that may have been carried out, and must not be repeated blindly."""
        return call.error_for(reply) if reply is not None else self._unreachable(failure)

    # -- the policy ------------------------------------------------------------------------------
    def call_with_policy(self, call: Call) -> Reply:
        """Send `call` until it succeeds or fails for good; returns the successful Reply."""
        deadline.time_ensure(self.policy.service)
        token, refreshed = self._token_get(), False
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TryAgain),
            stop=self._stop,
            wait=self._wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    try:
                        return self._attempt(call, token, number, refreshed)
                    except _TryAgain as again:
                        if again.why is _Why.REFRESHED:
                            # Expired early or revoked: refresh once (under the lock), repeat.
                            token, refreshed = self._token_refresh(token), True
                        raise
        except _TryAgain as exhausted:
            raise exhausted.error from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _attempt(self, call: Call, token: str, number: int, refreshed: bool) -> Reply:
        service = self.policy.service
        deadline.time_ensure(service, waiting=number > 1)
        wait = self._reserve()
        # The slot is reserved even when we give up here: it only makes the bucket a little
        # more careful, while sending without time for an answer could leave a create unknown.
        deadline.time_ensure(service, wait, waiting=number > 1)
        if wait > 0:
            time.sleep(wait)
        started = time.monotonic()
        try:
            reply = call.send(token, deadline.timeout_bounded(self.policy.timeout))
        except NoAnswer as failure:
            self._record(call, None, started, number, str(failure), wait)
            if failure.sent and not call.idempotent:
                raise self._outcome_unknown(call, None, failure) from None
            raise _TryAgain(self._unreachable(failure), _Why.UNREACHABLE) from None
        self._record(call, reply.status, started, number, "", wait)
        status = reply.status
        if status == 401:
            if not refreshed:
                raise _TryAgain(call.error_for(reply), _Why.REFRESHED)
            raise self._refused_after_refresh(call, reply)
        if status == 429:
            # Our pacing should have kept this from happening: something else counts against the
            # tenant, or the service counts more strictly. Every worker of the tenant slows down.
            ratelimit.rate_limited(self.rate_key, self.policy.rate)
            retry_after = retry_after_seconds(reply.headers.get("Retry-After"))
            raise _TryAgain(call.error_for(reply), _Why.RATE_LIMITED, retry_after)
        if status >= 500:
            if self._repeatable(call, status):
                raise _TryAgain(call.error_for(reply), _Why.UNAVAILABLE)
            raise self._outcome_unknown(call, reply, None)
        if status >= 400:
            raise call.error_for(reply)
        return reply

    def _reserve(self) -> float:
        """Reserve this call's slot; returns the seconds to wait. With a share bucket, its slot
        is waited for first, so the tenant's bucket counts the call when it is really sent."""
        if self.share_bucket is not None:
            key, rate = self.share_bucket
            first = ratelimit.reserve(key, rate)
            deadline.time_ensure(self.policy.service, first)
            if first > 0:
                time.sleep(first)
        return ratelimit.reserve(self.rate_key, self.policy.rate)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        failure = state.outcome.exception() if state.outcome else None
        if not isinstance(failure, _TryAgain) or failure.why is _Why.REFRESHED:
            return False  # the refresh happens once: a second 401 raises, it does not retry
        if failure.why is _Why.RATE_LIMITED:
            return state.attempt_number >= self.policy.max_attempts_rate_limited
        return state.attempt_number >= self.policy.max_attempts_unavailable

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if not isinstance(failure, _TryAgain) or failure.why is _Why.REFRESHED:
            return 0.0
        if failure.why is _Why.RATE_LIMITED:
            # Fortnox's 429 carries no Retry-After as far as anyone has recorded (fortnox-api.md
            # §2, §7.3); honour it when it comes, else back off.
            seconds = failure.retry_after
            if seconds is None:
                seconds = self.policy.rate_limited_backoff.strategy()(state)
        elif failure.why is _Why.UNAVAILABLE:
            seconds = self.policy.unavailable_backoff.strategy()(state)
        else:
            seconds = self.policy.unreachable_backoff.strategy()(state)
        left = deadline.time_left()
        if left is not None and left - seconds < deadline.MIN_REQUEST_S:
            # The wait is capped by the time left: when no useful request would fit after it,
            # the call ends now (sleeping up to the deadline would only hold the worker).
            raise DeadlineExceeded(
                self.policy.service, waiting=True, service_message=str(failure.error)
            ) from None
        return seconds

    def _record(
        self,
        call: Call,
        status: int | None,
        started: float,
        attempt: int,
        error: str,
        waited: float,
    ) -> None:
        if self.observer is not None:
            self.observer(
                CallRecord(
                    self.record_service,
                    call.method,
                    call.path,
                    status,
                    int((time.monotonic() - started) * 1000),
                    attempt,
                    error,
                    int(waited * 1000),
                )
            )

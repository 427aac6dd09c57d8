"""Per-(service, region) limits on a scan's AWS calls: bounded concurrency and a dead-endpoint breaker.

Retries stay in botocore (standard mode: jittered exponential backoff, throttling errors backed
off from one second, at most ``FINOPS_AWS_MAX_ATTEMPTS`` attempts). What botocore does not give
is a bound that belongs to one (service, region): its adaptive mode's client-side rate limiter
slows every later call of a client after a single throttle, and a scan's threads would otherwise
all pile onto whichever API they reach together. Here:

- **Bounded concurrency.** At most ``per_endpoint`` HTTP requests are in flight per (service,
  region) at any moment: a slot is taken when a request is about to be sent (``before-send``)
  and given back as soon as its answer, or its error, is in (``response-received``), so a call
  sleeping out a throttling backoff holds no slot and one throttled API never slows another.
- **A dead endpoint is given up on.** After ``failures_to_open`` consecutive attempts to a
  (service, region) that got no answer at all (connection refused, connect or read timeout,
  connection dropped), every later call to it fails at once with ``EndpointUnreachable`` (not
  retried), so a region whose endpoint does not answer costs a few timeouts, not a timeout per
  call per retry, and its coverage rows say so. Any answer, even an error, closes the breaker.
- **Backoff follows the endpoint, not one call's luck.** A throttled call's backoff doubles with
  its attempts only while its (service, region) keeps throttling: the exponent is the smaller of
  the call's retries and the endpoint's throttled answers since its last success. An API that
  throttles everything backs off exactly as before (every answer is a throttle, so the endpoint's
  count keeps up with the call's); a call throttled several times in a row while the same API
  answers other calls is spot throttling, and waits as for a first retry.

Installed per client by the guarded session factory (``finops.aws.session``), which knows each
client's service and region.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.retries import quota, standard

log = logging.getLogger(__name__)

NO_ANSWER = (ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError, ConnectionClosedError)
THROTTLE_BASE_SECONDS = 0.1  # a throttled call's first retry waits up to 100 ms, doubling to 20 s
NON_THROTTLE_BASE_SECONDS = 0.05  # botocore's own base for other retryable errors
MAX_BACKOFF_SECONDS = 20  # botocore's cap
_SLOT_WAIT_SECONDS = 300  # never deadlock: past this a request goes out without a slot (and says so)


class EndpointUnreachable(BotoCoreError):
    """An endpoint that stopped answering: calls to it fail at once instead of timing out again.

    A plain BotoCoreError (not a ConnectionError), so botocore's retry logic does not retry it.
    """

    fmt = "{service} endpoint in {region} did not answer ({reason})"


def no_answer_reason(error: BaseException) -> str:
    """How an endpoint failed to answer, in words: for coverage rows."""
    if isinstance(error, EndpointUnreachable):
        return str(error.kwargs.get("reason", "no answer"))
    if isinstance(error, ConnectTimeoutError):
        return "connect timeout"
    if isinstance(error, ReadTimeoutError):
        return "read timeout: it accepted the connection but never answered"
    if isinstance(error, ConnectionClosedError):
        return "the connection was closed before an answer"
    return "connection refused or unreachable"


class CallLimits:
    """Shared by every client of one scan (one instance per customer session)."""

    def __init__(self, per_endpoint: int = 8, failures_to_open: int = 2, *, max_attempts: int | None = None,
                 throttle_base: float = THROTTLE_BASE_SECONDS):
        self.per_endpoint = max(1, per_endpoint)
        self.max_attempts = max_attempts  # None: keep the client's own retry handler
        self.throttle_base = throttle_base
        self.failures_to_open = max(1, failures_to_open)
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}
        self._failures: dict[tuple[str, str], int] = {}
        self._open: dict[tuple[str, str], str] = {}  # endpoint -> why it was given up on
        self._held = threading.local()
        self.in_flight_peak: dict[tuple[str, str], int] = {}  # for tests: the bound held
        self._in_flight: dict[tuple[str, str], int] = {}
        self._throttled: dict[tuple[str, str], int] = {}  # throttled answers since the last success

    def install(self, client: Any) -> None:
        key = (client.meta.service_model.service_name, client.meta.region_name or "global")
        if self.max_attempts is not None:
            install_retries(client, self.max_attempts, self.throttle_base, lambda: self.throttled(key))
        events = client.meta.events
        events.register("before-send", lambda **kw: self._before_send(key), unique_id="finops-limits-send")
        events.register("response-received",
                        lambda **kw: self._answered(key, kw.get("exception"), kw.get("response_dict")),
                        unique_id="finops-limits-answer")
        events.register("after-call-error", lambda **kw: self._release(key), unique_id="finops-limits-error")

    def throttled(self, key: tuple[str, str]) -> int:
        """Count one more throttled answer from ``key``; how many since its last success."""
        with self._lock:
            count = self._throttled[key] = self._throttled.get(key, 0) + 1
        return count

    def given_up(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._open)

    # -- one attempt ----------------------------------------------------------------------------
    def _before_send(self, key: tuple[str, str]) -> None:
        with self._lock:
            reason = self._open.get(key)
        if reason is not None:
            raise EndpointUnreachable(service=key[0], region=key[1], reason=reason)
        with self._lock:
            slot = self._slots.setdefault(key, threading.BoundedSemaphore(self.per_endpoint))
        if not slot.acquire(timeout=_SLOT_WAIT_SECONDS):
            log.warning("endpoint=%s:%s state=no-slot waited=%ss; sending anyway", *key, _SLOT_WAIT_SECONDS)
            return
        held = self._held_set()
        held.add(key)
        with self._lock:
            count = self._in_flight[key] = self._in_flight.get(key, 0) + 1
            self.in_flight_peak[key] = max(self.in_flight_peak.get(key, 0), count)

    def _answered(self, key: tuple[str, str], exception: BaseException | None,
                  response: dict[str, Any] | None = None) -> None:
        self._release(key)
        if isinstance(exception, EndpointUnreachable):
            return
        with self._lock:
            if exception is None and response is not None and response.get("status_code", 500) < 400:
                self._throttled[key] = 0
            if isinstance(exception, NO_ANSWER):
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                if failures >= self.failures_to_open and key not in self._open:
                    self._open[key] = no_answer_reason(exception)
                    log.warning("endpoint=%s:%s state=given-up reason=%s after=%d attempts",
                                *key, self._open[key], failures)
            else:
                self._failures[key] = 0

    def _release(self, key: tuple[str, str]) -> None:
        held = self._held_set()
        if key not in held:
            return
        held.discard(key)
        with self._lock:
            self._in_flight[key] -= 1
            slot = self._slots[key]
        slot.release()

    def _held_set(self) -> set[tuple[str, str]]:
        held = getattr(self._held, "keys", None)
        if held is None:
            held = self._held.keys = set()
        return held




class ThrottleBackoff(standard.BaseRetryBackoff):
    """botocore standard mode's truncated binary exponential backoff with full jitter,
    t_i = rand(0, 1) x min(base x 2**i, 20 s), with a throttling base of 100 ms instead of 1 s.

    A throttled AWS API refills its token bucket within the second; with concurrency bounded
    per (service, region) no retry storm can follow, so the first retries need not wait a full
    second each: one unlucky call (five throttles in a row) then costs about 1.5 s instead of
    15 s on average, and a review's slowest call is its length. Persistent throttling still
    backs off to 20 s per attempt. ``x-amz-retry-after`` raises the delay as in botocore.
    """

    def __init__(self, detector: standard.ThrottlingErrorDetector, throttle_base: float = THROTTLE_BASE_SECONDS,
                 random: Any = None, endpoint_throttled: Callable[[], int] | None = None):
        import random as _random

        self._detector = detector
        self._throttle_base = throttle_base
        self._random = random or _random.random
        self._endpoint_throttled = endpoint_throttled  # counts this throttle, returns the endpoint's run

    def delay_amount(self, context: Any) -> float:
        exponent = context.attempt_number - 1
        if self._detector.is_throttling_error_from_context(context):
            base = self._throttle_base
            if self._endpoint_throttled is not None:  # see the module's docstring
                exponent = min(exponent, self._endpoint_throttled() - 1)
        else:
            base = NON_THROTTLE_BASE_SECONDS
        delay = self._random() * min(base * 2 ** exponent, MAX_BACKOFF_SECONDS)
        headers = getattr(context.http_response, "headers", None) or {}
        try:
            retry_after = int(headers.get("x-amz-retry-after", "")) / 1000
        except ValueError:
            return delay
        return max(delay, min(retry_after, delay + 5))


def install_retries(client: Any, max_attempts: int, throttle_base: float = THROTTLE_BASE_SECONDS,
                    endpoint_throttled: Callable[[], int] | None = None) -> None:
    """Give ``client`` botocore's standard retry handler with ``ThrottleBackoff``.

    botocore builds the standard handler per client without a way to pass a backoff; this is the
    same construction (``botocore.retries.standard.register_retry_handler``) with ours, registered
    under botocore's own id after unregistering its handler.
    """
    service_event_name = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{service_event_name}"
    client.meta.events.unregister(f"needs-retry.{service_event_name}", unique_id=unique_id)
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    quota_checker = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=ThrottleBackoff(detector, throttle_base, endpoint_throttled=endpoint_throttled),
        ),
        retry_event_adapter=standard.RetryEventAdapter(),
        retry_quota=quota_checker,
        service_name=service_event_name,
    )
    client.meta.events.register(f"after-call.{service_event_name}", quota_checker.release_retry_quota,
                                unique_id=f"finops-retry-quota-{service_event_name}")
    client.meta.events.register(f"needs-retry.{service_event_name}", handler.needs_retry, unique_id=unique_id)

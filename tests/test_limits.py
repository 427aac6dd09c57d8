"""A throttled call's backoff grows with its endpoint's throttling, not with one call's bad luck."""

from __future__ import annotations

import boto3
from botocore.retries import standard

from finops.aws.limits import CallLimits, ThrottleBackoff

KEY = ("ec2", "eu-west-1")


def _setup():  # type: ignore[no-untyped-def]
    limits = CallLimits(max_attempts=8)
    client = boto3.client("ec2", region_name=KEY[1], aws_access_key_id="x", aws_secret_access_key="y")
    limits.install(client)  # the hooks a scan's clients get (nothing is sent in this test)
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    backoff = ThrottleBackoff(detector, 0.1, random=lambda: 1.0, endpoint_throttled=lambda: limits.throttled(KEY))
    return client, backoff


def _throttled(attempt: int) -> standard.RetryContext:
    return standard.RetryContext(attempt_number=attempt, parsed_response={"Error": {"Code": "Throttling"}},
                                 http_response=None)


def _answer(client, status: int) -> None:  # type: ignore[no-untyped-def]
    """An answer from the endpoint, through the same event botocore emits after every attempt."""
    client.meta.events.emit("response-received.ec2.DescribeVolumes", response_dict={"status_code": status},
                            parsed_response={}, context={}, exception=None)


def test_an_endpoint_that_throttles_everything_is_backed_off_exponentially():
    client, backoff = _setup()
    delays = []
    for attempt in range(1, 6):
        _answer(client, 400)  # throttled, like every answer from this endpoint
        delays.append(backoff.delay_amount(_throttled(attempt)))
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6]


def test_a_call_throttled_again_while_the_endpoint_answers_others_waits_as_for_a_first_retry():
    client, backoff = _setup()
    delays = []
    for attempt in range(1, 6):
        _answer(client, 400)
        delays.append(backoff.delay_amount(_throttled(attempt)))
        _answer(client, 200)  # meanwhile another call to the same API succeeded
    assert delays == [0.1] * 5


def test_errors_other_than_throttling_keep_botocores_backoff():
    client, backoff = _setup()
    context = standard.RetryContext(attempt_number=3, parsed_response={"Error": {"Code": "InternalError"}},
                                    http_response=None)
    assert backoff.delay_amount(context) == 0.05 * 4

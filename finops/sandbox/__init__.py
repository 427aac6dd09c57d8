"""The local AWS used by the demo and the tests: moto's server with a small responder in front.

moto emulates the AWS APIs; the front (``front.py``) adds what moto does not do and the tests
need: External ID enforcement on sts:AssumeRole as AWS does it for cross-account roles, a
request log, injected faults (AccessDenied, throttling) and latency, and canned answers for the
APIs moto lacks. The app reaches it only through standard AWS configuration
(``AWS_ENDPOINT_URL``), never through a test-only code path.
"""

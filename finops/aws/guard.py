"""The read-only guard: a botocore hook that refuses any operation not on an explicit allow-list.

It runs on ``before-call``, after the request is built and before anything is signed or sent, so
a refused operation never leaves the process. The allow-list is explicit (no prefix matching):
adding a collector means adding its operations here, and a test checks every collector's
declared operations are listed.
"""

from __future__ import annotations

import logging
from typing import Any

from finops.errors import ReadOnlyViolation

log = logging.getLogger(__name__)

# botocore service name -> operation names the scanner may send through the customer's role.
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity"}),
    "ec2": frozenset({"DescribeRegions", "DescribeVolumes", "DescribeAddresses"}),
}

# The scanner's own identity only ever assumes roles and asks who it is.
SCANNER_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"AssumeRole", "GetCallerIdentity"}),
}


def is_allowed(service: str, operation: str, allowed: dict[str, frozenset[str]]) -> bool:
    return operation in allowed.get(service, frozenset())


def install_guard(session: Any, allowed: dict[str, frozenset[str]] = READ_OPERATIONS) -> None:
    """Attach the guard to a boto3 Session: every client made from it is covered."""

    def refuse_unlisted(model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if not is_allowed(service, model.name, allowed):
            log.error("read-only guard refused operation=%s:%s", service, model.name)
            raise ReadOnlyViolation(f"refused {service}:{model.name}: not on the read allow-list")

    session.events.register("before-call", refuse_unlisted, unique_id="finops-read-only-guard")

"""The wizard's "Test connection": the scanner's real assume path, answered in one sentence.

It runs ``assume_customer_role`` exactly as a scan does (safety probe first: AssumeRole must fail
without the External ID and with a wrong one), then asks STS who it is. Nothing is stored: the
session and its credentials go out of scope when this returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finops import __version__
from finops.aws.arn import parse_role_arn
from finops.aws.session import STS_REGION, assume_customer_role
from finops.errors import AssumeRoleDenied, AssumeRoleError, ExternalIdMismatch, FinopsError

log = logging.getLogger(__name__)

CONNECTED = "connected"


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    code: str  # "connected" or the FinopsError code (external_id_mismatch, assume_role_denied, role_unsafe, ...)
    message: str
    account_id: str | None = None


def web_config() -> Config:
    """A person is waiting on the answer: few retries, short timeouts."""
    return Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=5,
        read_timeout=15,
        user_agent_appid=f"finops-pack-{__version__}",
    )


def not_trusted_message(scanner_principal_arn: str | None) -> str:
    # AWS answers AccessDenied alike for a missing role, a trust policy naming another principal
    # and a different sts:ExternalId, so the sentence names all three.
    principal = f" ({scanner_principal_arn})" if scanner_principal_arn else ""
    return (
        "Role not found, or it does not trust the FinOps Pack scanner with this review's External ID: check "
        f"the role ARN, that the trust policy names the scanner principal{principal}, and that its "
        "sts:ExternalId condition is exactly this review's External ID."
    )


def check_connection(
    role_arn: str,
    external_id: str,
    *,
    review_external_id: str,
    scanner_principal_arn: str | None = None,
    base: boto3.Session | None = None,
) -> ConnectionResult:
    """Assume the customer's role as the scanner would, and say what happened in one sentence."""
    try:
        role = parse_role_arn(role_arn)
        if external_id.strip() != review_external_id:
            raise ExternalIdMismatch("submitted External ID differs from the review's")
        config = web_config()
        session = assume_customer_role(role, review_external_id, base=base, config=config)
        try:
            account_id = session.client("sts", region_name=STS_REGION, config=config).get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as error:
            raise AssumeRoleError(f"GetCallerIdentity failed: {type(error).__name__}") from None
    except AssumeRoleDenied as error:
        log.info("test-connection role=%r result=%s", role_arn[:160], error.code)
        return ConnectionResult(False, error.code, not_trusted_message(scanner_principal_arn))
    except FinopsError as error:
        log.info("test-connection role=%r result=%s", role_arn[:160], error.code)
        return ConnectionResult(False, error.code, error.customer_message)
    log.info("test-connection role=%s result=connected account=%s", role.arn, account_id)
    return ConnectionResult(
        True, CONNECTED,
        f"Connected to account {account_id}: the role accepts this review's External ID and refuses any other "
        "value or none.",
        account_id,
    )

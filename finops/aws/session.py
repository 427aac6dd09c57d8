"""Assuming the customer's role with the review's External ID.

Credentials returned by STS live only in the returned boto3 Session object, in this process's
memory. They are never logged, stored, queued or returned to callers in any other form.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import parse_timestamp

from finops import __version__
from finops.aws.arn import RoleArn
from finops.aws.guard import READ_OPERATIONS, SCANNER_OPERATIONS, install_guard
from finops.errors import AssumeRoleDenied, AssumeRoleError, RoleUnsafe

log = logging.getLogger(__name__)

STS_REGION = "us-east-1"
SESSION_NAME = "finops-pack-scan"
PROBE_SESSION_NAME = "finops-pack-safety-probe"
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidClientTokenId"}


def client_config(max_attempts: int = 8, pool: int = 16) -> Config:
    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=pool,
        user_agent_appid=f"finops-pack-{__version__}",
    )


def scanner_session() -> boto3.Session:
    """The scanner's own identity (environment, profile or instance role), guarded."""
    session = boto3.Session()
    install_guard(session, SCANNER_OPERATIONS)
    return session


def count_calls(session: boto3.Session, local: threading.local) -> None:
    """Count API calls and HTTP attempts into ``local.record`` (a Coverage) of the calling thread.

    Each (collector, region) read runs in one thread, so a thread-local record attributes calls
    and retries to the right read even though clients are shared.
    """

    lock = threading.Lock()  # a read may fan out over threads that share its record

    def on_call(**_: Any) -> None:
        record = getattr(local, "record", None)
        if record is not None:
            with lock:
                record.api_calls += 1

    def on_send(**_: Any) -> None:
        record = getattr(local, "record", None)
        if record is not None:
            with lock:
                record.attempts += 1

    session.events.register("before-call", on_call, unique_id="finops-count-calls")
    session.events.register("before-send", on_send, unique_id="finops-count-sends")


def parse_aws_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser with ``datetime.fromisoformat`` as the fast path.

    botocore parses every response timestamp with dateutil, which is close to half the CPU of
    parsing a large EC2 answer; once a scan's calls overlap, that CPU is the scan's wall time
    (bench/README.md). Anything fromisoformat cannot read goes to botocore's own parser.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return parse_timestamp(value)
    return parsed if parsed.tzinfo else parse_timestamp(value)  # botocore's own answer for naive values


def _assume(sts: Any, role: RoleArn, session_name: str, external_id: str | None) -> dict:
    params: dict[str, Any] = {
        "RoleArn": role.arn,
        "RoleSessionName": session_name,
        "DurationSeconds": 3600,
    }
    if external_id is not None:
        params["ExternalId"] = external_id
    return sts.assume_role(**params)["Credentials"]


def _denied(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _DENIED


def prove_external_id_required(sts: Any, role: RoleArn) -> None:
    """Refuse to scan through a role that can be assumed without the External ID or with a wrong one."""
    for label, candidate in (("without", None), ("with a wrong", "fp-wrong-" + secrets.token_hex(12))):
        try:
            _assume(sts, role, PROBE_SESSION_NAME, candidate)
        except ClientError as error:
            if _denied(error):
                continue
            raise AssumeRoleError(f"safety probe failed: {error}") from None
        log.warning("role=%s unsafe: AssumeRole succeeded %s External ID", role.arn, label)
        raise RoleUnsafe(f"AssumeRole succeeded {label} External ID")


def assume_customer_role(
    role: RoleArn,
    external_id: str,
    *,
    base: boto3.Session | None = None,
    config: Config | None = None,
    probe: bool = True,
) -> boto3.Session:
    """Assume ``role`` with ``external_id`` and return a guarded, read-only boto3 Session."""
    base = base or scanner_session()
    sts = base.client("sts", region_name=STS_REGION, config=config or client_config())
    try:
        if probe:
            prove_external_id_required(sts, role)
        creds = _assume(sts, role, SESSION_NAME, external_id)
    except ClientError as error:
        if _denied(error):
            raise AssumeRoleDenied(f"AssumeRole denied for {role.arn}") from None
        code = error.response.get("Error", {}).get("Code", "")
        if code == "RegionDisabledException":
            raise AssumeRoleError(
                "STS region disabled",
                customer_message=(
                    "AWS STS is disabled in us-east-1 for this account, so FinOps Pack cannot assume "
                    "the role. Enable STS in us-east-1 (IAM > Account settings) and try again."
                ),
            ) from None
        if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
            raise AssumeRoleError(
                "AssumeRole throttled",
                customer_message=(
                    "AWS STS is throttling requests for this role right now, so FinOps Pack could not connect. "
                    "Nothing was changed; try again in a minute."
                ),
            ) from None
        raise AssumeRoleError(f"AssumeRole failed: {code}") from None
    except BotoCoreError as error:
        raise AssumeRoleError(
            f"AssumeRole transport error: {type(error).__name__}",
            customer_message=(
                "FinOps Pack could not reach AWS STS to assume the role. This is on our side; "
                "try again in a few minutes."
            ),
        ) from None
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_aws_timestamp)
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=STS_REGION,
        botocore_session=core,
    )
    del creds
    install_guard(session, READ_OPERATIONS)
    return session

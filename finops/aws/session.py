"""Assuming the customer's role with the review's External ID, and keeping the session fresh.

Credentials returned by STS live only in the returned session's RefreshableCredentials, in this
process's memory. They are never logged, stored, queued or returned to callers in any other form
(the guarded session refuses ``get_credentials()``). Before they expire, botocore's refreshable
credentials assume the role again, with the External ID, through the scanner's own guarded STS
client, so a review may outlive one STS session.
"""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.request
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import parse_timestamp

from finops import __version__
from finops.aws.arn import RoleArn
from finops.aws.guard import (
    READ_OPERATIONS,
    SCANNER_OPERATIONS,
    GuardedSession,
    guarded_session,
    register_customer_key,
)
from finops.aws.limits import CallLimits
from finops.errors import AssumeRoleDenied, AssumeRoleError, RoleUnsafe

log = logging.getLogger(__name__)

STS_REGION = "us-east-1"
SESSION_NAME = "finops-pack-scan"
PROBE_SESSION_NAME = "finops-pack-safety-probe"
SESSION_SECONDS = 3600  # what the scanner asks STS for (the role's MaxSessionDuration is one hour)
# botocore refreshes 15 min (advisory) / 10 min (mandatory) before expiry; a shorter session (a role
# chained elsewhere, the local AWS's short sessions) refreshes at the same share of its lifetime.
ADVISORY_SHARE, MANDATORY_SHARE = 15 / 60, 10 / 60
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidClientTokenId"}


def client_config(max_attempts: int = 8, pool: int = 16, connect_timeout: int = 5, read_timeout: int = 30) -> Config:
    """Standard retries (jittered exponential backoff, in botocore), never adaptive: adaptive mode's
    client-side rate limiter slows every later call of a client after one throttle. Concurrency
    is bounded per (service, region) instead (``finops.aws.limits``).

    No proxy in the environment (``HTTPS_PROXY`` and the like): the config says so, and botocore
    skips looking for one for each client it creates (two walks of the whole environment each).
    With one, botocore looks as it always does, for each endpoint (``NO_PROXY`` honoured)."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=pool,
        user_agent_appid=f"finops-pack-{__version__}",
        proxies=None if urllib.request.getproxies() else {},
    )


def scanner_session() -> GuardedSession:
    """The scanner's own identity (environment, profile or instance role), guarded."""
    return guarded_session(SCANNER_OPERATIONS)


def count_calls(session: GuardedSession, local: threading.local) -> None:
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
        "DurationSeconds": SESSION_SECONDS,
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


class SessionRenewalFailed(BotoCoreError):
    """The role could not be assumed again when its session was about to expire."""

    fmt = "the role could not be assumed again to renew the scan's session ({reason})"


def assume_customer_role(
    role: RoleArn,
    external_id: str,
    *,
    base: GuardedSession | None = None,
    config: Config | None = None,
    probe: bool = True,
    limits: CallLimits | None = None,
) -> GuardedSession:
    """Assume ``role`` with ``external_id``; return a guarded, read-only session that assumes it
    again (External ID included) before its credentials expire.

    ``limits`` (one per scan) bounds in-flight calls per (service, region) on every client.
    """
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

    def renew() -> dict[str, str]:
        try:
            fresh = _assume(sts, role, SESSION_NAME, external_id)
        except (ClientError, BotoCoreError) as error:
            code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
            log.warning("role=%s state=renewal-failed error=%s", role.arn, code or type(error).__name__)
            raise SessionRenewalFailed(reason=code or type(error).__name__) from None
        log.info("role=%s state=session-renewed expires=%s", role.arn, fresh["Expiration"].isoformat())
        return _metadata(fresh)

    first = _metadata(creds)
    del creds
    lifetime = max((parse_timestamp(first["expiry_time"]) - datetime.now(UTC)).total_seconds(), 1.0)
    credentials = RefreshableCredentials.create_from_metadata(
        first, refresh_using=renew, method="finops-assume-role",
        advisory_timeout=min(15 * 60, int(lifetime * ADVISORY_SHARE)) or 1,
        mandatory_timeout=min(10 * 60, int(lifetime * MANDATORY_SHARE)) or 1,
    )
    del first
    return guarded_session(
        READ_OPERATIONS, credentials=credentials, region_name=STS_REGION,
        client_hooks=(limits.install,) if limits is not None else (),
        configure=lambda core: core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_aws_timestamp),
    )


def _metadata(creds: dict) -> dict[str, str]:
    """STS credentials in the shape RefreshableCredentials takes; the access key id is noted for
    the guard (a customer key signs only through the factory's clients)."""
    register_customer_key(creds["AccessKeyId"])
    return {
        "access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
        "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat(),
    }

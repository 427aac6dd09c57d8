"""Role ARN and External ID validation (commercial partition only)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from finops.errors import InvalidRoleArn, UnsupportedPartition

COMMERCIAL_PARTITION = "aws"
# AWS: 2-1224 characters of [\w+=,.@:/-] (sts AssumeRole externalIdType). Every pattern here is
# ASCII and explicit, and used with fullmatch: Python's \d and \w would also accept Arabic-Indic
# digits or Cyrillic letters, and $ a trailing newline, none of which AWS accepts.
EXTERNAL_ID_RE = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
_ARN_RE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>[0-9]{12})?:(?P<resource>[\x21-\x7e]+)"
)
_ROLE_RESOURCE_RE = re.compile(r"role/(?P<path>(?:[\x21-\x7e]+/)?)(?P<name>[A-Za-z0-9_+=,.@-]{1,64})")
ACCOUNT_ID_RE = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class RoleArn:
    partition: str
    account_id: str
    name: str
    arn: str

    def __str__(self) -> str:
        return self.arn


def parse_role_arn(value: str) -> RoleArn:
    """Validate a customer-supplied role ARN; refuse GovCloud and China with the security page's reason."""
    arn = (value or "").strip()
    match = _ARN_RE.fullmatch(arn)
    if not match:
        raise InvalidRoleArn(f"not an ARN: {arn[:80]!r}")
    partition = match["partition"]
    if partition != COMMERCIAL_PARTITION:
        raise UnsupportedPartition(f"partition {partition}")
    if match["service"] != "iam" or match["region"] or not match["account"]:
        raise InvalidRoleArn(f"not an IAM ARN: {arn[:80]!r}")
    resource = _ROLE_RESOURCE_RE.fullmatch(match["resource"])
    if not resource:
        kind = match["resource"].split("/", 1)[0]
        if kind in ("user", "root", "group", "policy"):
            raise InvalidRoleArn(
                f"IAM {kind} ARN given",
                customer_message=(
                    f"That is an IAM {kind} ARN, not a role ARN. FinOps Pack needs the ARN of the "
                    "read-only role, like arn:aws:iam::123456789012:role/finops-pack-readonly."
                ),
            )
        raise InvalidRoleArn(f"bad role resource {match['resource'][:80]!r}")
    return RoleArn(partition, match["account"], resource["name"], arn)


def new_external_id() -> str:
    """A fresh per-review External ID: 192 random bits, valid for AWS, easy to copy."""
    value = "fp-" + secrets.token_urlsafe(24)
    assert EXTERNAL_ID_RE.fullmatch(value)
    return value


def is_valid_external_id(value: str) -> bool:
    return bool(EXTERNAL_ID_RE.fullmatch(value or ""))

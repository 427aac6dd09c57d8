"""Error types. Each carries a sentence the customer can act on.

The UI never shows a traceback: it shows ``error.customer_message``. ``code`` is stable and
stored with a failed review so the report and the logs can name what went wrong.
"""

from __future__ import annotations


class FinopsError(Exception):
    code = "error"
    customer_message = "Something went wrong on our side. Nothing was changed in your account."

    def __init__(self, detail: str | None = None, *, customer_message: str | None = None):
        # ``detail`` is for logs and operators; ``customer_message`` is what the customer reads.
        if customer_message is not None:
            self.customer_message = customer_message
        super().__init__(detail or self.customer_message)


class ConfigError(FinopsError):
    code = "config"
    customer_message = "FinOps Pack is not configured correctly; the operator has to fix it."


class InvalidRoleArn(FinopsError):
    code = "invalid_role_arn"
    customer_message = (
        "That is not an IAM role ARN. It looks like arn:aws:iam::123456789012:role/finops-pack-readonly "
        "(copy the RoleArn output of the finops-pack-readonly stack)."
    )


class UnsupportedPartition(FinopsError):
    code = "unsupported_partition"
    customer_message = (
        "GovCloud and China are not included in public v1: the public review flow covers commercial "
        "AWS regions. GovCloud and China need a separate deployment and trust model."
    )


class UnsupportedRegion(FinopsError):
    code = "unsupported_region"


class ExternalIdMismatch(FinopsError):
    code = "external_id_mismatch"
    customer_message = (
        "The External ID does not match this review's. Use exactly the External ID shown on this page, "
        "in the role's trust policy and in this form."
    )


class AssumeRoleError(FinopsError):
    code = "assume_role_failed"
    customer_message = (
        "FinOps Pack could not assume the role. Check that the role exists, that its trust policy names "
        "the FinOps Pack scanner principal, and that its sts:ExternalId condition is this review's "
        "External ID exactly."
    )


class AssumeRoleDenied(AssumeRoleError):
    """STS answered AccessDenied: no such role, or its trust policy refuses the scanner or the External ID.

    AWS gives the same answer for all three, so the sentence has to name all three.
    """

    code = "assume_role_denied"


class RoleUnsafe(FinopsError):
    code = "role_unsafe"
    customer_message = (
        "Role unsafe: it can be assumed without the External ID or with a wrong one. Add the condition "
        "StringEquals sts:ExternalId with this review's External ID to the role's trust policy, then try "
        "again. FinOps Pack will not scan through an unprotected role."
    )


class ReadOnlyViolation(FinopsError):
    """A call that is not on the read allow-list was about to leave the scanner."""

    code = "read_only_violation"
    customer_message = (
        "FinOps Pack stopped itself before sending a call that is not on its read-only list. Nothing was "
        "changed in your account; the operator has been told."
    )


class DependencyUnavailable(FinopsError):
    """A collector needs the inventory of another collector whose read failed in this region.

    ``collector_ids`` name the failed dependencies; the runner records the read as a gap that
    names them, instead of an "ok" read that found nothing because it had nothing to look at.
    """

    code = "dependency_unavailable"

    def __init__(self, collector_ids: tuple[str, ...] | list[str] | frozenset[str]):
        self.collector_ids = tuple(sorted(collector_ids))
        super().__init__(f"needs {', '.join(self.collector_ids)}, which could not be read")


class QueueUnavailable(FinopsError):
    code = "queue_unavailable"
    customer_message = (
        "The scan queue is unavailable right now, so the scan was not started. Your details are saved: "
        "try again in a minute."
    )


class WorkerLost(FinopsError):
    code = "worker_lost"
    customer_message = (
        "The scan stopped unexpectedly (the scanner process was interrupted). Nothing was changed in your "
        "account. Start the scan again; if it happens twice, tell your FinOps Pack contact."
    )


class ManagementUnavailable(FinopsError):
    """A member account's scan cannot get the organization's cost data: the management account's scan
    failed, was lost, or did not finish in time."""

    code = "management_unavailable"
    customer_message = (
        "This account was not checked: its savings checks need the organization's cost data, which only the "
        "management account's scan reads, and that scan did not complete (the review says why). Run the review "
        "again once the management account can be read."
    )


class ScanInterrupted(FinopsError):
    code = "scan_interrupted"
    customer_message = (
        "The scan was interrupted because the server was stopping. Nothing was changed in your account. "
        "Start the scan again: it starts from the beginning."
    )


class InvalidInput(FinopsError):
    code = "invalid_input"
    customer_message = "Some of what was typed cannot be used; check the highlighted fields."


class StorageError(FinopsError):
    """SQLite refused a write; the transaction was rolled back, so nothing half-written is kept."""

    code = "storage_error"


class StorageBusy(StorageError):
    code = "storage_busy"
    customer_message = (
        "FinOps Pack was busy saving other reviews and could not save this in time. Nothing was changed in your "
        "account and nothing half-saved was kept: try again in a minute."
    )


class StorageFull(StorageError):
    code = "storage_full"
    customer_message = (
        "FinOps Pack could not save this review because its server's disk is full. Nothing was changed in your "
        "account and nothing half-saved was kept; your FinOps Pack contact has been told. Start the scan again "
        "once they have made room."
    )


class ReviewNotFound(FinopsError):
    code = "not_found"
    customer_message = "This review does not exist, or it has expired and was deleted."


class ReviewStateError(FinopsError):
    code = "review_state"


class ReviewExpired(FinopsError):
    """Past its ``expires_at``: gone for every purpose, even before the purge deletes it (HTTP 410)."""

    code = "expired"
    customer_message = (
        "This review has expired: its report and everything stored for it are no longer available. "
        "Ask your FinOps Pack contact for a new review if you need one."
    )


class ReviewDeleted(FinopsError):
    """Deleted on request or by retention; only its link's hash is remembered (HTTP 410)."""

    code = "deleted"
    customer_message = "This review was deleted, with its report and everything stored for it."


class SignupClosed(FinopsError):
    code = "signup_closed"
    customer_message = (
        "Reviews on this FinOps Pack start from an invitation: ask your FinOps Pack contact for your "
        "invitation link."
    )

"""Fan (collector, region) reads out over a bounded thread pool and record each as coverage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finops.collect import CollectContext, CollectorSpec
from finops.errors import ReadOnlyViolation
from finops.models import (
    COV_DENIED,
    COV_ERROR,
    COV_OK,
    COV_REGION_DISABLED,
    COV_THROTTLED,
    Coverage,
    InventoryItem,
)

log = logging.getLogger(__name__)

DENIED_CODES = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "UnauthorizedException", "Forbidden",
}
REGION_DISABLED_CODES = {
    "OptInRequired", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId",
    "RegionDisabledException",
}
THROTTLED_CODES = {
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "RequestThrottled", "SlowDown", "LimitExceededException",
}

Progress = Callable[[Coverage, int, int], None]


def classify(error: Exception, iam_actions: tuple[str, ...]) -> tuple[str, str]:
    """Map an exception to a coverage status and a sentence naming the gap."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in DENIED_CODES:
            return COV_DENIED, f"the role lacks {' or '.join(iam_actions)}"
        if code in REGION_DISABLED_CODES:
            return COV_REGION_DISABLED, "the region is not enabled for this account"
        if code in THROTTLED_CODES:
            return COV_THROTTLED, f"AWS kept throttling the calls ({code}) after every retry"
        return COV_ERROR, f"AWS answered {code or 'an error'}"
    if isinstance(error, BotoCoreError):
        return COV_ERROR, f"the call failed before AWS answered ({type(error).__name__})"
    return COV_ERROR, f"an internal error ({type(error).__name__})"


def build_clients(
    session: Any, specs: Iterable[CollectorSpec], regions: Iterable[str], config: Config
) -> dict[str, dict[str, Any]]:
    """Regional clients, built before the fan-out (client creation is not thread-safe)."""
    services = sorted({spec.service for spec in specs})
    return {
        region: {svc: session.client(svc, region_name=region, config=config) for svc in services}
        for region in regions
    }


def run_collectors(
    session: Any,
    account_id: str,
    regions: list[str],
    specs: list[CollectorSpec],
    *,
    config: Config,
    concurrency: int,
    calls: threading.local,
    progress: Progress | None = None,
) -> tuple[list[InventoryItem], list[Coverage]]:
    tasks = [
        (spec, region)
        for spec in specs
        for region in (["us-east-1"] if spec.scope == "global" else regions)
    ]
    clients = build_clients(session, specs, {r for _, r in tasks}, config)

    def read(spec: CollectorSpec, region: str) -> tuple[Coverage, list[InventoryItem]]:
        record = Coverage(source=spec.id, region="global" if spec.scope == "global" else region)
        calls.record = record
        items: list[InventoryItem] = []
        try:
            items = list(spec.fn(CollectContext(account_id, region, clients[region])))
        except ReadOnlyViolation:
            raise  # a bug, never a coverage gap: fail the review loudly
        except Exception as error:  # every other failure becomes recorded coverage
            record.status, record.detail = classify(error, spec.iam_actions)
            items = []
            log.info(
                "collector=%s region=%s state=%s detail=%s",
                spec.id, region, record.status, record.detail,
            )
        else:
            record.status = COV_OK
        finally:
            calls.record = None
        return record, items

    inventory: list[InventoryItem] = []
    coverage: list[Coverage] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="collect") as pool:
        futures = [pool.submit(read, spec, region) for spec, region in tasks]
        for done, future in enumerate(as_completed(futures), start=1):
            record, items = future.result()
            coverage.append(record)
            inventory.extend(items)
            if progress:
                progress(record, done, len(tasks))
    coverage.sort(key=lambda c: (c.source, c.region))
    inventory.sort(key=lambda i: (i.resource_type, i.region, i.resource_id))
    return inventory, coverage

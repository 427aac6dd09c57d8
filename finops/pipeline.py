"""What scan jobs and store jobs hand each other through Redis, and nothing else.

A review runs as RQ jobs (``finops.queue`` enqueues them, ``jobs/`` runs them)::

    review-<id>-<n>         store queue   claim the review, queue the first scan (jobs.review)
    scan-<id>-<n>-<acct>    scan queue    scan one account; result -> Redis (jobs.scan). The
                                          management account's, as soon as it has listed the
                                          organization's accounts, queues the accounts job, every
                                          member's scan and store, and the finish
    accounts-<id>-<n>       store queue   the member accounts' rows -> SQLite (jobs.store)
    store-<id>-<n>-<acct>   store queue   that result -> SQLite (jobs.store)
    finish-<id>-<n>         store queue   after every store: status, report, email (jobs.store)
    progress-<id>-<n>-<k>   store queue   steps and progress -> SQLite, while scans run

A member's scan reads its inventory while the management account's scan still runs, and waits
for the organization's cost data (``shared_key``) only on its cost thread: ``jobs.scan`` says
what it does when that scan fails (``failed_key``) or goes back to the queue.

Scan jobs never open SQLite: what they produce waits in Redis under the keys below until a store
job has written it (``RESULT_TTL`` gives a stopped store worker a day to come back), and is
deleted only then. Results are zlib-compressed JSON (``finops.wire``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from redis import Redis

PREFIX = "finops:review"
RESULT_TTL = 24 * 3600  # seconds a result waits for its store job
PROGRESS_COALESCE = 2  # seconds: at most one progress job per review starts in this time...
PROGRESS_PENDING = 60  # ...and at most one waits in the queue (a lost one is replaced after this)


def _key(kind: str, review_id: str, attempt: int, *rest: str) -> str:
    return ":".join([PREFIX, review_id, str(attempt), kind, *rest])


def result_key(review_id: str, attempt: int, account_id: str) -> str:
    return _key("result", review_id, attempt, account_id)


def shared_key(review_id: str, attempt: int) -> str:
    """The management account's cost data, for its members' checks."""
    return _key("shared", review_id, attempt)


def failed_key(review_id: str, attempt: int) -> str:
    """Set by the management account's store job when it could not be read: members still to scan,
    or waiting for the cost data, stop."""
    return _key("shared-failed", review_id, attempt)


def steps_key(review_id: str, attempt: int) -> str:
    return _key("steps", review_id, attempt)


def progress_key(review_id: str, attempt: int) -> str:
    """Hash: account id -> percent of that account's scan done."""
    return _key("progress", review_id, attempt)


def pending_key(review_id: str, attempt: int) -> str:
    return _key("progress-pending", review_id, attempt)


def put(connection: Redis, key: str, data: bytes) -> None:
    connection.set(key, data, ex=RESULT_TTL)


def get(connection: Redis, key: str) -> bytes | None:
    value = connection.get(key)
    return None if value is None else bytes(value)


def progress_wanted(connection: Redis, review_id: str, attempt: int) -> bool:
    """True once per progress job to queue: none of this review is waiting in the queue, and
    none started in the last PROGRESS_COALESCE seconds (``progress_started``)."""
    return bool(connection.set(pending_key(review_id, attempt), 1, nx=True, ex=PROGRESS_PENDING))


def progress_started(connection: Redis, review_id: str, attempt: int) -> None:
    """A progress job has started: the next may be queued PROGRESS_COALESCE seconds from now. A
    store worker busy with a long job thus finds one progress job waiting, not one per 2 s."""
    connection.set(pending_key(review_id, attempt), 1, xx=True, ex=PROGRESS_COALESCE)


def step(message: str, level: str = "info") -> dict[str, Any]:
    """A step as the store job reads it (``take_steps``)."""
    return {"at": time.time(), "message": message, "level": level}


def report(connection: Redis, review_id: str, attempt: int, account_id: str, steps: list[dict[str, Any]],
           percent: int | None) -> None:
    """A scan's new steps, in order, and its progress (percent done, None: unchanged), in one
    round trip."""
    if not steps and percent is None:
        return
    with connection.pipeline() as pipe:
        if steps:
            key = steps_key(review_id, attempt)
            pipe.rpush(key, *(json.dumps(s) for s in steps))
            pipe.expire(key, RESULT_TTL)
        if percent is not None:
            key = progress_key(review_id, attempt)
            pipe.hset(key, account_id, percent)
            pipe.expire(key, RESULT_TTL)
        pipe.execute()


def take_steps(connection: Redis, review_id: str, attempt: int) -> list[dict[str, Any]]:
    """The steps written since the last take, removed from Redis in the same transaction.

    The caller writes them to SQLite; if that fails they are lost from the log, never the scan
    (a step log is progress, not a result).
    """
    key = steps_key(review_id, attempt)
    with connection.pipeline() as pipe:  # MULTI: no step pushed between the read and the trim is dropped
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        raw, _ = pipe.execute()
    return [json.loads(item) for item in raw]


def progress(connection: Redis, review_id: str, attempt: int) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in connection.hgetall(progress_key(review_id, attempt)).items()}


def forget(connection: Redis, review_id: str, attempt: int) -> None:
    """Everything a finished review attempt left in Redis (results are deleted as they are stored)."""
    connection.delete(shared_key(review_id, attempt), failed_key(review_id, attempt), steps_key(review_id, attempt),
                      progress_key(review_id, attempt), pending_key(review_id, attempt))

"""Work the product does by itself, in every worker's loop: no cron needed in production.

- Retention: reviews past ``expires_at`` are deleted (they are already refused on every route
  from that moment; this removes them from disk), at most every ``PURGE_EVERY`` seconds across all
  workers (a Redis lock elects one).
- The outbox: report emails due for a (re)try are queued, so a failed send is retried on its
  schedule and a message whose enqueue was lost is still sent.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError

from finops import mail, reviews
from finops.config import Settings
from finops.db import connect

log = logging.getLogger(__name__)

TICK_SECONDS = 5
PURGE_EVERY = 600
PURGE_LOCK = "finops:maintenance:purge"


def tick(settings: Settings, connection: Redis) -> dict[str, int]:
    """One round: queue due emails; purge expired reviews if no worker did in the last PURGE_EVERY s."""
    from finops.queue import enqueue_mail

    db = connect(settings.db_path, migrations=False)
    done = {"mail": 0, "purged": 0}
    try:
        if settings.mail_enabled:
            for row in mail.due(db):
                enqueue_mail(settings, row["id"], row["tries"], connection=connection)
                done["mail"] += 1
        if connection.set(f"{PURGE_LOCK}:{settings.queue_name}", "1", nx=True, ex=PURGE_EVERY):
            done["purged"] = reviews.purge_expired(db)
            if done["purged"]:
                log.info("retention purged=%d", done["purged"])
    finally:
        db.close()
    return done


def run_forever(settings: Settings, connection: Redis, stop: threading.Event) -> None:
    while not stop.wait(TICK_SECONDS):
        try:
            tick(settings, connection)
        except RedisError as error:
            log.warning("maintenance state=skipped redis=unreachable error=%s", error)
        except Exception:
            log.exception("maintenance failed")


def start(settings: Settings, connection: Redis) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(settings, connection, stop), daemon=True,
                     name="maintenance").start()
    return stop

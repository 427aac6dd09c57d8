"""Retention: delete reviews (and all they stored) once their hosted report has expired."""

from __future__ import annotations

import logging

from finops import reviews
from finops.config import Settings
from finops.db import connect

log = logging.getLogger(__name__)


def purge_expired_reviews() -> int:
    settings = Settings.from_env()
    count = reviews.purge_expired(connect(settings.db_path))
    log.info("retention purged=%d", count)
    return count

"""Logging: key=value context from our code; third-party chatter kept at WARNING."""

from __future__ import annotations

import logging

QUIET = ("botocore", "boto3", "urllib3", "s3transfer")


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)

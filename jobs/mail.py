"""The mail job: one try at sending an outbox message (the outbox schedules the next)."""

from __future__ import annotations

from finops import mail
from finops.config import Settings
from finops.db import connect


def send_outbox_message(message_id: int) -> str:
    settings = Settings.from_env().with_secret_key()
    return mail.deliver(connect(settings.db_path), settings, message_id)

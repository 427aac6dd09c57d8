"""Report emails: an outbox in SQLite, sent by an RQ job with retries, status shown on the dashboard.

``FINOPS_SMTP_URL`` names the server: ``smtp://`` (STARTTLS whenever the server offers it;
``?starttls=require`` refuses to send without it, ``?starttls=off`` never tries) or ``smtps://``
(TLS from the first byte), credentials in the userinfo (``smtp://user:pass@host:587``,
percent-encoded). The password is used for AUTH and nowhere else: never logged, never stored,
never in an error the dashboard shows.

The outbox row holds who to send to and the delivery status, never the message: the report
link in it is derived when the job composes the message (``finops.links``), so the database
holds no link. No SMTP configured: the row says mail is off and the dashboard shows the link.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlite_utils

from finops.config import Settings
from finops.db import atomic, iso, parse_iso, utcnow
from finops.errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REPORT = "report"
QUEUED, SENDING, RETRYING, SENT, FAILED, OFF = "queued", "sending", "retrying", "sent", "failed", "off"
PENDING = (QUEUED, RETRYING)
RETRY_DELAYS = (30, 120, 600, 1800)  # seconds before tries 2..5; then the message is failed
# A try claims its message for this long: longer than the mail job's timeout (2 min) and a worker's
# hard stop after it (1 min). A claim older than that belongs to a worker that died mid-send (killed,
# out of memory, stopped past its grace): the message is tried again instead of "sending" forever.
CLAIM_EXPIRES = timedelta(minutes=5)
WORKER_LOST = "its worker stopped during the try"
SMTP_TIMEOUT = 30
STATUS_WORDS = {
    QUEUED: "queued", SENDING: "sending", RETRYING: "retrying", SENT: "sent", FAILED: "not sent",
    OFF: "mail is off",
}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: str  # "auto" | "require" | "off"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:  # what logs and the dashboard may show
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    def bad(why: str) -> ConfigError:
        message = f"FINOPS_SMTP_URL {why} (e.g. smtp://user:password@mail.example.com:587 or smtps://...:465)"
        return ConfigError(message, customer_message=message)

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("is not a valid URL") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise bad("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise bad("has no host")
    options = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    starttls = options.get("starttls", "auto")
    starttls = {"1": "require", "true": "require", "yes": "require", "0": "off", "false": "off", "no": "off"}.get(
        starttls, starttls)
    if starttls not in ("auto", "require", "off"):
        raise bad("has an unknown starttls option (use starttls=require or starttls=off)")
    return SmtpTarget(
        host=parts.hostname, port=port or (465 if parts.scheme == "smtps" else 25), tls=parts.scheme == "smtps",
        starttls="off" if parts.scheme == "smtps" else starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MailError(Exception):
    """A delivery failure, described without credentials."""


def send(target: SmtpTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    try:
        if target.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if not target.tls and target.starttls != "off":
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif target.starttls == "require":
                    raise MailError(f"{target} does not offer STARTTLS, and the URL requires it")
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(f"{target} refused the credentials in FINOPS_SMTP_URL (code {error.smtp_code})") from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"{target} answered {error.smtp_code}: {_text(error.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _ in error.recipients.values()})
        raise MailError(f"{target} refused the recipients (codes {codes})") from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"{target}: {type(error).__name__}: {error}") from None


def _text(value: Any) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else str(value))[:200]


# -- the outbox -----------------------------------------------------------------------------------
def _operator_email(db: sqlite_utils.Database, review: dict) -> str | None:
    """The review's operator (who invited the customer), else the first operator: replies go there."""
    rows = []
    if review.get("operator_id"):
        rows = list(db.query("select email from operators where id = ? and disabled = 0", [review["operator_id"]]))
    if not rows:
        rows = list(db.query("select email from operators where disabled = 0 order by id limit 1"))
    return rows[0]["email"] if rows else None


def queue_report_email(db: sqlite_utils.Database, settings: Settings, review_id: str) -> int | None:
    """An outbox row for the review's report email (one per scan attempt); None if it exists or nobody to send to."""
    review = next(iter(db.query("select * from reviews where id = ?", [review_id])), None)
    if review is None or not review["contact_email"]:
        return None
    operator = _operator_email(db, review)
    now = iso(utcnow())
    with atomic(db):
        exists = list(db.query("select id from outbox where review_id = ? and kind = ? and attempt = ?",
                               [review_id, REPORT, review["attempt"]]))
        if exists:
            return None
        return db["outbox"].insert({
            "review_id": review_id, "kind": REPORT, "attempt": review["attempt"],
            "recipients": json.dumps([review["contact_email"]]),
            "cc": json.dumps([operator] if operator and operator != review["contact_email"] else []),
            "reply_to": operator, "status": QUEUED if settings.mail_enabled else OFF, "tries": 0,
            "created_at": now, "next_try_at": now,
        }).last_pk


def resend(db: sqlite_utils.Database, settings: Settings, review_id: str) -> int | None:
    """The operator's "Send again": a failed (or mail-off) report email is queued once more."""
    row = latest(db, review_id)
    if row is None or row["status"] not in (FAILED, OFF, SENT) or not settings.mail_enabled:
        return None
    db.execute("update outbox set status = ?, tries = 0, next_try_at = ?, last_error = null where id = ?",
               [QUEUED, iso(utcnow()), row["id"]])
    return row["id"]


def latest(db: sqlite_utils.Database, review_id: str) -> dict | None:
    return next(iter(db.query("select * from outbox where review_id = ? order by id desc limit 1", [review_id])), None)


def due(db: sqlite_utils.Database, now: datetime | None = None) -> list[dict]:
    """Messages to try now: queued, retrying, or claimed by a try whose worker died (``CLAIM_EXPIRES``)."""
    return list(db.query("select id, tries from outbox where status in (?, ?, ?) and next_try_at <= ? order by id",
                         [*PENDING, SENDING, iso(now or utcnow())]))


def deliver(db: sqlite_utils.Database, settings: Settings, message_id: int) -> str:
    """One try at sending an outbox message; on failure the next try is scheduled (or it is failed)."""
    from finops import reviews

    now = utcnow()
    with atomic(db):
        claimed = db.execute(
            "update outbox set status = ?, tries = tries + 1, next_try_at = ? where id = ? and "
            "(status in (?, ?) or (status = ? and next_try_at <= ?))",
            [SENDING, iso(now + CLAIM_EXPIRES), message_id, *PENDING, SENDING, iso(now)],
        ).rowcount
    if not claimed:
        return "skipped"
    row = next(iter(db.query("select * from outbox where id = ?", [message_id])))
    if row["tries"] > len(RETRY_DELAYS) + 1:  # only a try whose worker died comes back this often
        db.execute("update outbox set status = ?, last_error = ? where id = ?", [FAILED, WORKER_LOST, message_id])
        log.warning("outbox=%s state=failed tries=%s error=worker-lost", message_id, row["tries"])
        return FAILED
    review = next(iter(db.query("select * from reviews where id = ?", [row["review_id"]])), None)
    if review is None or reviews.is_expired(review, now):
        db.execute("update outbox set status = ?, last_error = ? where id = ?",
                   [FAILED, "the review expired before the email could be sent", message_id])
        return FAILED
    if not settings.mail_enabled:
        db.execute("update outbox set status = ? where id = ?", [OFF, message_id])
        return OFF
    try:
        message = compose_report_email(db, settings, review, row)
        send(parse_smtp_url(settings.smtp_url or ""), message)
    except Exception as error:  # noqa: BLE001 - every failure becomes a visible status and a retry
        detail = str(error) if isinstance(error, MailError | ConfigError) else f"{type(error).__name__}"
        tries = row["tries"]
        if tries <= len(RETRY_DELAYS):
            next_try = now + timedelta(seconds=RETRY_DELAYS[tries - 1])
            db.execute("update outbox set status = ?, last_error = ?, next_try_at = ? where id = ?",
                       [RETRYING, detail, iso(next_try), message_id])
            log.warning("outbox=%s review=%s state=retrying try=%s next=%s error=%s", message_id,
                        review["id"][:6], tries, iso(next_try), detail)
            return RETRYING
        db.execute("update outbox set status = ?, last_error = ? where id = ?", [FAILED, detail, message_id])
        log.warning("outbox=%s review=%s state=failed tries=%s error=%s", message_id, review["id"][:6], tries, detail)
        return FAILED
    db.execute("update outbox set status = ?, sent_at = ?, last_error = null where id = ?",
               [SENT, iso(utcnow()), message_id])
    log.info("outbox=%s review=%s state=sent", message_id, review["id"][:6])
    return SENT


def status_sentence(row: dict | None, settings: Settings) -> str:
    if row is None:
        return "No email yet: it is sent when the scan completes."
    status = row["status"]
    if status == SENT:
        return f"Report email sent {row['sent_at'][:16].replace('T', ' ')} UTC."
    if status == OFF:
        return "Mail is off (FINOPS_SMTP_URL is not set): copy the report link below and send it yourself."
    if status == RETRYING:
        return (f"Sending failed (try {row['tries']}): {row['last_error']}. Next try at "
                f"{(row['next_try_at'] or '')[11:16]} UTC.")
    if status == FAILED:
        return f"Not sent after {row['tries']} tries: {row['last_error']}."
    return "Report email queued." if status == QUEUED else "Sending the report email…"


# -- composing ------------------------------------------------------------------------------------
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from finops.money import display

    env = Environment(loader=FileSystemLoader(str(ROOT / "templates")),  # noqa: S701 - autoescape: html
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["usd"] = display
    return env


def _one_line(value: str | None) -> str:
    """Customer-controlled text bound for a header: one line, no control characters."""
    return " ".join((value or "").replace("\r", " ").replace("\n", " ").split())[:200]


def compose_report_email(db: sqlite_utils.Database, settings: Settings, review: dict, row: dict) -> EmailMessage:
    """The report email: plain text and an HTML alternative, every customer-controlled value escaped."""
    from finops import links, notes
    from finops.markup import render
    from finops.report import build_report

    report_link = links.report_url(settings, review)
    if report_link is None:  # a link issued before links were derived: issue one that can be sent
        links.replace_link(db, settings, review["id"], links.REPORT)
        review = next(iter(db.query("select * from reviews where id = ?", [review["id"]])))
        report_link = links.report_url(settings, review)
    model = build_report(db, review)
    summary = notes.summary(db, review["id"])
    context = {
        "review": review, "report": model, "totals": model["totals"], "report_link": report_link,
        "expires_on": (review["expires_at"] or "")[:10], "booking_url": settings.booking_url,
        "top": model["findings"][:5], "summary_md": summary, "summary_html": render(summary),
        "operator": row["reply_to"], "company": review["contact_company"] or "",
        "name": review["contact_name"] or "", "settings": settings,
    }
    env = _environment()
    message = EmailMessage()
    company = _one_line(review["contact_company"])
    monthly = model["totals"]["monthly_savings"]
    message["Subject"] = (f"Your AWS savings review{' for ' + company if company else ''}: "
                          f"${monthly} a month in usage savings")
    message["From"] = settings.mail_from or ""
    message["To"] = ", ".join(json.loads(row["recipients"]))
    cc = json.loads(row["cc"] or "[]")
    if cc:
        message["Cc"] = ", ".join(cc)
    if row["reply_to"]:
        message["Reply-To"] = formataddr(("FinOps Pack review", row["reply_to"]))
    message["Message-ID"] = make_msgid(domain=(settings.mail_from or "finops.local").rsplit("@", 1)[-1].strip(">"))
    message.set_content(env.get_template("mail/report.txt").render(**context))
    message.add_alternative(env.get_template("mail/report.html").render(**context), subtype="html")
    return message


def parse_when(value: str | None) -> datetime | None:
    return parse_iso(value)

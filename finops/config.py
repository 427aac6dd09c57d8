"""Typed settings, read once from ``FINOPS_*`` environment variables.

Every variable is documented in the README's configuration table (a test keeps them in sync).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from finops.errors import ConfigError

DEFAULT_DB_PATH = "var/finops.db"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path(DEFAULT_DB_PATH)
    db_busy_timeout: int = 30
    redis_url: str | None = field(default=None, repr=False)  # may hold the Redis password
    secret_key: str = field(default="", repr=False)
    retention_days: int = 7
    scanner_principal_arn: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    queue_name: str = "finops-reviews"
    scan_concurrency: int = 16
    org_account_concurrency: int = 4  # member accounts of an organization review scanned at once
    scan_retries: int = 2  # times an account's scan job runs again after its worker was lost
    scan_timeout: int = 1800
    heartbeat_timeout: int = 45
    shutdown_grace: int = 5
    regions: tuple[str, ...] = ()
    aws_max_attempts: int = 10
    aws_calls_per_endpoint: int = 8
    aws_connect_timeout: int = 5
    aws_read_timeout: int = 30
    template_url: str | None = None
    log_level: str = "INFO"
    metrics_lookback_days: int = 30
    resource_costs: bool = True
    thresholds_file: Path | None = None
    price_catalogue: Path | None = None  # None: the bundled finops/pricing/catalogue.json
    # The consultant's workspace and report delivery (issue 9).
    public_signup: bool = False
    smtp_url: str | None = field(default=None, repr=False)  # may hold a password in its userinfo
    mail_from: str | None = None
    booking_url: str | None = None
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        db_path = Path(env.get("FINOPS_DB_PATH") or DEFAULT_DB_PATH)
        settings = cls(
            db_path=db_path,
            db_busy_timeout=_int(env, "FINOPS_DB_BUSY_TIMEOUT", 30, minimum=1),
            redis_url=env.get("FINOPS_REDIS_URL") or None,
            secret_key=env.get("FINOPS_SECRET_KEY", ""),
            retention_days=_int(env, "FINOPS_RETENTION_DAYS", 7, minimum=1),
            scanner_principal_arn=env.get("FINOPS_SCANNER_PRINCIPAL_ARN") or None,
            base_url=(env.get("FINOPS_BASE_URL") or "").rstrip("/"),
            host=env.get("FINOPS_HOST") or "127.0.0.1",
            port=_int(env, "FINOPS_PORT", 8000, minimum=1),
            queue_name=env.get("FINOPS_QUEUE") or "finops-reviews",
            scan_concurrency=_int(env, "FINOPS_SCAN_CONCURRENCY", 16, minimum=1),
            org_account_concurrency=_int(env, "FINOPS_ORG_ACCOUNT_CONCURRENCY", 4, minimum=1),
            scan_retries=_int(env, "FINOPS_SCAN_RETRIES", 2, minimum=0),
            scan_timeout=_int(env, "FINOPS_SCAN_TIMEOUT", 1800, minimum=60),
            heartbeat_timeout=_int(env, "FINOPS_HEARTBEAT_TIMEOUT", 45, minimum=2),
            shutdown_grace=_int(env, "FINOPS_SHUTDOWN_GRACE", 5),
            regions=_list(env, "FINOPS_REGIONS"),
            aws_max_attempts=_int(env, "FINOPS_AWS_MAX_ATTEMPTS", 10, minimum=1),
            aws_calls_per_endpoint=_int(env, "FINOPS_AWS_CALLS_PER_ENDPOINT", 8, minimum=1),
            aws_connect_timeout=_int(env, "FINOPS_AWS_CONNECT_TIMEOUT", 5, minimum=1),
            aws_read_timeout=_int(env, "FINOPS_AWS_READ_TIMEOUT", 30, minimum=1),
            template_url=env.get("FINOPS_TEMPLATE_URL") or None,
            log_level=(env.get("FINOPS_LOG_LEVEL") or "INFO").upper(),
            metrics_lookback_days=_int(env, "FINOPS_METRICS_LOOKBACK_DAYS", 30, minimum=1),
            resource_costs=_bool(env, "FINOPS_RESOURCE_COSTS", True),
            thresholds_file=Path(env["FINOPS_THRESHOLDS"]) if env.get("FINOPS_THRESHOLDS") else None,
            price_catalogue=Path(env["FINOPS_PRICE_CATALOGUE"]) if env.get("FINOPS_PRICE_CATALOGUE") else None,
            public_signup=_bool(env, "FINOPS_PUBLIC_SIGNUP", False),
            smtp_url=env.get("FINOPS_SMTP_URL") or None,
            mail_from=env.get("FINOPS_MAIL_FROM") or None,
            booking_url=env.get("FINOPS_BOOKING_URL") or None,
            trusted_proxies=_int(env, "FINOPS_TRUSTED_PROXIES", 0),
        )
        _check_delivery_settings(settings)
        if settings.price_catalogue is not None and not settings.price_catalogue.is_file():
            message = f"FINOPS_PRICE_CATALOGUE names {settings.price_catalogue}, which is not a file"
            raise ConfigError(message, customer_message=message)
        if settings.thresholds_file is not None:
            from finops.checks.thresholds import read_overrides

            read_overrides(settings.thresholds_file)  # refuse a bad file at start-up, with a sentence
        if not settings.base_url:
            settings = replace(settings, base_url=f"http://{settings.host}:{settings.port}")
        return settings

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url)

    def with_secret_key(self) -> Settings:
        """Return settings with a secret key: the configured one, or one kept beside the database.

        Keeping a generated key on disk (mode 0600, in the database's 0700 directory) lets CSRF
        tokens survive a restart of the embedded server without asking a laptop user to invent a
        key. Several processes may start together on a fresh directory (gunicorn's workers): each
        writes a candidate to its own temporary file and links it into place, which only the first
        one does (``os.link`` never replaces); all of them then read that one key, retrying while
        the file is not there or still empty.
        """
        if self.secret_key:
            return self
        return replace(self, secret_key=read_or_create_secret_key(self.db_path.parent / "secret_key"))


SECRET_KEY_WAIT_SECONDS = 10


def read_or_create_secret_key(key_file: Path) -> str:
    from finops.db import PRIVATE_FILE, private_dir

    private_dir(key_file.parent)
    deadline = time.monotonic() + SECRET_KEY_WAIT_SECONDS
    while True:
        try:
            key = key_file.read_text().strip()
        except FileNotFoundError:
            _link_new_key(key_file, PRIVATE_FILE)
            continue
        if key:
            return key
        if time.monotonic() > deadline:  # a file left empty by a crash (or by hand): say which
            raise ConfigError(f"{key_file} is empty: delete it (a new key is generated) or set FINOPS_SECRET_KEY")
        time.sleep(0.02)


def _link_new_key(key_file: Path, mode: int) -> None:
    """Write a fresh key to a temporary file, then link it to ``key_file`` unless one is there."""
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, key_file)  # atomic, and never replaces a key another process linked
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _check_delivery_settings(settings: Settings) -> None:
    """Refuse, at start-up and with a sentence, a mail or booking setting that cannot work."""
    from urllib.parse import urlsplit

    if settings.booking_url:
        parts = urlsplit(settings.booking_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            message = f"FINOPS_BOOKING_URL must be an http(s) URL, got {settings.booking_url!r}"
            raise ConfigError(message, customer_message=message)
    if settings.smtp_url:
        from finops.mail import parse_smtp_url

        parse_smtp_url(settings.smtp_url)  # raises a ConfigError naming the problem, never the password
        if not settings.mail_from:
            message = "FINOPS_MAIL_FROM must be set when FINOPS_SMTP_URL is (the From: address of report emails)"
            raise ConfigError(message, customer_message=message)

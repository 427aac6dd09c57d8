"""Typed settings, read once from ``FINOPS_*`` environment variables.

Every variable is documented in the README's configuration table (a test keeps them in sync).
"""

from __future__ import annotations

import os
import secrets
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
    redis_url: str | None = field(default=None, repr=False)  # may hold the Redis password
    secret_key: str = field(default="", repr=False)
    retention_days: int = 7
    scanner_principal_arn: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    queue_name: str = "finops-reviews"
    scan_concurrency: int = 16
    scan_timeout: int = 1800
    heartbeat_timeout: int = 45
    shutdown_grace: int = 5
    regions: tuple[str, ...] = ()
    aws_max_attempts: int = 8
    aws_calls_per_endpoint: int = 8
    aws_connect_timeout: int = 5
    aws_read_timeout: int = 30
    template_url: str | None = None
    log_level: str = "INFO"
    metrics_lookback_days: int = 30
    resource_costs: bool = True
    thresholds_file: Path | None = None
    price_catalogue: Path | None = None  # None: the bundled finops/pricing/catalogue.json

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        db_path = Path(env.get("FINOPS_DB_PATH") or DEFAULT_DB_PATH)
        settings = cls(
            db_path=db_path,
            redis_url=env.get("FINOPS_REDIS_URL") or None,
            secret_key=env.get("FINOPS_SECRET_KEY", ""),
            retention_days=_int(env, "FINOPS_RETENTION_DAYS", 7, minimum=1),
            scanner_principal_arn=env.get("FINOPS_SCANNER_PRINCIPAL_ARN") or None,
            base_url=(env.get("FINOPS_BASE_URL") or "").rstrip("/"),
            host=env.get("FINOPS_HOST") or "127.0.0.1",
            port=_int(env, "FINOPS_PORT", 8000, minimum=1),
            queue_name=env.get("FINOPS_QUEUE") or "finops-reviews",
            scan_concurrency=_int(env, "FINOPS_SCAN_CONCURRENCY", 16, minimum=1),
            scan_timeout=_int(env, "FINOPS_SCAN_TIMEOUT", 1800, minimum=60),
            heartbeat_timeout=_int(env, "FINOPS_HEARTBEAT_TIMEOUT", 45, minimum=2),
            shutdown_grace=_int(env, "FINOPS_SHUTDOWN_GRACE", 5),
            regions=_list(env, "FINOPS_REGIONS"),
            aws_max_attempts=_int(env, "FINOPS_AWS_MAX_ATTEMPTS", 8, minimum=1),
            aws_calls_per_endpoint=_int(env, "FINOPS_AWS_CALLS_PER_ENDPOINT", 8, minimum=1),
            aws_connect_timeout=_int(env, "FINOPS_AWS_CONNECT_TIMEOUT", 5, minimum=1),
            aws_read_timeout=_int(env, "FINOPS_AWS_READ_TIMEOUT", 30, minimum=1),
            template_url=env.get("FINOPS_TEMPLATE_URL") or None,
            log_level=(env.get("FINOPS_LOG_LEVEL") or "INFO").upper(),
            metrics_lookback_days=_int(env, "FINOPS_METRICS_LOOKBACK_DAYS", 30, minimum=1),
            resource_costs=_bool(env, "FINOPS_RESOURCE_COSTS", True),
            thresholds_file=Path(env["FINOPS_THRESHOLDS"]) if env.get("FINOPS_THRESHOLDS") else None,
            price_catalogue=Path(env["FINOPS_PRICE_CATALOGUE"]) if env.get("FINOPS_PRICE_CATALOGUE") else None,
        )
        if settings.price_catalogue is not None and not settings.price_catalogue.is_file():
            message = f"FINOPS_PRICE_CATALOGUE names {settings.price_catalogue}, which is not a file"
            raise ConfigError(message, customer_message=message)
        if settings.thresholds_file is not None:
            from finops.checks.thresholds import read_overrides

            read_overrides(settings.thresholds_file)  # refuse a bad file at start-up, with a sentence
        if not settings.base_url:
            settings = replace(settings, base_url=f"http://{settings.host}:{settings.port}")
        return settings

    def with_secret_key(self) -> Settings:
        """Return settings with a secret key: the configured one, or one kept beside the database.

        Keeping a generated key on disk (mode 0600) lets CSRF tokens survive a restart of the
        embedded server without asking a laptop user to invent a key.
        """
        if self.secret_key:
            return self
        key_file = self.db_path.parent / "secret_key"
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return replace(self, secret_key=key_file.read_text().strip())

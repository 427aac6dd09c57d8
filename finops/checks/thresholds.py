"""Thresholds the checks decide with: documented defaults, overridable per deployment or review.

    thresholds = load_thresholds(settings.thresholds_file, review_overrides)
    thresholds["stopped_instance_min_days"]  # 30

Defaults come from what AWS's own tools and peer tools publish (``source``); the report and the
JSON echo every value used. Overrides: ``FINOPS_THRESHOLDS`` names a TOML or JSON file of
``name = value`` (optionally under a ``[thresholds]`` table), and a review can carry its own
overrides on top. An unknown name or a value of the wrong kind is refused with a sentence.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finops.errors import ConfigError


@dataclass(frozen=True)
class Threshold:
    name: str
    default: Any
    unit: str
    description: str
    source: str


_DEFS = (
    Threshold("unattached_volume_min_days", 7, "days",
              "An unattached EBS volume is reported once it is at least this old (AWS gives no detach time).",
              "checks landscape 5.1 #1 (created or detached >= 7 days)"),
    Threshold("stopped_instance_min_days", 30, "days",
              "An instance stopped at least this long is reported with the storage and addresses it still pays for.",
              "Trusted Advisor c18d2gz150, AWS Config ec2-stopped-instance, Prowler (30 days)"),
    Threshold("snapshot_old_days", 90, "days", "An EBS snapshot older than this is reported as old.",
              "Steampipe Thrifty ebs_snapshot_max_age, CloudSift (90 days)"),
    Threshold("snapshot_orphaned_min_days", 7, "days",
              "A snapshot whose source volume is gone is reported once at least this old.",
              "FinOps Pack default: a fresh copy is often kept on purpose for a few days"),
    Threshold("ami_unused_min_days", 90, "days",
              "An AMI no instance uses is reported once at least this old.", "checks landscape 5.1 #6 (90 days)"),
    Threshold("rds_snapshot_old_days", 90, "days", "A manual RDS snapshot older than this is reported as old.",
              "Steampipe Thrifty / CloudSift snapshot age (90 days)"),
    Threshold("rds_snapshot_orphaned_min_days", 30, "days",
              "A manual RDS snapshot whose source database is gone is reported once at least this old.",
              "Steampipe Thrifty rds_unused_snapshots, CloudBurn RDS-7 (30 days)"),
    Threshold("metrics_min_days", 14, "days",
              "Utilisation checks need CloudWatch data on at least this many days of the lookback.",
              "Trusted Advisor low-utilisation checks (14 days)"),
    Threshold("ec2_idle_cpu_percent", 5.0, "%",
              "An instance is idle when its daily average CPU never exceeds this and its daily network traffic "
              "never exceeds ec2_idle_network_mb_per_day.",
              "OptScale (CPU < 5%); Trusted Advisor Qch7DwouX1 uses 10%"),
    Threshold("ec2_idle_network_mb_per_day", 5.0, "MB/day",
              "The most network traffic (in + out) a day of an idle instance.",
              "Trusted Advisor Qch7DwouX1 (network <= 5 MB)"),
    Threshold("ec2_rightsize_cpu_percent", 40.0, "%",
              "An instance is one size too big when the 95th percentile of its daily maximum CPU is at most this "
              "(halving capacity keeps the peak under 80%).", "CFM Tips (CPU < 40% over 14 days)"),
    Threshold("nat_idle_max_gb", 0.0, "GB",
              "A NAT gateway is idle when it processed at most this much traffic over the lookback.",
              "Trusted Advisor c2vlfg022t (0 bytes in 30 days)"),
    Threshold("rds_idle_max_connections", 0.0, "connections",
              "A database is idle when its daily maximum of connections never exceeds this.",
              "Trusted Advisor Ti39halfu8, Steampipe Thrifty rds_db_low_connection_count (0)"),
    Threshold("rds_rightsize_cpu_percent", 25.0, "%",
              "A database is one size too big when the 95th percentile of its daily maximum CPU is at most this.",
              "Steampipe Thrifty (average daily max CPU <= 25% alarm)"),
    Threshold("io_to_gp3_max_iops", 16000, "IOPS",
              "An io1/io2 volume provisioned at or below this is served by gp3.",
              "Steampipe Thrifty low_iops_ebs_volumes, CloudBurn EBS-6 (16,000)"),
    Threshold("ebs_iops_headroom_percent", 50.0, "%",
              "A gp3 volume's IOPS or throughput is over-provisioned when its observed peak plus this headroom is "
              "below what is provisioned.", "FinOps Pack default"),
    Threshold("ecs_idle_cpu_percent", 1.0, "%",
              "An ECS service is idle when its daily maximum CPU never exceeds this.", "FinOps Pack default"),
    Threshold("ecs_container_instance_min_days", 7, "days",
              "A container instance running no tasks is reported once registered at least this long.",
              "FinOps Pack default"),
    Threshold("lambda_pc_idle_percent", 5.0, "%",
              "Provisioned concurrency is idle when its daily maximum utilisation never exceeds this.",
              "FinOps Pack default"),
    Threshold("s3_large_bucket_gb", 1024.0, "GB",
              "A bucket holding at least this much in S3 Standard, with no Intelligent-Tiering or transition rule, "
              "is reported.", "FinOps Pack default"),
    Threshold("non_production_tag_keys", ["environment", "env", "stage"], "tag keys",
              "Tag keys (case-insensitive) that name a resource's environment.", "FinOps Pack default"),
    Threshold("non_production_tag_values",
              ["dev", "development", "test", "testing", "qa", "staging", "stage", "sandbox", "nonprod", "non-prod"],
              "tag values", "Environment tag values (case-insensitive) that mean non-production.",
              "FinOps Pack default"),
    Threshold("commitment_expiry_days", 60, "days",
              "Reserved Instances and Savings Plans ending within this many days are reported.",
              "CloudBurn EC2-7 (60 days); Trusted Advisor uses 30"),
)
DEFAULTS: dict[str, Threshold] = {t.name: t for t in _DEFS}


class Thresholds(Mapping[str, Any]):
    """Effective values: defaults, then the file's overrides, then the review's."""

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        self._values = {name: t.default for name, t in DEFAULTS.items()}
        self._overridden: set[str] = set()
        for name, value in (overrides or {}).items():
            self._values[name] = _validate(name, value)
            if self._values[name] != DEFAULTS[name].default:
                self._overridden.add(name)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def overrides(self) -> dict[str, Any]:
        return {name: self._values[name] for name in sorted(self._overridden)}

    def echo(self) -> list[dict[str, Any]]:
        """Every threshold with its value, default, unit and source: for the report and the JSON."""
        return [
            {"name": t.name, "value": self._values[t.name], "default": t.default, "unit": t.unit,
             "overridden": t.name in self._overridden, "description": t.description, "source": t.source}
            for t in _DEFS
        ]


def _bad(message: str) -> ConfigError:
    return ConfigError(message, customer_message=message)


def _validate(name: str, value: Any) -> Any:
    if name not in DEFAULTS:
        raise _bad(
            f"unknown threshold {name!r}; known thresholds: {', '.join(sorted(DEFAULTS))}"
        )
    default = DEFAULTS[name].default
    if isinstance(default, list):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(f"threshold {name!r} must be a list of strings, got {value!r}")
        return [v.lower() for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"threshold {name!r} must be a number, got {value!r}")
    if value < 0:
        raise _bad(f"threshold {name!r} must not be negative, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if int(value) != value:
            raise _bad(f"threshold {name!r} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def read_overrides(path: Path | str | None, label: str = "FINOPS_THRESHOLDS") -> dict[str, Any]:
    """The ``name = value`` pairs of a TOML or JSON thresholds file (``[thresholds]`` table optional)."""
    if not path:
        return {}
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise _bad(f"{label}: cannot read {path}: {error.strerror}") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise _bad(f"{label}: {path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {error}") \
            from None
    if not isinstance(doc, dict):
        raise _bad(f"{label}: {path} must hold name = value pairs")
    table = doc.get("thresholds", doc)
    if not isinstance(table, dict):
        raise _bad(f"{label}: [thresholds] in {path} must hold name = value pairs")
    for name, value in table.items():
        try:
            _validate(name, value)
        except ConfigError as error:
            raise _bad(f"{label}: {error.customer_message}") from None
    return dict(table)


def load_thresholds(path: Path | str | None = None, review_overrides: Mapping[str, Any] | None = None) -> Thresholds:
    return Thresholds({**read_overrides(path), **(review_overrides or {})})

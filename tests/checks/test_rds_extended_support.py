from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.checks.kit import context, eu, one, run, us
from tests.checks.rds_records import aurora, cluster, context_at, db

CHECK = "rds_extended_support"


@pytest.mark.parametrize("data, region, expected", [
    # MySQL 5.7: year-3 rate since 1 March 2026 (review date 30 November 2026); db.m5.large has 2 vCPUs
    ({"engine": "mysql", "engine_version": "5.7.44-RDS.20240808"}, "us-east-1",
     2 * 730 * us("rds.extended_support.mysql.yr3")),
    ({"engine": "mysql", "engine_version": "5.7.44-RDS.20240808"}, "eu-west-1",
     2 * 730 * eu("rds.extended_support.mysql.yr3")),
    # MySQL 8.0: charged from 1 August 2026, year 1-2 rate
    ({"engine": "mysql", "engine_version": "8.0.35"}, "us-east-1", 2 * 730 * us("rds.extended_support.mysql.yr1-2")),
    # PostgreSQL 11 Multi-AZ: the standby's 4 vCPUs are charged too
    ({"engine_version": "11.22-rds.20240509", "instance_class": "db.m5.xlarge", "multi_az": True}, "us-east-1",
     4 * 2 * 730 * us("rds.extended_support.postgres.yr3")),
    # PostgreSQL 12 on a burstable class (2 vCPUs), year 1-2 until 1 March 2027
    ({"engine_version": "12.22", "instance_class": "db.t3.medium"}, "us-east-1",
     2 * 730 * us("rds.extended_support.postgres.yr1-2")),
    # db.t2.small has 1 vCPU
    ({"engine_version": "13.20", "instance_class": "db.t2.small"}, "us-east-1",
     1 * 730 * us("rds.extended_support.postgres.yr1-2")),
])
def test_instance_in_extended_support_is_priced_per_vcpu_hour(data, region, expected):
    finding = one(context([db(region=region, **data)]), CHECK)
    assert finding.monthly_savings == expected
    assert finding.action == "Upgrade" and finding.confidence == "High" and finding.effort == "Medium"
    assert "--allow-major-version-upgrade" in finding.remediation and "modify-db-instance" in finding.remediation


def test_recommended_target_is_the_newest_major_in_standard_support():
    finding = one(context([db(engine="mysql", engine_version="5.7.44")]), CHECK)
    assert "MySQL 8.4" in finding.recommended and "--engine-version 8.4" in finding.remediation
    assert finding.evidence["band"] == "yr3" and finding.evidence["year3_rate_from"] == "2026-03-01"


def test_aurora_cluster_is_priced_over_every_provisioned_instance():
    items = [cluster(engine_version="11.9", members=("db-a", "db-b")), aurora("db-a", engine_version="11.9"),
             aurora("db-b", engine_version="11.9", instance_class="db.r6g.xlarge")]
    finding = one(context(items), CHECK)
    assert finding.resource_type == "rds:cluster"
    assert finding.monthly_savings == (2 + 4) * 730 * us("rds.extended_support.aurora-postgresql.yr3")
    assert "modify-db-cluster" in finding.remediation and "--engine-version 17.7" in finding.remediation
    assert "is-cluster=true" in finding.console_url


def test_aurora_mysql_version_2_is_still_on_the_year_1_2_rate_the_day_before_year_3():
    items = [cluster(engine="aurora-mysql", engine_version="5.7.mysql_aurora.2.11.2", members=("db-a",)),
             aurora("db-a", engine="aurora-mysql", engine_version="5.7.mysql_aurora.2.11.2")]
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == 2 * 730 * us("rds.extended_support.aurora-mysql.yr1-2")
    on_the_day = one(context_at(datetime(2026, 12, 1, tzinfo=UTC), items), CHECK)
    assert on_the_day.monthly_savings == 2 * 730 * us("rds.extended_support.aurora-mysql.yr3")


@pytest.mark.parametrize("now, flagged", [
    (datetime(2026, 2, 28, 23, 59, tzinfo=UTC), False),  # PostgreSQL 13: last day of standard support
    (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), True),  # first charged day
    (datetime(2029, 2, 28, 12, 0, tzinfo=UTC), True),  # last day of Extended Support
    (datetime(2029, 3, 1, 0, 0, tzinfo=UTC), False),  # after it: not priced by the calendar
])
def test_boundary_on_the_calendar_dates(now, flagged):
    assert bool(run(context_at(now, [db(engine_version="13.20")]), CHECK)) is flagged


@pytest.mark.parametrize("record", [
    db(engine_version="14.12"),  # standard support until February 2027
    db(engine="mysql", engine_version="8.4.3"),
    db(engine="mariadb", engine_version="10.6.19"),  # no Extended Support for MariaDB
    db(engine_version="11.22", engine_lifecycle_support="open-source-rds-extended-support-disabled"),
    db(engine_version="11.22", status="stopped"),
    db(engine="oracle-ee", engine_version="19.0.0.0.ru-2024-01.rur-2024-01.r1"),
    cluster(engine="aurora-mysql", engine_version="8.0.mysql_aurora.3.04.0", members=()),
    cluster(engine_version="11.9", members=()),  # no instance, no vCPU-hours
])
def test_supported_disabled_or_other_engines_are_not_flagged(record):
    assert run(context([record]), CHECK) == []


def test_classes_without_sourced_vcpus_and_serverless_are_unpriced_with_the_reason():
    finding = one(context([db(engine_version="11.22", instance_class="db.x2g.large")]), CHECK)
    assert finding.monthly_savings is None
    assert finding.price_note == (
        "the vCPU count of db.x2g.large is not in FinOps Pack's sourced table of DB instance classes")
    items = [cluster(engine_version="11.9", members=("db-a",)),
             aurora("db-a", engine_version="11.9", instance_class="db.serverless")]
    serverless = one(context(items), CHECK)
    assert serverless.monthly_savings is None and "ACU-hour" in serverless.price_note


def test_multi_az_db_cluster_members_count_once_and_upgrade_through_the_cluster():
    member = db(engine_version="13.20", multi_az=True, cluster_id="maz-1")
    finding = one(context([member]), CHECK)
    assert finding.monthly_savings == 2 * 730 * us("rds.extended_support.postgres.yr1-2")
    assert "modify-db-cluster" in finding.remediation and "maz-1" in finding.remediation


def test_unpriced_region_gives_the_reason():
    finding = one(context([db(region="ap-south-2", engine_version="11.22")]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note


def test_the_calendar_is_one_consistent_table():
    """``_rds.EXTENDED_SUPPORT`` is the only calendar (the bundled catalogue no longer carries a copy): charges
    start within two months of the end of standard support, the year-3 date falls inside Extended Support, and
    the dates AWS's release calendars give for the versions customers still run are the ones used."""
    from finops.checks._rds import EXTENDED_SUPPORT

    for engine, versions in EXTENDED_SUPPORT.items():
        for version, dates in versions.items():
            assert dates.end_of_standard < dates.year1 <= dates.end_of_standard + timedelta(days=62), (engine, version)
            assert dates.year3 is None or dates.year1 < dates.year3 < dates.end_of_extended, (engine, version)
            assert dates.year1 < dates.end_of_extended, (engine, version)
    assert EXTENDED_SUPPORT["aurora-mysql"]["5.7"].year3 == date(2026, 12, 1)
    assert EXTENDED_SUPPORT["aurora-mysql"]["8.0"].year3 is None
    assert EXTENDED_SUPPORT["mysql"]["5.7"].year3 == date(2026, 3, 1)
    assert EXTENDED_SUPPORT["postgres"]["11"].year1 == date(2024, 4, 1)


def test_aurora_mysql_year_3_is_unpriced_in_the_bundled_catalogue_with_its_reason():
    """From 1 December 2026 Aurora MySQL version 2 is on a year-3 rate no source gives: the finding stays, its
    figure says why it is missing, and the year 1-2 rate is never shown in its place."""
    from finops.pricing import load_catalogue

    items = [cluster(engine="aurora-mysql", engine_version="5.7.mysql_aurora.2.11.2", members=("db-a",)),
             aurora("db-a", engine="aurora-mysql", engine_version="5.7.mysql_aurora.2.11.2")]
    bundled = load_catalogue()
    before = one(context_at(datetime(2026, 11, 30, tzinfo=UTC), items, bundled), CHECK)
    assert before.monthly_savings == 2 * 730 * Decimal("0.1")  # year 1-2: $0.10 per vCPU-hour, sourced
    finding = one(context_at(datetime(2026, 12, 1, tzinfo=UTC), items, bundled), CHECK)
    assert finding.monthly_savings is None and finding.evidence["band"] == "yr3"
    assert "dates year-3 pricing for version 2 from 1 December 2026" in finding.price_note

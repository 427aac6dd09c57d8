from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, eu, make_catalogue, one, run, us
from tests.checks.rds_records import cluster, cluster_snapshot, db, snapshot

CHECK = "rds_snapshot_orphaned"
AURORA_BACKUP = Decimal("0.021")  # test price: the kit's catalogue has no aurora.backup
CATALOGUE = make_catalogue(extra={"aurora.backup": ("GB-Mo", str(AURORA_BACKUP))})


@pytest.mark.parametrize("region, price", [("us-east-1", us("rds.snapshot")), ("eu-west-1", eu("rds.snapshot"))])
def test_orphaned_snapshot_is_priced_at_its_allocated_size_as_an_upper_bound(region, price):
    finding = one(context([snapshot(region=region)], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == 100 * price
    assert finding.confidence == "Low" and finding.evidence["source_exists"] is False
    assert "deleted db-1" in finding.title


def test_orphaned_cluster_snapshot_is_priced_as_aurora_backup():
    finding = one(context([cluster_snapshot(cluster_id="gone")], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == 50 * AURORA_BACKUP
    assert "delete-db-cluster-snapshot" in finding.remediation


@pytest.mark.parametrize("age, flagged", [(29.9, False), (30, True)])  # boundary: at least 30 days old
def test_boundary_at_the_age_threshold(age, flagged):
    assert bool(run(context([snapshot(create_time=ago(age))]), CHECK)) is flagged


@pytest.mark.parametrize("items", [
    [db(), snapshot()],  # source still there
    [cluster(), cluster_snapshot()],
    [snapshot(snapshot_type="automated")],
    [snapshot(snapshot_type="shared")],
    [snapshot(status="copying")],
])
def test_snapshots_with_a_source_or_not_manual_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_source_in_another_region_does_not_count():
    assert one(context([db(region="eu-west-1"), snapshot()]), CHECK).region == "us-east-1"


def test_unpriced_region_gives_the_reason():
    finding = one(context([snapshot(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note

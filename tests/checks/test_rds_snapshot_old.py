from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, eu, make_catalogue, one, run, us
from tests.checks.rds_records import cluster, cluster_snapshot, db, snapshot

CHECK = "rds_snapshot_old"
AURORA_BACKUP = Decimal("0.021")  # test price: the kit's catalogue has no aurora.backup
CATALOGUE = make_catalogue(extra={"aurora.backup": ("GB-Mo", str(AURORA_BACKUP))})


@pytest.mark.parametrize("region, price", [("us-east-1", us("rds.snapshot")), ("eu-west-1", eu("rds.snapshot"))])
def test_old_manual_snapshot_is_priced_at_its_allocated_size_as_an_upper_bound(region, price):
    finding = one(context([db(region=region), snapshot(region=region)], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == 100 * price
    assert finding.confidence == "Low" and finding.action == "Delete"
    assert "delete-db-snapshot --region" in finding.remediation and "snap-1" in finding.remediation
    assert finding.evidence["source_exists"] is True and finding.evidence["age_days"] == 100


def test_cluster_snapshot_is_priced_as_aurora_backup_and_deleted_as_a_cluster_snapshot():
    finding = one(context([cluster(), cluster_snapshot()], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == 50 * AURORA_BACKUP
    assert "delete-db-cluster-snapshot" in finding.remediation and "--db-cluster-snapshot-identifier csnap-1" in \
        finding.remediation


@pytest.mark.parametrize("age, flagged", [(90, False), (90.1, True)])  # boundary: older than 90 days
def test_boundary_at_the_age_threshold(age, flagged):
    assert bool(run(context([db(), snapshot(create_time=ago(age))]), CHECK)) is flagged


@pytest.mark.parametrize("items", [
    [snapshot()],  # source gone: the orphan check's
    [db(), snapshot(snapshot_type="automated")],
    [db(), snapshot(snapshot_type="awsbackup")],
    [db(), snapshot(status="creating")],
    [db(region="eu-west-1"), snapshot()],  # a same-named database in another region is not the source
])
def test_orphans_automated_or_unfinished_snapshots_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_threshold_override():
    items = [db(), snapshot(create_time=ago(40))]
    assert one(context(items, thresholds={"rds_snapshot_old_days": 30}), CHECK)


def test_unknown_size_is_shown_not_estimated():
    finding = one(context([db(), snapshot(allocated_storage_gib=None)]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"


def test_unpriced_region_gives_the_reason():
    finding = one(context([db(region="ap-south-2"), snapshot(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note

import pytest

from finops.checks.merge import merge
from tests.checks.kit import ago, context, eu, metrics, one, run, us
from tests.checks.rds_records import aurora, cluster

CHECK = "rds_aurora_cluster_idle"


def idle_cluster(region="us-east-1", days=30, members=("db-a", "db-b"), series=None, **data):
    items = [cluster(region=region, members=members, **data)]
    for member_id in members:
        member = aurora(member_id, region=region)
        items += [member, metrics(member, days=days, DatabaseConnections__Maximum=(series or {}).get(member_id, 0))]
    return items


@pytest.mark.parametrize("region, price", [
    ("us-east-1", us("rds.instance.aurora-postgresql.single.db.r6g.large")),
    ("eu-west-1", eu("rds.instance.aurora-postgresql.single.db.r6g.large")),
])
def test_idle_cluster_is_priced_at_its_instances_hours(region, price):
    finding = one(context(idle_cluster(region)), CHECK)
    assert finding.monthly_savings == 2 * 730 * price
    assert finding.covers == ("db-a", "db-b") and finding.resource_type == "rds:cluster"
    assert "lower bound" in finding.recommended and finding.confidence == "Medium"
    assert finding.remediation.startswith(f"aws rds delete-db-instance --region {region} --db-instance-identifier db-a")
    assert finding.remediation.endswith("--final-db-snapshot-identifier cl-1-final")
    assert set(finding.evidence["metrics"]) == {"db-a:DatabaseConnections.Maximum", "db-b:DatabaseConnections.Maximum"}


def test_the_cluster_finding_counts_its_instances_once():
    items = idle_cluster()
    result = merge([one(context(items), CHECK)])
    assert [f.resource_id for f in result.findings] == ["cl-1"]


@pytest.mark.parametrize("days, flagged", [(14, True), (13, False)])  # boundary: metrics_min_days of data
def test_boundary_on_days_of_evidence(days, flagged):
    assert bool(run(context(idle_cluster(days=days)), CHECK)) is flagged


@pytest.mark.parametrize("items", [
    idle_cluster(series={"db-b": [0] * 29 + [1]}),  # busy look-alike: one connection on one reader
    idle_cluster(create_time=ago(10)),  # too young
    idle_cluster(status="stopped"),
    idle_cluster(engine="mysql"),  # a Multi-AZ DB cluster, not Aurora
    idle_cluster()[:-1],  # one instance without CloudWatch data
])
def test_busy_young_or_stopped_clusters_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_a_member_missing_from_the_inventory_blocks_the_verdict():
    items = idle_cluster()
    items[0] = cluster(members=("db-a", "db-b", "db-c"))
    assert run(context(items), CHECK) == []


def test_serverless_v2_instances_are_unpriced_with_the_reason():
    items = [cluster(members=("db-a",)), aurora("db-a", instance_class="db.serverless")]
    items.append(metrics(items[1], DatabaseConnections__Maximum=0))
    finding = one(context(items), CHECK)
    assert finding.monthly_savings is None and "ACU-hours" in finding.price_note


def test_unpriced_region_gives_the_reason():
    finding = one(context(idle_cluster("ap-south-2")), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note


def test_an_idle_cluster_in_extended_support_also_saves_the_surcharge():
    items = idle_cluster(engine_version="11.9")
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == 2 * 730 * (us("rds.instance.aurora-postgresql.single.db.r6g.large")
                                                 + 2 * us("rds.extended_support.aurora-postgresql.yr3"))

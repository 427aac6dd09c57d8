import pytest

from tests.checks.kit import ago, context, eu, metrics, one, run, us
from tests.checks.kit_ec2 import HOURS, address, nat

CHECK = "ec2_nat_gateway_idle"
SERIES = ("BytesOutToDestination__Sum", "BytesInFromSource__Sum", "BytesInFromDestination__Sum",
          "BytesOutToSource__Sum")


def gateway(region="us-east-1", traffic=None, lookback=30, addresses=("eipalloc-n",), **data):
    """A NAT gateway, its Elastic IPs and its four byte counters (``traffic``: daily bytes of the first one)."""
    gw = nat("nat-1", region, allocation_ids=list(addresses), **data)
    series = {name: [] for name in SERIES}  # no data points: no traffic
    if traffic is not None:
        series[SERIES[0]] = traffic
    eips = [address(a, region, network_interface_id="eni-1", association_id="eipassoc-1") for a in addresses]
    return [gw, *eips, metrics(gw, lookback=lookback, **series)]


@pytest.mark.parametrize("items, region, expected", [
    (gateway(), "us-east-1", HOURS * (us("nat.hours") + us("vpc.public_ipv4.in_use"))),
    (gateway("eu-west-1"), "eu-west-1", HOURS * (eu("nat.hours") + eu("vpc.public_ipv4.in_use"))),
    # two addresses
    (gateway(addresses=("eipalloc-n", "eipalloc-m")), "us-east-1",
     HOURS * (us("nat.hours") + 2 * us("vpc.public_ipv4.in_use"))),
    # private NAT gateway: no public address
    (gateway(addresses=(), connectivity_type="private"), "us-east-1", HOURS * us("nat.hours")),
    # zero-valued data points are no traffic either
    (gateway(traffic=[0] * 30), "us-east-1", HOURS * (us("nat.hours") + us("vpc.public_ipv4.in_use"))),
    # boundary: created exactly the lookback ago
    (gateway(create_time=ago(30)), "us-east-1", HOURS * (us("nat.hours") + us("vpc.public_ipv4.in_use"))),
])
def test_idle_gateway_is_priced_with_its_addresses(items, region, expected):
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == expected
    assert finding.action == "Delete" and finding.confidence == "High"
    assert set(finding.covers) == {a.resource_id for a in items if a.collector == "ec2.addresses"}
    assert finding.evidence["total_bytes"] == 0 and len(finding.evidence["metrics"]) == 4
    assert {line.region for line in finding.price_lines} == {region}
    assert "delete-nat-gateway" in finding.remediation and "release-address" in finding.remediation


@pytest.mark.parametrize("items", [
    gateway(traffic=[0] * 29 + [1]),  # busy look-alike: one day with traffic (threshold 0 GB)
    gateway(create_time=ago(29.9)),  # younger than the lookback: the window does not cover its life
    gateway(state="pending"),
    gateway(state="deleted"),
])
def test_busy_young_or_gone_gateways_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_no_metrics_no_finding():
    assert run(context([nat()]), CHECK) == []


@pytest.mark.parametrize("total, flagged", [(10**9, True), (10**9 + 1, False)])
def test_some_traffic_under_the_threshold_is_medium_confidence(total, flagged):
    items = gateway(traffic=[0] * 29 + [total])
    found = run(context(items, thresholds={"nat_idle_max_gb": 1}), CHECK)
    assert bool(found) is flagged
    if flagged:
        assert found[0].confidence == "Medium" and found[0].evidence["total_bytes"] == total


def test_byoip_address_is_not_billed():
    items = gateway()
    items[1] = address("eipalloc-n", network_interface_id="eni-1", public_ipv4_pool="ipv4pool-ec2-0123")
    assert one(context(items), CHECK).monthly_savings == HOURS * us("nat.hours")


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(gateway("ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note

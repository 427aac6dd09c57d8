import pytest

from tests.checks.kit import context, eu, item, one, run, us


def address(region="us-east-1", **data):
    fields = {"public_ip": "198.51.100.1", "allocation_id": "eipalloc-1", "association_id": None,
              "instance_id": None, "network_interface_id": None, "domain": "vpc", "public_ipv4_pool": "amazon",
              "tags": {}, **data}
    return item("ec2.addresses", "ec2:elastic-ip", "eipalloc-1", region, **fields)


@pytest.mark.parametrize("region, price", [("us-east-1", us("vpc.public_ipv4.idle")),
                                           ("eu-west-1", eu("vpc.public_ipv4.idle"))])
def test_idle_address_costs_730_hours(region, price):
    finding = one(context([address(region)]), "ec2_eip_unassociated")
    assert finding.monthly_savings == 730 * price
    assert finding.action == "Delete" and "release-address" in finding.remediation


@pytest.mark.parametrize("data", [
    {"association_id": "eipassoc-1", "instance_id": "i-1"},
    {"network_interface_id": "eni-1"},
    {"public_ipv4_pool": "ipv4pool-ec2-0123456789abcdef0"},  # BYOIP: not billed as Amazon public IPv4
])
def test_used_or_byoip_addresses_are_not_flagged(data):
    assert run(context([address(**data)]), "ec2_eip_unassociated") == []


def test_missing_pool_is_amazons():
    assert run(context([address(public_ipv4_pool=None)]), "ec2_eip_unassociated")

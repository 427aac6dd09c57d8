"""A demo customer account in the local AWS: an admin user, the read-only role, seeded waste."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import boto3

from finops import iam_policy

CUSTOMER_ACCOUNT = "222222222222"
ROLE_NAME = iam_policy.ROLE_NAME
DEFAULT_SCANNER_PRINCIPAL = "arn:aws:iam::123456789012:root"


@dataclass(frozen=True)
class CustomerAccount:
    """Credentials of an administrator inside the emulated customer account (never a real key).

    ``session_token`` is set when the administrator is an assumed role (a member account of an
    organization, administered through its OrganizationAccountAccessRole).
    """

    account_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str = field(default="", repr=False)

    def session(self, region: str = "us-east-1") -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token or None,
            region_name=region,
        )

    def env(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def customer_admin(account_id: str = CUSTOMER_ACCOUNT, user_name: str = "customer-admin") -> CustomerAccount:
    """Create (in moto's backend) an IAM user whose key makes every call land in ``account_id``."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    if user_name not in backend.users:
        backend.create_user("us-east-1", user_name)
    keys = backend.list_access_keys(user_name)
    key = keys[0] if keys else backend.create_access_key(user_name)
    return CustomerAccount(account_id, key.access_key_id, key.secret_access_key)


def trust_policy(scanner_principal: str, external_id: str) -> dict:
    """The trust policy a customer saves (iam/trust-policy.json filled in for one review)."""
    return iam_policy.trust_policy(scanner_principal, external_id)


def create_role(account: CustomerAccount, policy: dict, name: str = ROLE_NAME, *,
                permissions: dict | None = None) -> str:
    """(Re)create ``name`` with the trust ``policy``; with ``permissions``, also its inline policy."""
    iam = account.session().client("iam")
    try:
        for existing in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=existing)
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy),
                          MaxSessionDuration=iam_policy.MAX_SESSION_SECONDS)["Role"]["Arn"]
    if permissions is not None:
        iam.put_role_policy(RoleName=name, PolicyName=iam_policy.POLICY_NAME, PolicyDocument=json.dumps(permissions))
    return arn


def create_scanner_role(
    account: CustomerAccount,
    external_id: str,
    scanner_principal: str = DEFAULT_SCANNER_PRINCIPAL,
    name: str = ROLE_NAME,
) -> str:
    """The role as the customer would create it (the manual path): trusting the scanner with the
    External ID, carrying the real read-only policy from iam/."""
    return create_role(
        account, trust_policy(scanner_principal, external_id), name=name, permissions=iam_policy.policy()
    )


def backdate_volume(account: CustomerAccount, region: str, volume_id: str, days: float) -> None:
    """Make a volume look ``days`` old (AWS cannot be asked to do this; the local AWS can)."""
    from datetime import timedelta

    from moto.ec2.models import ec2_backends

    volume = ec2_backends[account.account_id][region].get_volume(volume_id)
    volume.create_time = volume.create_time - timedelta(days=days)


# What seed_demo_waste leaves behind: (check, region) -> the priced quantities of its one finding.
# Tests turn these into dollars with the catalogue's own entries (tests/helpers.py: expected_waste).
DEMO_WASTE = {
    ("ec2_ebs_volume_unattached", "us-east-1"): (("ebs.gp2.storage", 100),),  # 100 GiB gp2
    ("ec2_eip_unassociated", "us-east-1"): (("vpc.public_ipv4.idle", 730),),
    ("ec2_ebs_volume_unattached", "eu-west-1"): (("ebs.gp3.storage", 200),),  # 200 GiB gp3
    ("ec2_ebs_volume_unattached", "us-west-2"): (("ebs.io1.storage", 50), ("ebs.io1.iops", 1000)),
    ("ec2_eip_unassociated", "ap-southeast-2"): (("vpc.public_ipv4.idle", 730),),
}


def seed_demo_waste(account: CustomerAccount) -> dict[str, list[str]]:
    """Seed idle resources (and some in-use ones that must not be flagged); return ids by kind."""
    ids: dict[str, list[str]] = {"waste": [], "in_use": []}

    east = account.session("us-east-1").client("ec2")
    ids["waste"].append(east.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2",
                                           TagSpecifications=[{"ResourceType": "volume", "Tags": [
                                               {"Key": "Name", "Value": "old-build-cache"}]}])["VolumeId"])
    ids["waste"].append(east.allocate_address(Domain="vpc")["AllocationId"])
    # In use, and already as cheap as it gets (Graviton, gp3 root volume): no check flags it.
    instance = east.run_instances(
        ImageId="ami-12345678", InstanceType="t4g.micro", MinCount=1, MaxCount=1,
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "VolumeType": "gp3"}}],
    )
    instance_id = instance["Instances"][0]["InstanceId"]
    used = east.allocate_address(Domain="vpc")["AllocationId"]
    east.associate_address(AllocationId=used, InstanceId=instance_id)
    ids["in_use"] += [instance_id, used]

    west = account.session("eu-west-1").client("ec2")
    ids["waste"].append(west.create_volume(AvailabilityZone="eu-west-1b", Size=200, VolumeType="gp3")["VolumeId"])

    oregon = account.session("us-west-2").client("ec2")
    ids["waste"].append(
        oregon.create_volume(AvailabilityZone="us-west-2a", Size=50, VolumeType="io1", Iops=1000)["VolumeId"]
    )

    sydney = account.session("ap-southeast-2").client("ec2")
    ids["waste"].append(sydney.allocate_address(Domain="vpc")["AllocationId"])
    for region, client in (("us-east-1", east), ("eu-west-1", west), ("us-west-2", oregon)):
        for volume in client.describe_volumes()["Volumes"]:
            if volume["State"] == "available":
                backdate_volume(account, region, volume["VolumeId"], 30)
    return ids

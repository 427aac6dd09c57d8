"""An AWS organization in the local AWS: the customer account as its management account, member
accounts created through AWS Organizations, the read-only role deployed in each member, and
some priced waste in each.

Members are administered as a customer would (and as a self-managed StackSet does): the
management account's administrator assumes ``OrganizationAccountAccessRole``, which
``organizations:CreateAccount`` creates in every new account trusting the management account,
and creates ``finops-pack-readonly`` there with the same trust (scanner principal +
``sts:ExternalId``) and inline read-only policy as ``seed.create_scanner_role``. The front
evaluates that trust policy in the member's own IAM (moto keeps IAM per account), so a member's
role is refused exactly like the management account's.

Some members can be left unreachable on purpose: one whose role trusts another External ID, one
with no role at all, one suspended (closed). AWS answers the first two identically (AccessDenied
on AssumeRole), which the scanner's sentence has to reflect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from finops.sandbox import seed

ACCESS_ROLE = "OrganizationAccountAccessRole"  # what organizations:CreateAccount creates in each member

ROLE_OK = "readonly"  # finops-pack-readonly trusting the scanner with the review's External ID
ROLE_WRONG_EXTERNAL_ID = "wrong-external-id"  # the same role, trusting another External ID
ROLE_NONE = "none"  # the StackSet never reached this account
SUSPENDED = "suspended"  # closed: AWS Organizations lists it SUSPENDED


@dataclass(frozen=True)
class MemberSpec:
    name: str
    role: str = ROLE_OK
    waste_gib: int = 50  # one unattached gp2 volume of this size in us-east-1, 30 days old


@dataclass(frozen=True)
class Member:
    account_id: str
    name: str
    role: str
    admin: seed.CustomerAccount
    waste: tuple[tuple[str, str, tuple[tuple[str, Decimal], ...]], ...] = ()  # (check, region, priced quantities)


@dataclass(frozen=True)
class SandboxOrganization:
    management: seed.CustomerAccount
    organization_id: str
    members: tuple[Member, ...] = field(default_factory=tuple)

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def readable(self) -> list[Member]:
        return [m for m in self.members if m.role == ROLE_OK]


# Three readable members (one with a name full of Markdown and HTML), one refusing the External
# ID, one without the role, one suspended.
DEFAULT_MEMBERS = (
    MemberSpec("Production", waste_gib=120),
    MemberSpec("Staging", waste_gib=60),
    MemberSpec("Data *lake* | <b>team</b>", waste_gib=30),
    MemberSpec("Sandbox", role=ROLE_WRONG_EXTERNAL_ID, waste_gib=20),
    MemberSpec("Legacy", role=ROLE_NONE, waste_gib=10),
    MemberSpec("Closed", role=SUSPENDED, waste_gib=10),
)


def member_admin(management: seed.CustomerAccount, account_id: str) -> seed.CustomerAccount:
    """An administrator session in a member account, through its OrganizationAccountAccessRole."""
    sts = management.session().client("sts")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}", RoleSessionName="finops-sandbox-admin"
    )["Credentials"]
    return seed.CustomerAccount(
        account_id, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


def seed_member_waste(admin: seed.CustomerAccount, size_gib: int) -> tuple[str, str, tuple[tuple[str, Decimal], ...]]:
    """One unattached gp2 volume in us-east-1, 30 days old: one priced ``ec2_ebs_volume_unattached``
    finding (returned as check, region, priced quantities, like ``seed.DEMO_WASTE``)."""
    ec2 = admin.session("us-east-1").client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=size_gib, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(admin, "us-east-1", volume, 30)
    return ("ec2_ebs_volume_unattached", "us-east-1", (("ebs.gp2.storage", Decimal(size_gib)),))


def seed_organization(
    management: seed.CustomerAccount,
    external_id: str,
    scanner_principal: str = seed.DEFAULT_SCANNER_PRINCIPAL,
    members: tuple[MemberSpec, ...] = DEFAULT_MEMBERS,
) -> SandboxOrganization:
    """Create the organization (``management`` becomes its management account) and its members.

    The management account's own role is not created here (``seed.create_scanner_role`` does it,
    as for a single-account review).
    """
    orgs = management.session().client("organizations")
    organization_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    created = []
    for number, spec in enumerate(members):
        status = orgs.create_account(
            Email=f"aws+member{number}@example.com", AccountName=spec.name
        )["CreateAccountStatus"]
        # moto creates the account at once; AWS would need describe_create_account_status polling.
        account_id = status.get("AccountId") or orgs.describe_create_account_status(
            CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        admin = member_admin(management, account_id)
        waste = (seed_member_waste(admin, spec.waste_gib),)
        if spec.role == ROLE_OK or spec.role == SUSPENDED:
            seed.create_scanner_role(admin, external_id, scanner_principal)
        elif spec.role == ROLE_WRONG_EXTERNAL_ID:
            seed.create_scanner_role(admin, f"{external_id}-another-review", scanner_principal)
        if spec.role == SUSPENDED:
            orgs.close_account(AccountId=account_id)
        created.append(Member(account_id, spec.name, spec.role, admin, waste))
    return SandboxOrganization(management, organization_id, tuple(created))

"""The demo's organization review: the demo account as an AWS organization's management account,
with a few member accounts, and an invitation to review the whole organization.

    offer = offer_organization_review(db, settings, demo_account, operator_id=operator.id)
    print(offer.announcement())

Beside the single-account demo review (unchanged: it reviews the demo account alone), the demo
operator gets a second invitation whose wizard is already on "My whole organization". The local
AWS then holds, for that review's External ID:

- in the demo (management) account, the role ``finops-pack-demo-org-readonly`` (another name, so
  the single-account review's role and a person's own ``finops-pack-readonly`` stack stay apart);
- member accounts created through AWS Organizations (``finops.sandbox.organization``): two with
  ``finops-pack-readonly`` as the StackSet would create it, one of them with a name full of
  Markdown and HTML; one without the role, so Test connection and the report name a missing
  account; one suspended, listed and not scanned. Each has one priced unattached volume.

The customer opens the invitation, connects the management role's ARN (the announcement prints
it), tests the connection (2 of 3 member accounts reachable, the third named with the reason) and
starts the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from finops import review_scope, reviews
from finops.config import Settings
from finops.sandbox import seed
from finops.sandbox.organization import ROLE_NONE, SUSPENDED, MemberSpec, SandboxOrganization, seed_organization

MANAGEMENT_ROLE = "finops-pack-demo-org-readonly"
DEMO_MEMBERS = (
    MemberSpec("Production", waste_gib=120),
    MemberSpec("Data *lake* | <b>team</b>", waste_gib=30),  # customer text: escaped wherever it is shown
    MemberSpec("Legacy", role=ROLE_NONE, waste_gib=10),  # the StackSet never reached it: named as missing
    MemberSpec("Closed", role=SUSPENDED, waste_gib=10),  # listed, not scanned
)
COMPANY, CONTACT, EMAIL = "Example Group", "Demo Group Admin", "group@example.com"


@dataclass(frozen=True)
class DemoOrganizationReview:
    review: dict
    invitation: str
    role_arn: str  # the management account's role: what the customer connects
    organization: SandboxOrganization

    def announcement(self) -> str:
        """What the demo prints about it."""
        members = self.organization.members
        reachable = len(self.organization.readable())
        active = sum(1 for m in members if m.role != SUSPENDED)
        return (
            f"Demo organization review (ready to start): {self.invitation}\n"
            f"  The demo account is the management account of organization {self.organization.organization_id} "
            f"with {len(members)} member accounts ({reachable} of {active} active ones reachable, one suspended).\n"
            f"  In its wizard (\"My whole organization\" is chosen) connect the management role {self.role_arn},\n"
            "  press Test connection, then Start the scan."
        )


def offer_organization_review(
    db: sqlite_utils.Database,
    settings: Settings,
    management: seed.CustomerAccount,
    *,
    operator_id: int | None = None,
    members: tuple[MemberSpec, ...] = DEMO_MEMBERS,
) -> DemoOrganizationReview:
    """Invite the demo customer to review their whole organization, and create that organization
    (``management`` becomes its management account) with the roles trusting this review's External ID."""
    review, invitation = reviews.create_invitation(
        db, settings, company=COMPANY, email=EMAIL, name=CONTACT, operator_id=operator_id,
        note="The demo organization: the demo account as management account, with member accounts (one without "
             "the role, one suspended).",
    )
    review_scope.set_scope(db, review["id"], review_scope.ORGANIZATION)
    principal = settings.scanner_principal_arn or seed.DEFAULT_SCANNER_PRINCIPAL
    role_arn = seed.create_scanner_role(management, review["external_id"], principal, name=MANAGEMENT_ROLE)
    organization = seed_organization(management, review["external_id"], principal, members=members)
    return DemoOrganizationReview(reviews.get_review(db, review["id"]), invitation, role_arn, organization)

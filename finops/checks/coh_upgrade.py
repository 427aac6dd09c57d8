"""Cost Optimization Hub Upgrade recommendations, as findings with COH's own figures.

Merged with a native finding on the same resource (COH's figure shown beside ours); counted on its
own when no native check flags the resource. See finops/checks/_coh.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._coh import coh_findings
from finops.checks.context import CheckContext
from finops.models import COH, Finding


@check(
    title="Upgrade resources Cost Optimization Hub finds on an older generation",
    category="Cost Optimization Hub",
    service="cost-optimization-hub",
    resource_type="any",
    action="Upgrade",
    needs=("coh.recommendations",),
    effort="Low",
    confidence="Medium",
    sources=(COH,),
    rule="A Cost Optimization Hub recommendation of action `Upgrade` for this account in a scanned region.",
    formula="Cost Optimization Hub's estimatedMonthlySavings, as AWS computed it",
    console="https://console.aws.amazon.com/costmanagement/home#/cost-optimization-hub/recommendations",
)
def coh_upgrade(ctx: CheckContext) -> Iterator[Finding]:
    yield from coh_findings(ctx, "Upgrade")

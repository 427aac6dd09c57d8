"""Unattached EBS volume: billed every month for storage (and provisioned IOPS) nobody uses."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import Inventory, check
from finops.models import Finding
from finops.pricing import PriceBook

GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT = 125  # MB/s


@check(
    title="Unattached EBS volume",
    service="ec2",
    resource_type="ec2:volume",
    needs=("ec2.volumes",),
    severity="high",
    effort="low",
    rollback_possible=False,
    remediation=(
        "aws ec2 create-snapshot --region {region} --volume-id {resource_id} "
        "--description 'before delete' && aws ec2 delete-volume --region {region} "
        "--volume-id {resource_id}"
    ),
)
def ec2_ebs_volume_unattached(inventory: Inventory, prices: PriceBook) -> Iterator[Finding]:
    for vol in inventory.of("ec2.volumes"):
        data = vol.data
        if data.get("state") != "available" or data.get("attachments"):
            continue
        volume_type = data.get("volume_type") or "standard"
        size = Decimal(data.get("size_gib") or 0)
        storage = prices.quote(vol.region, f"ebs.{volume_type}.gb_month")
        monthly = size * storage.amount
        lines = [{"item": "storage", "quantity": str(size), "unit": "GiB-month", **storage.evidence()}]
        extra_iops = _billable_iops(volume_type, data.get("iops"))
        if extra_iops:
            iops = prices.quote(vol.region, f"ebs.{volume_type}.iops_month")
            monthly += extra_iops * iops.amount
            lines.append(
                {"item": "provisioned IOPS", "quantity": str(extra_iops), "unit": "IOPS-month", **iops.evidence()}
            )
        extra_throughput = max(Decimal(data.get("throughput") or 0) - GP3_FREE_THROUGHPUT, 0)
        if volume_type == "gp3" and extra_throughput:
            tput = prices.quote(vol.region, "ebs.gp3.throughput_month")
            monthly += extra_throughput * tput.amount
            lines.append({
                "item": "provisioned throughput", "quantity": str(extra_throughput), "unit": "MBps-month",
                **tput.evidence(),
            })
        estimated = any(line.get("estimated_price") for line in lines)
        yield Finding(
            check_id="ec2_ebs_volume_unattached",
            title=f"Unattached {volume_type} volume, {size} GiB",
            resource_type=vol.resource_type,
            resource_id=vol.resource_id,
            region=vol.region,
            account_id=vol.account_id,
            monthly_savings=monthly,
            confidence="medium" if estimated else "high",
            evidence={
                "formula": "size x storage price (+ provisioned IOPS/throughput above the free baseline)",
                "resource_name": (data.get("tags") or {}).get("Name"),
                "volume_type": volume_type,
                "state": data.get("state"),
                "created": data.get("create_time"),
                "lines": lines,
            },
        )


def _billable_iops(volume_type: str, iops: int | None) -> Decimal:
    if not iops:
        return Decimal(0)
    if volume_type in ("io1", "io2"):
        return Decimal(iops)
    if volume_type == "gp3":
        return Decimal(max(iops - GP3_FREE_IOPS, 0))
    return Decimal(0)

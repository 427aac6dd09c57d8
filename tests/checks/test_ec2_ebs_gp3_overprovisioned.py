import pytest

from tests.checks.kit import context, eu, metrics, one, run, us, volume

CHECK = "ec2_ebs_gp3_overprovisioned"
MIB = 2**20


def busy(iops, mibps, days=30, region="us-east-1", provisioned=(10000, 500), **series):
    """A gp3 volume and its daily peaks: ``iops`` and ``mibps`` per second (a number, or a list per day)."""
    vol = volume("vol-1", region, volume_type="gp3", size_gib=100, iops=provisioned[0], throughput=provisioned[1])

    def per_minute(value, factor):  # the daily Maximum of a one-minute data point
        return [v * factor for v in value] if isinstance(value, list) else value * factor

    fields = {"VolumeReadOps__Maximum": per_minute(iops, 60), "VolumeWriteOps__Maximum": 0,
              "VolumeReadBytes__Maximum": per_minute(mibps, 60 * MIB), "VolumeWriteBytes__Maximum": 0, **series}
    return [vol, metrics(vol, days=days, **fields)]


def saving(price, iops_lowered, mibps_lowered):
    return iops_lowered * price("ebs.gp3.iops") + mibps_lowered * price("ebs.gp3.throughput")


@pytest.mark.parametrize("iops, mibps, provisioned, region, new_iops, new_mibps", [
    # 1,000 IOPS x 1.5 -> the 3,000 floor; 50 MiB/s x 1.5 -> the 125 floor
    (1000, 50, (10000, 500), "us-east-1", 3000, 125),
    (1000, 50, (10000, 500), "eu-west-1", 3000, 125),
    # only IOPS can go: 3,960 x 1.5 = 5,940 -> 6,000; 400 MiB/s x 1.5 above what is provisioned
    (3960, 400, (10000, 500), "us-east-1", 6000, 500),
    # only throughput can go: 101 MiB/s x 1.5 = 151.5 -> 155
    (9000, 101, (10000, 500), "us-east-1", 10000, 155),
    # gp3 needs 4 IOPS per MiB/s: 520 x 1.5 = 780 MiB/s keeps 3,120 -> 3,200 IOPS
    (100, 520, (10000, 1000), "us-east-1", 3200, 780),
    # boundary: 3,933.33 x 1.5 = 5,900 is just below the 6,000 provisioned
    ([3933.33] * 30, 10, (6000, 125), "us-east-1", 5900, 125),
])
def test_lowered_iops_and_throughput_are_priced(iops, mibps, provisioned, region, new_iops, new_mibps):
    price = us if region == "us-east-1" else eu
    finding = one(context(busy(iops, mibps, region=region, provisioned=provisioned)), CHECK)
    assert finding.monthly_savings == saving(price, provisioned[0] - new_iops, provisioned[1] - new_mibps)
    assert finding.recommended == f"gp3, {new_iops} IOPS, {new_mibps} MiB/s"
    assert finding.remediation.endswith(f"--iops {new_iops} --throughput {new_mibps}")
    assert finding.action == "Rightsize" and finding.confidence == "Medium"
    assert set(finding.evidence["metrics"]) == {"VolumeReadOps.Maximum", "VolumeWriteOps.Maximum",
                                                "VolumeReadBytes.Maximum", "VolumeWriteBytes.Maximum"}
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("iops, mibps, provisioned", [
    (8000, 400, (10000, 500)),  # busy look-alike: the peaks plus headroom need all of it
    (4000, 10, (6000, 125)),  # boundary: 4,000 x 1.5 = 6,000, exactly what is provisioned
    (100, 10, (3000, 125)),  # nothing above the included baseline
])
def test_volumes_that_use_what_they_pay_for_are_not_flagged(iops, mibps, provisioned):
    assert run(context(busy(iops, mibps, provisioned=provisioned)), CHECK) == []


def test_the_95th_percentile_ignores_one_busy_day_but_not_two():
    one_spike = busy([1000] * 29 + [9000], 50)
    assert one(context(one_spike), CHECK).recommended == "gp3, 3000 IOPS, 125 MiB/s"
    two_spikes = busy([1000] * 28 + [9000, 9000], 50)
    assert one(context(two_spikes), CHECK).recommended == "gp3, 10000 IOPS, 125 MiB/s"


def test_reads_and_writes_add_up():
    items = busy(1500, 50, VolumeWriteOps__Maximum=1500 * 60)  # 3,000 IOPS x 1.5 = 4,500
    assert one(context(items), CHECK).recommended == "gp3, 4500 IOPS, 125 MiB/s"


@pytest.mark.parametrize("days, flagged", [(14, True), (13, False)])
def test_enough_days_of_evidence(days, flagged):
    assert bool(run(context(busy(1000, 50, days=days)), CHECK)) is flagged


def test_no_metrics_no_finding():
    vol = volume(volume_type="gp3", iops=10000, throughput=500)
    assert run(context([vol]), CHECK) == []
    partial = metrics(vol, VolumeReadOps__Maximum=60, VolumeWriteOps__Maximum=60)  # bytes not collected
    assert run(context([vol, partial]), CHECK) == []


def test_headroom_override():
    # 2,500 x 2 = 5,000 with 100% headroom (6,000 provisioned); 3,750 -> 3,800 with the default 50%
    items = busy(2500, 50, provisioned=(6000, 125))
    assert one(context(items, thresholds={"ebs_iops_headroom_percent": 100}), CHECK).recommended == (
        "gp3, 5000 IOPS, 125 MiB/s")
    assert one(context(items), CHECK).recommended == "gp3, 3800 IOPS, 125 MiB/s"


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(busy(1000, 50, region="ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note

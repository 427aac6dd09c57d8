"""Coverage as a first-class result: a denied service makes a partial review that names exactly
that gap; throttling is retried (and counted) without losing anything.

Faults come from the local AWS front (``local_aws.set_faults``), which answers with AWS's real
error shape for each protocol (ec2 UnauthorizedOperation, rest-json AccessDeniedException,
query Throttling, rest-xml SlowDown ...), so botocore parses and retries them as it would AWS's.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

from finops import reviews
from finops.aws.session import client_config, count_calls
from finops.collect import CollectContext, discover
from finops.collect.runner import CollectorProgress, run_collectors
from finops.db import connect
from finops.sandbox import seed
from tests import inventory_seed
from tests.helpers import report_token_of
from tests.test_collectors import REGIONS, inventory_rows, run_review

COLLECTOR_SERVICES = sorted({spec.service for spec in discover().values()})


def report_json(client, settings, review_id: str) -> dict:  # type: ignore[no-untyped-def]
    token = report_token_of(settings, review_id)
    return json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))


def test_a_denied_service_gives_a_partial_review_naming_exactly_that_gap(
    client, settings, local_aws, customer, monkeypatch
):
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    for region in REGIONS:
        inventory_seed.seed_region(customer, region)
    # Waste the checks must still find: an unattached 100 GiB gp2 volume, an idle Elastic IP.
    volume = customer.session("us-east-1").client("ec2").create_volume(
        AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", volume, 30)
    customer.session("eu-west-1").client("ec2").allocate_address(Domain="vpc")
    # The role lacks every Lambda action: each Lambda call is answered 403 AccessDeniedException.
    local_aws.set_faults(rules=[{"service": "lambda", "error": "AccessDenied"}])

    review_id = run_review(client, settings, customer)

    db = connect(settings.db_path)
    assert reviews.get_review(db, review_id)["status"] == "partial"
    data = report_json(client, settings, review_id)
    assert data["status"] == "partial"
    # Provisioned concurrency is read per function: without the functions it is a gap of its own,
    # named after the read it depends on (not an empty "ok" read).
    assert data["gaps"] == [
        f"Lambda functions in {region} could not be read: the role lacks lambda:ListFunctions (the strict policy "
        "leaves it out, because its answer includes environment variables); Lambda functions come from Cost "
        "Optimization Hub and Cost Explorer only."
        for region in sorted(REGIONS)
    ] + [
        f"Lambda provisioned concurrency in {region} could not be read: it needs Lambda functions, "
        "which could not be read."
        for region in sorted(REGIONS)
    ]
    not_ok = {(c["source"], c["region"], c["status"]) for c in data["coverage"]
              if c["status"] != "ok" and not c["source"].startswith("check:")}
    assert not_ok == {("lambda.functions", region, "access_denied") for region in REGIONS} | {
        ("lambda.provisioned_concurrency", region, "error") for region in REGIONS}
    denied_calls = [r for r in local_aws.requests() if r["service"] == "lambda" and r.get("fault")]
    assert denied_calls and all(r["status"] == 403 for r in denied_calls)

    # The rest is complete: every other collector read both regions, findings are all there.
    inv = inventory_rows(settings, review_id)
    assert "lambda.functions" not in inv
    for collector_id in ("ec2.instances", "ec2.volumes", "ec2.snapshots", "ec2.nat_gateways", "rds.instances",
                         "rds.clusters", "ecs.services", "s3.buckets", "cloudwatch.metrics"):
        assert set(inv[collector_id]) == set(REGIONS), collector_id
    waste = ("ec2_ebs_volume_unattached", "ec2_eip_unassociated")  # the seeded waste (other checks fire too)
    got = {(f["check_id"], f["region"]): Decimal(f["monthly_savings"]) for f in data["findings"]
           if f["check_id"] in waste}
    assert got == {
        ("ec2_ebs_volume_unattached", "us-east-1"): Decimal("10.00"),  # 100 GiB x $0.10
        ("ec2_eip_unassociated", "eu-west-1"): Decimal("3.65"),  # $0.005/h x 730 h
    }

    # The customer sees it: in the hosted report, and in the live progress steps.
    html = client.get(f"/r/{report_token_of(settings, review_id)}").get_data(as_text=True)
    assert "Lambda functions in eu-west-1 could not be read: the role lacks lambda:ListFunctions (" in html
    steps = " ".join(s["message"] for s in reviews.steps(db, review_id))
    assert "lambda.functions in eu-west-1" in steps and "lambda.functions in us-east-1" in steps


def test_a_denied_commitment_read_names_exactly_that_gap_and_nothing_else(
    client, settings, local_aws, customer, monkeypatch
):
    """EC2 DescribeReservedInstances (served by the front: moto lacks it) is denied in every region;
    the review names that one read per region and everything else, RIs of RDS included, is read."""
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    for region in REGIONS:
        inventory_seed.seed_region(customer, region, local_aws=local_aws)
    inventory_seed.seed_savings_plans(local_aws, customer, REGIONS)
    volume = customer.session("us-east-1").client("ec2").create_volume(
        AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", volume, 30)
    local_aws.set_faults(rules=[{"service": "ec2", "action": "DescribeReservedInstances", "error": "AccessDenied"}])

    review_id = run_review(client, settings, customer)

    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "partial"
    data = report_json(client, settings, review_id)
    assert data["gaps"] == [
        f"EC2 Reserved Instances in {region} could not be read: the role lacks ec2:DescribeReservedInstances."
        for region in sorted(REGIONS)
    ]
    denied = [r for r in local_aws.requests() if r.get("fault")]
    assert {(r["action"], r["status"]) for r in denied} == {("DescribeReservedInstances", 403)}
    assert {r["region"] for r in denied} == set(REGIONS)
    inv = inventory_rows(settings, review_id)
    assert "ec2.reserved_instances" not in inv
    for collector_id in ("ec2.instances", "ec2.images", "ec2.snapshots", "rds.reserved_instances",
                         "ecs.container_instances", "lambda.provisioned_concurrency", "cloudwatch.metrics"):
        assert set(inv[collector_id]) == set(REGIONS), collector_id
    assert sum(len(rows) for rows in inv["savingsplans.plans"].values()) == 1 + len(REGIONS)
    got = {(f["check_id"], f["region"]) for f in data["findings"] if f["check_id"] == "ec2_ebs_volume_unattached"}
    assert got == {("ec2_ebs_volume_unattached", "us-east-1")}  # the checks are unaffected


def test_throttling_is_retried_and_counted_and_the_review_completes(
    client, settings, local_aws, customer, monkeypatch
):
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    # 12 attempts: the chance that one call is throttled 12 times in a row at 30% is 5e-7.
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "12")
    monkeypatch.setenv("FINOPS_SCAN_CONCURRENCY", "32")  # reads wait out their backoff side by side
    for region in REGIONS:
        inventory_seed.seed_region(customer, region)
    local_aws.clear_requests()
    local_aws.set_faults(rules=[{"service": s, "error": "Throttling", "rate": 0.3} for s in COLLECTOR_SERVICES])

    review_id = run_review(client, settings, customer)

    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "complete"
    data = report_json(client, settings, review_id)
    reads = [c for c in data["coverage"] if not c["source"].startswith("check:")]
    assert data["gaps"] == [] and {c["status"] for c in reads} == {"ok"}
    throttled = [r for r in local_aws.requests() if r.get("fault")]
    assert len(throttled) >= 10  # the faults really happened
    assert {r["status"] for r in throttled} <= {400, 429, 503}
    # Every throttled answer was retried and attributed to the read that got it.
    ours = [c for c in data["coverage"] if c["source"] in discover() or c["source"] == "account.regions"]
    assert sum(c["retries"] for c in ours) == len(throttled)
    retried = [c for c in ours if c["retries"] and c["source"] in discover()]
    assert retried and all(f"retried {c['retries']} time" in c["detail"] for c in retried)
    # Nothing was lost to throttling: the same inventory as an undisturbed read.
    inv = inventory_rows(settings, review_id)
    for collector_id in ("ec2.instances", "ec2.snapshots", "rds.instances", "ecs.services", "lambda.functions",
                         "s3.buckets", "cloudwatch.metrics"):
        assert set(inv[collector_id]) == set(REGIONS), collector_id
    assert sum(len(rows) for rows in inv["ec2.instances"].values()) == 6


def test_progress_reaches_every_collector_and_region_each_after_its_dependencies(local_aws, customer):
    """The runner reports each (collector, region) read as it finishes, each after what it depends
    on, and the per-collector progress line (what the progress fragment shows) names calls and gaps."""
    inventory_seed.seed_region(customer, "eu-west-1")
    local_aws.set_faults(rules=[{"service": "ecs", "error": "AccessDenied", "region": "eu-west-1"}])
    session = customer.session()
    calls = threading.local()
    count_calls(session, calls)
    specs = list(discover().values())
    regions = ["eu-west-1", "us-west-2"]
    tally = CollectorProgress(specs, regions)
    seen: list[tuple[str, str, int, int]] = []
    lines: list[str] = []

    def progress(record, done, total):  # type: ignore[no-untyped-def]
        seen.append((record.source, record.region, done, total))
        line = tally.update(record)
        if line:
            lines.append(line)

    inventory, coverage = run_collectors(session, customer.account_id, regions, specs, config=client_config(),
                                         concurrency=4, calls=calls, progress=progress, lookback_days=7)

    total = sum(1 if s.scope == "global" else len(regions) for s in specs)
    assert [d for *_, d, _ in seen] == list(range(1, total + 1)) and {t for *_, t in seen} == {total}
    assert {(s, r) for s, r, *_ in seen} == {(c.source, c.region) for c in coverage}
    # Each read after the reads it depends on (in its region, or global), and only those.
    order = {(s, r): i for i, (s, r, *_) in enumerate(seen)}
    by_id = {spec.id: spec for spec in specs}
    for (source, region), position in order.items():
        for dep in by_id[source].after:
            dep_region = "global" if by_id[dep].scope == "global" else region
            targets = [p for (s, r), p in order.items() if s == dep and (r == dep_region or region == "global")]
            assert targets and max(targets) < position, (source, region, dep)
    assert len(lines) == len(specs)
    assert "EC2 instances: read in 2 of 2 regions (2 API calls)" in lines
    assert any(line.startswith("ECS services: read in 1 of 2 regions") for line in lines)
    assert "S3 buckets: read (" in " ".join(lines)
    metrics = [i for i in inventory if i.collector == "cloudwatch.metrics"]
    assert metrics and {i.data["window"]["lookback_days"] for i in metrics} == {7}
    assert {i.region for i in metrics} == {"eu-west-1"}


def test_organization_management_account_lists_its_accounts(local_aws, customer):
    orgs = customer.session().client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    orgs.create_account(Email="dev@example.com", AccountName="dev")
    (item,) = discover()["account.organization"].fn(
        CollectContext(customer.account_id, "us-east-1", {"organizations": orgs})
    )
    assert item.data["in_organization"] and item.data["is_management_account"]
    assert item.data["management_account_id"] == customer.account_id
    assert {a["name"] for a in item.data["accounts"]} >= {"dev"}
    assert "dev@example.com" not in repr(item)  # account e-mail addresses are not kept


def test_the_standard_policy_is_enough_for_every_read_the_scan_makes(client, settings, local_aws, customer,
                                                                    monkeypatch):
    """The local AWS enforces the role's inline policy (finops.sandbox.front): with the standard
    policy from iam/ nothing the scan sends is refused, so every action the code calls is granted."""
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    for region in REGIONS:
        inventory_seed.seed_region(customer, region, local_aws=local_aws)
    review_id = run_review(client, settings, customer)
    data = report_json(client, settings, review_id)
    assert [r for r in local_aws.requests() if r.get("denied")] == []
    assert data["gaps"] == [] and reviews.get_review(connect(settings.db_path), review_id)["status"] == "complete"


def test_the_strict_policy_leaves_lambda_and_ecs_to_cost_sources_and_the_coverage_says_so(
    client, settings, local_aws, customer, monkeypatch
):
    from finops import iam_policy
    from tests.helpers import connect_form, review_id_of, start_review
    from tests.test_collectors import run_worker_burst

    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    for region in REGIONS:
        inventory_seed.seed_region(customer, region, local_aws=local_aws)
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    trust = seed.trust_policy(seed.DEFAULT_SCANNER_PRINCIPAL, form["external_id"])
    form["role_arn"] = seed.create_role(customer, trust, permissions=iam_policy.policy("strict"))
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    run_worker_burst(settings)

    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "partial"
    data = report_json(client, settings, review_id)
    denied = {(r["service"], r["action"]) for r in local_aws.requests() if r.get("denied")}
    assert denied == {("lambda", "ListFunctions"), ("ecs", "DescribeTaskDefinition")}  # refused by the role itself
    strict = "(the strict policy leaves it out, because its answer includes environment variables)"
    assert data["gaps"] == [
        f"ECS services in {region} could not be read: the role lacks ecs:DescribeTaskDefinition {strict}; "
        "ECS services come from Cost Optimization Hub and Cost Explorer only."
        for region in sorted(REGIONS)
    ] + [
        f"Lambda functions in {region} could not be read: the role lacks lambda:ListFunctions {strict}; "
        "Lambda functions come from Cost Optimization Hub and Cost Explorer only."
        for region in sorted(REGIONS)
    ] + [
        f"Lambda provisioned concurrency in {region} could not be read: it needs Lambda functions, "
        "which could not be read."
        for region in sorted(REGIONS)
    ]
    # Nothing else is lost: every other read is complete, the cost sources included.
    not_ok = {c["source"] for c in data["coverage"] if c["status"] != "ok" and not c["source"].startswith("check:")}
    assert not_ok == {"ecs.services", "lambda.functions", "lambda.provisioned_concurrency"}
    inv = inventory_rows(settings, review_id)
    for collector_id in ("ec2.instances", "ec2.volumes", "rds.instances", "ecs.clusters", "s3.buckets",
                         "cloudwatch.metrics"):
        assert set(inv[collector_id]) == set(REGIONS), collector_id
    assert {c["source"]: c["status"] for c in data["coverage"] if c["source"].startswith(("ce.", "coh."))} == {
        "ce.spend": "ok", "ce.resources": "ok", "coh.recommendations": "ok"}

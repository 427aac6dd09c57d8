"""The read-only guard beyond ``before-call``: presigning, clients the factory did not create, raw
credentials, and a lint that keeps product code from needing any of them.

Every refusal must happen in this process: the local AWS's request log stays empty.
"""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest

from finops.aws.arn import parse_role_arn
from finops.aws.session import assume_customer_role
from finops.errors import ReadOnlyViolation
from finops.sandbox import seed

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_ID = "fp-test-guard-external-id-01"


@pytest.fixture
def customer_session(local_aws, customer):  # type: ignore[no-untyped-def]
    """The scanner's session in the customer's role, exactly as a scan gets it."""
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    session = assume_customer_role(parse_role_arn(role_arn), EXTERNAL_ID)
    local_aws.clear_requests()
    return session


def test_presigned_urls_are_refused_whatever_the_operation(local_aws, customer_session):
    s3 = customer_session.client("s3", region_name="us-east-1")
    for operation, params in (("delete_bucket", {"Bucket": "customer-data"}),
                              ("get_object", {"Bucket": "customer-data", "Key": "payroll.csv"}),
                              ("list_buckets", {})):  # even one the scanner may call: no URL leaves
        with pytest.raises(ReadOnlyViolation, match="presign|allow-list"):
            s3.generate_presigned_url(operation, Params=params, ExpiresIn=60)
    ec2 = customer_session.client("ec2", region_name="eu-west-1")
    with pytest.raises(ReadOnlyViolation):
        ec2.generate_presigned_url("terminate_instances", Params={"InstanceIds": ["i-0123456789abcdef0"]})
    assert local_aws.requests() == []


def test_presigned_post_is_refused(local_aws, customer_session):
    s3 = customer_session.client("s3", region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation):
        s3.generate_presigned_post("customer-data", "uploads/${filename}", ExpiresIn=60)
    assert local_aws.requests() == []


def test_rds_auth_token_is_refused(local_aws, customer_session):
    rds = customer_session.client("rds", region_name="eu-west-1")
    with pytest.raises(ReadOnlyViolation):
        rds.generate_db_auth_token("db.example.eu-west-1.rds.amazonaws.com", 5432, "admin")


def test_the_sessions_credentials_cannot_be_taken_out(customer_session):
    with pytest.raises(ReadOnlyViolation):
        customer_session.get_credentials()
    with pytest.raises(ReadOnlyViolation):
        customer_session._session.get_credentials()  # the botocore session under it too
    with pytest.raises(ReadOnlyViolation):
        customer_session.resource("s3")


def test_a_client_the_factory_did_not_create_is_refused(local_aws, customer_session):
    """Built from the guarded session's botocore session directly, it carries the guard's hooks,
    and they refuse it because the factory never blessed it."""
    with customer_session._session.creating_client():  # what create_client needs to reach the keys
        stray = customer_session._session.create_client("ec2", region_name="eu-west-1")
    with pytest.raises(ReadOnlyViolation, match="not created through the guarded session factory"):
        stray.describe_volumes()  # even a read
    assert local_aws.requests() == []


def test_a_client_built_from_raw_credentials_is_refused(local_aws, customer_session):
    """Keys dug out of a guarded client (through botocore's private attributes: nothing public
    hands them out) and given to a plain boto3 client: its signature is refused in-process."""
    blessed = customer_session.client("ec2", region_name="eu-west-1")
    frozen = blessed._request_signer._credentials.get_frozen_credentials()
    raw = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id=frozen.access_key,
                       aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token)
    for call in (lambda: raw.delete_volume(VolumeId="vol-0123456789abcdef0"), raw.describe_volumes):
        with pytest.raises(ReadOnlyViolation, match="customer's credentials outside the guarded session"):
            call()
    with pytest.raises(ReadOnlyViolation):
        raw.generate_presigned_url("delete_volume", Params={"VolumeId": "vol-0123456789abcdef0"})
    assert local_aws.requests() == []
    # The guarded client itself still reads, and other identities in the process are untouched.
    blessed.describe_volumes()
    boto3.client("ec2", region_name="eu-west-1").describe_volumes()
    assert [r["action"] for r in local_aws.requests()] == ["DescribeVolumes", "DescribeVolumes"]


def test_the_scanners_own_session_is_guarded_the_same_way(local_aws):
    from finops.aws.session import scanner_session

    session = scanner_session()
    with pytest.raises(ReadOnlyViolation):
        session.get_credentials()
    sts = session.client("sts", region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation):
        sts.generate_presigned_url("assume_role", Params={"RoleArn": "arn:aws:iam::222222222222:role/x",
                                                          "RoleSessionName": "probe"})
    with pytest.raises(ReadOnlyViolation):
        session.client("iam", region_name="us-east-1").create_access_key()
    assert local_aws.requests() == []


def test_guarded_sessions_share_what_botocore_rebuilds_but_every_client_stays_guarded(local_aws, customer_session):
    """Client classes, service models, botocore's built-in handlers and its event-name aliases are built once per
    process for guarded sessions (finops.aws.guard); the checks stay per session and per client."""
    second = assume_customer_role(parse_role_arn(customer_session_role(customer_session)), EXTERNAL_ID, probe=False)
    local_aws.clear_requests()
    first_ec2 = customer_session.client("ec2", region_name="eu-west-1")
    second_ec2 = second.client("ec2", region_name="eu-west-1")
    plain_ec2 = boto3.client("ec2", region_name="eu-west-1")
    assert type(first_ec2) is type(second_ec2)  # one class for every guarded session...
    assert first_ec2.meta.service_model is second_ec2.meta.service_model
    assert type(plain_ec2) is not type(first_ec2)  # ...and other sessions of the process build their own
    assert plain_ec2.meta.service_model is not first_ec2.meta.service_model
    assert first_ec2._request_signer is not second_ec2._request_signer
    # Every client's copy of its session's event emitter keeps one cache of aliased event names
    # (botocore's copies start empty); a plain session's clients keep theirs.
    assert first_ec2.meta.events._alias_name_cache is second_ec2.meta.events._alias_name_cache
    assert first_ec2.meta.events is not second_ec2.meta.events
    assert plain_ec2.meta.events._alias_name_cache is not first_ec2.meta.events._alias_name_cache

    plain = boto3.session.Session()._session._events._emitter._handlers  # botocore's and boto3's own
    guarded = second._session._events._emitter._handlers
    def names(handlers) -> list[str]:  # type: ignore[no-untyped-def]  boto3's lazy handlers are made per session
        return [f"{getattr(h, '__module__', '')}.{getattr(h, '__qualname__', type(h).__name__)}" for h in handlers]

    from botocore.handlers import BUILTIN_HANDLERS

    found = 0
    for event in sorted({spec[0] for spec in BUILTIN_HANDLERS if "*" not in spec[0]}):
        ours = [n for n in names(guarded.prefix_search(event)) if not n.startswith("finops")]
        assert ours == names(plain.prefix_search(event)), event  # the same built-in handlers, in order
        found += len(ours)
    assert found > 100

    for client in (first_ec2, second_ec2):
        with pytest.raises(ReadOnlyViolation, match="allow-list"):
            client.delete_volume(VolumeId="vol-0123456789abcdef0")
        with pytest.raises(ReadOnlyViolation):
            client.generate_presigned_url("describe_volumes")
    assert local_aws.requests() == []
    second_ec2.describe_volumes()
    assert [r["action"] for r in local_aws.requests()] == ["DescribeVolumes"]
    assert "before-call.ec2.DescribeVolumes" in first_ec2.meta.events._alias_name_cache  # the other client's call


def test_clients_of_one_endpoint_share_its_connections_across_accounts_each_request_signed_as_its_own(
        local_aws, customer_session):
    """Every guarded client of an endpoint (service, region) uses the process's one pool for it
    (finops.aws.guard._shared_http_session): a worker's next account reuses the connections of the
    last, with no TLS handshake or CA bundle load per client. Only the connection is shared."""
    import os

    from finops.aws import guard

    other = seed.customer_admin("333333333333", "other-admin")
    other_session = assume_customer_role(parse_role_arn(seed.create_scanner_role(other, EXTERNAL_ID)), EXTERNAL_ID)
    local_aws.clear_requests()
    first = customer_session.client("ec2", region_name="eu-west-1")
    second = other_session.client("ec2", region_name="eu-west-1")
    assert first._endpoint.http_session is second._endpoint.http_session
    assert customer_session.client("ec2", region_name="us-east-1")._endpoint.http_session is not \
        first._endpoint.http_session  # another region (another endpoint against AWS)
    assert customer_session.client("rds", region_name="eu-west-1")._endpoint.http_session is not \
        first._endpoint.http_session  # another service
    assert boto3.client("ec2", region_name="eu-west-1")._endpoint.http_session is not \
        first._endpoint.http_session  # sessions the factory did not make keep botocore's own

    first.describe_volumes()
    second.describe_volumes()
    first.describe_volumes()
    pools = list(first._endpoint.http_session._manager.pools._container.values())
    assert [pool.num_connections for pool in pools] == [1]  # three requests, one connection
    keys = [r["access_key"] for r in local_aws.requests() if r["action"] == "DescribeVolumes"]
    assert len(keys) == 3 and keys[0] == keys[2] != keys[1]  # each signed with its own account's key
    assert {r["status"] for r in local_aws.requests()} == {200}

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a forked child (a work-horse) never writes to its parent's sockets
        os.write(write, str(len(guard._http_sessions)).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"0" and guard._http_sessions


def test_a_copy_of_a_guarded_handler_registry_behaves_as_botocores_copy_under_any_changes():
    """finops.aws.guard._SharedTrie shares nodes between copies until one changes: the same random
    registrations, removals and copies on it and on botocore's own trie give the same lookups."""
    import copy
    import random

    from botocore.hooks import _PrefixTrie

    from finops.aws.guard import _SharedTrie

    rng = random.Random(11)
    parts = ["before-call", "after-call", "ec2", "s3", "*", "DescribeVolumes", "ListBuckets"]
    keys = sorted({".".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(40)})
    theirs: list[_PrefixTrie] = [_PrefixTrie()]
    ours: list[_SharedTrie] = [_SharedTrie()]
    handlers: list[list[tuple[str, str]]] = [[]]
    for step in range(3000):
        i = rng.randrange(len(theirs))
        action = rng.random()
        if action < 0.08 and len(theirs) < 40:  # a client's copy of its session's registry
            theirs.append(copy.copy(theirs[i]))
            ours.append(copy.copy(ours[i]))
            handlers.append(list(handlers[i]))
        elif action < 0.25 and handlers[i]:
            key, value = handlers[i].pop(rng.randrange(len(handlers[i])))
            theirs[i].remove_item(key, value)
            ours[i].remove_item(key, value)
        else:
            key, value, section = rng.choice(keys), f"h{step}", rng.randrange(3)
            theirs[i].append_item(key, value, section)
            ours[i].append_item(key, value, section)
            handlers[i].append((key, value))
    with pytest.raises(ValueError):
        ours[0].remove_item("no.such.key", "h0")
    lookups = [k.replace("*", "x") for k in keys] + ["before-call.ec2.DescribeVolumes", "after-call.s3"]
    for trie, twin in zip(theirs, ours, strict=True):
        assert [list(trie.prefix_search(k)) for k in lookups] == [list(twin.prefix_search(k)) for k in lookups]
    assert len(ours) > 10 and any(h for h in handlers[1:])


def test_guarded_clients_share_parsed_endpoint_rules_and_still_refuse_handlers_without_kwargs(customer_session):
    first = customer_session.client("ec2", region_name="eu-west-1")
    second = customer_session.client("ec2", region_name="us-east-1")
    plain = boto3.client("ec2", region_name="eu-west-1")
    assert first._ruleset_resolver._provider is second._ruleset_resolver._provider  # parsed once per process
    assert plain._ruleset_resolver._provider is not first._ruleset_resolver._provider  # other sessions: their own

    def no_kwargs(params):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ValueError, match="must accept keyword"):
        first.meta.events.register("before-call.ec2.DescribeVolumes", no_kwargs)
    seen: list[str] = []
    first.meta.events.register("before-call.ec2.DescribeVolumes", lambda **kw: seen.append(kw["model"].name))
    second.meta.events.register("before-call.ec2.DescribeVolumes", lambda *a, **kw: seen.append("second"))
    first.describe_volumes()
    assert seen == ["DescribeVolumes"]  # each client's handlers are its own


def customer_session_role(session) -> str:  # type: ignore[no-untyped-def]
    return session.client("sts", region_name="us-east-1").get_caller_identity()["Arn"].replace(
        ":sts::", ":iam::").replace(":assumed-role/", ":role/").rsplit("/", 1)[0]


# -- lint: product code never needs what the guard refuses ------------------------------------------
# Names whose use means presigning, or credentials outside the guarded session. The guard itself
# (finops/aws/guard.py) is the one place that handles them, to refuse them.
FORBIDDEN = {
    "generate_presigned_url", "generate_presigned_post", "generate_db_auth_token", "get_credentials",
    "get_frozen_credentials", "_request_signer", "set_credentials",
}
GUARD = ROOT / "finops" / "aws" / "guard.py"


def forbidden_uses(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in FORBIDDEN or (name or "").startswith("generate_presigned"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"{path.relative_to(root)}:{node.lineno}: import {m}" for m in modules if m == "botocore.auth"]
    return sorted(found, key=lambda use: int(use.split(":")[1]))


def product_files() -> list[Path]:
    files = [ROOT / "app.py", *(ROOT / "finops").rglob("*.py"), *(ROOT / "jobs").rglob("*.py")]
    return sorted(f for f in files if f != GUARD)


def test_product_code_never_presigns_or_handles_credentials():
    files = product_files()
    assert len(files) > 50 and ROOT / "finops" / "scan.py" in files
    assert [use for path in files for use in forbidden_uses(path)] == []


def test_the_lint_would_catch_a_presigned_url_and_raw_credentials(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def leak(client, session):\n"
        "    url = client.generate_presigned_url('get_object', Params={})\n"
        "    creds = session.get_credentials()\n"
        "    from botocore.auth import SigV4Auth\n"
    )
    uses = [use.split(": ", 1)[1] for use in forbidden_uses(sample, tmp_path)]
    assert uses == ["generate_presigned_url", "get_credentials", "import botocore.auth"]

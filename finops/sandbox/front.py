"""WSGI responder in front of moto's server app.

Control endpoints (plain JSON, loopback only):
  GET/DELETE /_requests     the request log (each: service, action, params, access_key, status)
  POST/DELETE /_faults      {"latency_ms": 0, "session_seconds": null, "rules": [{"service", "action",
                             "region", "error": "AccessDenied" | "Throttling" | "ServiceUnavailable" |
                             "InternalError", "rate": 1.0, "count": null, "skip": 0}
                             | {..., "hang": true}]}

What AWS does that moto does not, the front does:

- **Trust**: ``sts:AssumeRole`` is evaluated against the role's trust policy, External ID
  included, as AWS does for a cross-account role (moto checks nothing cross-account).
- **Permissions**: a request signed with an assumed role's credentials is evaluated against that
  role's inline policies (explicit Deny, then Allow; wildcards; no Allow is a refusal) and refused
  ``AccessDenied`` in the protocol's shape, naming the IAM action. A role with no inline policy
  is not restricted (tests that do not care about permissions create such roles).
- **Session expiry**: moto issues role sessions with the requested ``DurationSeconds`` but never
  refuses an expired one. The front remembers each session's ``Expiration`` and answers
  ``ExpiredToken`` / ``ExpiredTokenException`` once it has passed; ``session_seconds`` shortens
  every session issued from then on (the answer's ``Expiration`` says so), so a test can outlive
  a session in seconds.
- **Page sizes**: moto answers Organizations ListAccounts with up to 100 accounts a page; AWS
  with at most 20 (its ``MaxResults`` maximum). The front asks moto for pages of 20 when a request
  asks for more or says nothing, so an organization of 50 is listed in 3 round trips, as in AWS.
- **Faults**: errors per rule (AccessDenied, Throttling, 5xx ``ServiceUnavailable`` /
  ``InternalError``; ``count`` makes a burst, ``skip`` lets the first matching requests through),
  latency, and ``hang``: the request is held without
  an answer (the client's read timeout decides) until the rule is removed or 60 s pass.
  GET/POST/DELETE /_fixtures
                            {"account_id": "222222222222" | "*", "fixtures": {"<key>":
                             {"pages": [<output>, ...]} | {"error": {"code", "message", "status"}},
                             optionally with "fail_first": {"count": n, "error": {...}}}}

A fixture key names one operation: ``"<service>:<Operation>"`` in botocore's names (e.g.
``"ec2:DescribeReservedInstances"``, ``"lambda:ListProvisionedConcurrencyConfigs"``), or, for a
JSON-protocol service, its X-Amz-Target (``"CostOptimizationHubService.ListRecommendations"``).
A key may be narrowed after ``?`` by the request's region and any top-level input member as sent
(``"lambda:ListProvisionedConcurrencyConfigs?FunctionName=resize&region=eu-west-1"``); the most
specific key that matches a request answers it.

Fixtures serve the APIs moto 5.2.5 lacks, in their real wire format, whatever the protocol:
Cost Optimization Hub, Compute Optimizer, Pricing and CE GetCostAndUsageWithResources (json),
EC2 DescribeReservedInstances (ec2 XML), RDS DescribeReservedDBInstances (query XML), Savings
Plans and Lambda ListProvisionedConcurrencyConfigs (rest-json); rest-xml works the same way. The
request is matched to its operation by X-Amz-Target (json), ``Action`` (query, ec2) or method,
path and query string against every operation's ``http.requestUri`` (rest-json, rest-xml). The
page is serialized by moto's own response serializer (``moto.core.serialize``, what moto's
``ActionResult`` uses) from the operation's botocore model, so botocore parses it as it parses
AWS. Every page is first checked against botocore's output shape (``ParamValidator``); a page that
does not match is answered 500 ``FixtureInvalid``, so a fixture cannot drift from what AWS can
send. Paging: page *i* carries the token ``p<i+1>`` in the operation's output token
(``nextToken``, ``NextToken``, ``Marker``, ``NextMarker``, ``NextPageToken`` ...) when more pages
follow, and is asked for with that token in the operation's input token. An operation with no
fixture falls back to the baseline (a fresh account with the feature on and nothing to report,
the same as moto's CE with no queued result); without either, an operation moto lacks answers
400 ``UnknownOperationException`` and any other request (e.g. CE GetCostAndUsage) goes to moto.
"""

from __future__ import annotations

import fnmatch
import io
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

import botocore.session
from botocore.validate import ParamValidator

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
# Signing names that differ from botocore's service names.
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "execute-api": "apigateway"}
DEFAULT_ACCOUNT = "123456789012"
ANY_ACCOUNT = "*"
# X-Amz-Target prefix -> botocore service, for the JSON services whose targets can key fixtures.
TARGET_SERVICES = {
    "CostOptimizationHubService": "cost-optimization-hub",
    "AWSInsightsIndexService": "ce",
    "ComputeOptimizerService": "compute-optimizer",
    "AWSPriceListService": "pricing",
}
# What moto 5.2.5 does not implement: never forwarded, answered from fixtures or refused.
FRONT_ONLY_SERVICES = {"cost-optimization-hub", "compute-optimizer", "pricing", "savingsplans"}
FRONT_ONLY_OPERATIONS = {
    ("ce", "GetCostAndUsageWithResources"),
    ("ec2", "DescribeReservedInstances"),  # moto raises NotImplementedError
    ("rds", "DescribeReservedDBInstances"),  # not in moto's RDS
    ("lambda", "ListProvisionedConcurrencyConfigs"),  # no route in moto's Lambda
    ("cloudformation", "ActivateOrganizationsAccess"),  # the StackSet commands' first step
}
_PAGE_TOKEN_RE = re.compile(r"^p(\d+)$")
# Output members that carry "more pages follow", in the order they are looked for.
_TOKEN_NAMES = ("nextToken", "NextToken", "NextPageToken", "NextMarker", "Marker", "NextContinuationToken")
_INPUT_TOKEN_NAMES = ("nextToken", "NextToken", "NextPageToken", "Marker", "ContinuationToken")
_LABEL_RE = re.compile(r"\{([^}]+)\}")


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def protocol_of(service: str) -> str:
    try:
        return _service_model(service).protocol
    except Exception:
        return "query"


def _family(service: str) -> str:
    protocol = protocol_of(service)
    return "json" if protocol in ("json", "smithy-rpc-v2-cbor") else protocol


@dataclass(frozen=True)
class FixtureKey:
    """One operation, optionally narrowed to requests whose region / input members match."""

    service: str
    operation: str
    qualifiers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        base = f"{self.service}:{self.operation}"
        return f"{base}?{urlencode(self.qualifiers)}" if self.qualifiers else base

    def matches(self, facts: dict[str, str]) -> bool:
        return all(facts.get(name) == value for name, value in self.qualifiers)


def parse_fixture_key(key: str) -> FixtureKey:
    """``"ec2:DescribeReservedInstances?region=eu-west-1"`` or an X-Amz-Target; ValueError if unknown."""
    base, _, query = key.partition("?")
    if ":" in base:
        service, _, operation = base.partition(":")
    else:
        prefix, _, operation = base.rpartition(".")
        service = TARGET_SERVICES.get(prefix, "")
        if not service:
            raise ValueError("not a target the front can serve")
    try:
        model = _service_model(service).operation_model(operation)
    except Exception as error:
        raise ValueError(f"unknown operation {service}:{operation} ({type(error).__name__})") from None
    qualifiers = tuple(sorted(parse_qsl(query, keep_blank_values=True)))
    known = {"region", *(model.input_shape.members if model.input_shape else {})}
    unknown = sorted(name for name, _ in qualifiers if name not in known)
    if unknown:
        raise ValueError(f"{service}:{operation} cannot be narrowed by {unknown}: use region or input members")
    return FixtureKey(service, operation, qualifiers)


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern
    labels: tuple[tuple[str, str], ...]  # (regex group, URI label)
    literals: tuple[tuple[str, str], ...]  # query-string literals of the requestUri ("List=ALL")
    required: tuple[str, ...]  # query-string parameters the operation cannot do without ("id")
    score: tuple[int, int, bool]  # more query literals and required ones, more literal path, not deprecated


@cache
def _routes(service: str) -> tuple[_Route, ...]:
    """Every operation's ``http.requestUri`` as a regular expression (rest-json, rest-xml)."""
    model = _service_model(service)
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        http = operation.http
        members = operation.input_shape.members if operation.input_shape else {}
        required = tuple(
            members[m].serialization.get("name", m)
            for m in (operation.input_shape.required_members if operation.input_shape else [])
            if members[m].serialization.get("location") == "querystring"
        )
        path, _, query = str(http.get("requestUri", "/")).partition("?")
        path = path.rstrip("/") or "/"
        pattern, labels, literal, last = "", [], 0, 0
        for number, found in enumerate(_LABEL_RE.finditer(path)):
            pattern += re.escape(path[last:found.start()])
            literal += found.start() - last
            label = found.group(1)
            group = f"l{number}"
            pattern += f"(?P<{group}>{'.+' if label.endswith('+') else '[^/]+'})"
            labels.append((group, label.rstrip("+")))
            last = found.end()
        pattern += re.escape(path[last:])
        literal += len(path) - last
        literals = tuple(parse_qsl(query, keep_blank_values=True))
        # Equal routes (S3's GetBucketLifecycle and GetBucketLifecycleConfiguration share a URI):
        # the current operation, not the deprecated one, is what a client sends today.
        routes.append(_Route(name, str(http.get("method", "POST")), re.compile(pattern), tuple(labels), literals,
                             required, (len(literals) + len(required), literal, not operation.deprecated)))
    return tuple(routes)


def match_route(service: str, method: str, path: str, query: dict[str, list[str]]) -> tuple[str, dict[str, str]] | None:
    """(operation, URI labels) of a rest-protocol request, or None."""
    try:
        routes = _routes(service)
    except Exception:
        return None
    path = path.rstrip("/") or "/"
    best: tuple[_Route, re.Match] | None = None
    for route in routes:
        if route.method != method:
            continue
        found = route.pattern.fullmatch(path)
        if not found or not all(k in query and (not v or v in query[k]) for k, v in route.literals):
            continue
        if not all(k in query for k in route.required):
            continue
        if best is None or route.score > best[0].score:
            best = (route, found)
    if best is None:
        return None
    route, found = best
    return route.operation, {label: found.group(group) for group, label in route.labels}


def request_inputs(service: str, operation: str, record: dict[str, Any]) -> dict[str, Any]:
    """The request's top-level input members, by member name, wherever its protocol put them."""
    try:
        shape = _service_model(service).operation_model(operation).input_shape
    except Exception:
        return {}
    if shape is None:
        return {}
    protocol = protocol_of(service)
    params, query, labels = record.get("params") or {}, record.get("query") or {}, record.get("labels") or {}
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            value = labels.get(wire)
        elif location == "querystring":
            value = query.get(wire)
        elif location:
            continue  # headers are never needed to pick a fixture or a page
        elif protocol == "ec2":
            value = params.get(member.serialization.get("queryName") or wire[:1].upper() + wire[1:])
        else:
            value = params.get(wire) if isinstance(params, dict) else None
        if value is not None:
            out[name] = value
    return out


@cache
def _paginator_config(service: str, operation: str) -> dict[str, Any]:
    """botocore's paginator for the operation; {} when the service or the operation has none."""
    try:
        return dict(botocore.session.get_session().get_paginator_model(service).get_paginator(operation))
    except Exception:  # botocore raises DataNotFoundError / ValueError for "no paginator"
        return {}


@cache
def page_tokens(service: str, operation: str) -> tuple[str, str] | None:
    """(input member, output member) that carry the page token, from botocore's paginator model
    when there is one, else from the shapes (e.g. Savings Plans, CE GetCostAndUsage)."""
    try:
        model = _service_model(service).operation_model(operation)
    except Exception:
        return None
    config = _paginator_config(service, operation)
    given = config.get("input_token"), config.get("output_token")
    if all(isinstance(t, str) and t.isidentifier() for t in given):
        return given  # type: ignore[return-value]
    outputs = model.output_shape.members if model.output_shape else {}
    inputs = model.input_shape.members if model.input_shape else {}
    out = next((name for name in _TOKEN_NAMES if name in outputs), None)
    if out is None:
        return None
    given_in = out if out in inputs else next((name for name in _INPUT_TOKEN_NAMES if name in inputs), None)
    return (given_in, out) if given_in else None


class Front:
    def __init__(
        self,
        app: WSGIApp,
        iam_lookup: Callable[[str, str], Any] | None = None,
        baseline: dict[str, dict] | None = None,
    ):
        self.app = app
        self.iam_lookup = iam_lookup  # (account_id, role_arn) -> trust policy JSON or None
        self.requests: list[dict[str, Any]] = []
        self.faults: dict[str, Any] = {"latency_ms": 0, "rules": []}
        # key -> spec, for every account; then account ("*" for any) -> key -> spec
        self.baseline: dict[FixtureKey, dict] = {parse_fixture_key(k): v for k, v in (baseline or {}).items()}
        self.fixtures: dict[str, dict[FixtureKey, dict]] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(7)
        self.session_expiry: dict[str, float] = {}  # assumed-role access key id -> expiry (epoch seconds)

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_"):
            return self._control(environ, start_response, path)
        body = _read_body(environ)
        record = self._describe(environ, body)
        with self._lock:
            self.requests.append(record)
            latency = self.faults.get("latency_ms", 0)
        if latency:
            time.sleep(latency / 1000)

        expired = self._expired(record)
        if expired:
            status, headers, payload = expired
            record["status"] = status
            record["expired"] = True
            start_response(f"{status} Expired", headers)
            return [payload]
        if record["service"] == "sts" and record["action"] == "AssumeRole":
            refusal = self._refuse_assume_role(record)
            if refusal:
                record["status"] = 403
                return _respond(start_response, 403, "text/xml", refusal)
        denied = self._refuse_by_permissions(record)
        if denied:
            status, headers, payload = denied
            record["status"] = status
            record["denied"] = True
            start_response(f"{status} Denied", headers)
            return [payload]
        fault = self._fault_for(record)
        if fault == "hang":
            record["hung"] = True
            self._hang(record)
            fault = protocol_error(record["service"], 504, "GatewayTimeout", "held without an answer")
        if fault:
            status, headers, payload = fault
            record["status"] = status
            record["fault"] = True
            start_response(f"{status} Injected", headers)
            return [payload]
        if record.get("operation"):
            served = self._serve_fixture(record, body)
            if served is not None:
                status, headers, payload = served
                record["status"] = status
                record["fixture"] = True
                start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
                return [payload]

        _aws_page_size(record, environ, body)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        if record["action"] == "AssumeRole":
            payload = self._note_session(b"".join(result))
            record["issued"] = _issued_credentials(payload)
            result = [payload]
        record["status"] = captured.get("status")
        return result

    # -- sessions: expiry as AWS enforces it ------------------------------------------------------
    def _note_session(self, payload: bytes) -> bytes:
        """Remember an issued session's expiry; with ``session_seconds``, shorten it (and say so)."""
        text = payload.decode("utf-8", "replace")
        key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text)
        expiration = re.search(r"<Expiration>([^<]+)</Expiration>", text)
        if not key or not expiration:
            return payload
        expires = _epoch(expiration.group(1))
        with self._lock:
            shorter = self.faults.get("session_seconds")
        if shorter:
            expires = min(expires, time.time() + float(shorter))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(expires)) + f".{int(expires % 1 * 1000):03d}Z"
            text = text.replace(expiration.group(0), f"<Expiration>{stamp}</Expiration>")
            payload = text.encode()
        with self._lock:
            self.session_expiry[key.group(1)] = expires
        return payload

    def _expired(self, record: dict[str, Any]) -> tuple[int, list, bytes] | None:
        with self._lock:
            expires = self.session_expiry.get(record["access_key"])
        if expires is None or time.time() < expires:
            return None
        code = "ExpiredTokenException" if _family(record["service"]) in ("json", "rest-json") else "ExpiredToken"
        return protocol_error(record["service"], 400, code, "The security token included in the request is expired")

    # -- permissions: the assumed role's inline policies ----------------------------------------
    def _refuse_by_permissions(self, record: dict[str, Any]) -> tuple[int, list, bytes] | None:
        policies = self._role_policies(record["access_key"])
        if not policies or not record.get("operation"):
            return None
        from finops.iam_policy import iam_action

        action = iam_action(record["service"], record["operation"])
        if action is None:  # needs no permission (sts:GetCallerIdentity)
            return None
        verdict = evaluate_permissions(policies, action)
        if verdict == "allow":
            return None
        reason = "with an explicit deny in an identity-based policy" if verdict == "deny" else (
            "because no identity-based policy allows the action")
        caller = self._caller(record["access_key"])[1][0]
        message = f"User: {caller} is not authorized to perform: {action} {reason}"
        status, code = _ERRORS["AccessDenied"][_family(record["service"])]
        return protocol_error(record["service"], status, code, message)

    def _role_policies(self, access_key: str) -> list[dict]:
        """The inline policies of the role an assumed-role key belongs to ([] for anything else)."""
        if not access_key.startswith("ASIA"):
            return []
        try:
            from moto.iam.models import get_account_id_from, iam_backends

            account = get_account_id_from(access_key)
            backend = iam_backends[account]["aws"]
            key = backend.access_keys.get(access_key)
            if key is None or not key.role_arn:
                return []
            role = backend.get_role_by_arn(key.role_arn)
        except Exception:
            return []
        documents = []
        for document in getattr(role, "policies", {}).values():
            documents.append(_as_document(document))
        return documents

    def _hang(self, record: dict[str, Any]) -> None:
        """Hold the request (no answer) while a hang rule for it is still set, at most 60 s."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self._lock:
                still = any(rule.get("hang") and _rule_matches(rule, record) for rule in self.faults.get("rules", []))
            if not still:
                return
            time.sleep(0.05)

    # -- request description ----------------------------------------------------------------
    def _describe(self, environ: dict, body: bytes) -> dict[str, Any]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        match = _CREDENTIAL_RE.search(auth)
        access_key, region, signing = match.groups() if match else ("", "", "")
        service = _SIGNING_TO_SERVICE.get(signing, signing)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        params: dict[str, Any] = {}
        action = ""
        ctype = environ.get("CONTENT_TYPE", "")
        if target:
            action = target.rsplit(".", 1)[-1]
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
        elif "x-www-form-urlencoded" in ctype or (body and b"Action=" in body[:200]):
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            params = {k: v[0] if len(v) == 1 else v for k, v in form.items()}
            action = params.pop("Action", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation, labels = (action or None), {}
        if target:
            service = TARGET_SERVICES.get(target.rsplit(".", 1)[0], service)
        elif not action and _family(service) in ("rest-json", "rest-xml"):
            matched = match_route(service, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), query)
            if matched:
                operation, labels = matched
                action = operation
        if not action:
            action = query.get("Action", [""])[0] or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
            operation = query.get("Action", [None])[0]
        return {
            "service": service,
            "action": action,
            "operation": operation,
            "region": region,
            "params": params,
            "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()},
            "labels": labels,
            "access_key": access_key,
            "target": target,
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "at": time.time(),
        }

    # -- sts:AssumeRole as AWS evaluates it for a cross-account role ---------------------------
    def _refuse_assume_role(self, record: dict[str, Any]) -> bytes | None:
        params = record["params"]
        role_arn = params.get("RoleArn", "")
        caller_account, caller_arns = self._caller(record["access_key"])
        allowed = False
        match = re.match(r"^arn:aws:iam::(\d{12}):role/", role_arn)
        policy = self.iam_lookup(match.group(1), role_arn) if (match and self.iam_lookup) else None
        if policy is not None:
            allowed = trust_allows(policy, caller_account, caller_arns, params.get("ExternalId"))
        if allowed:
            return None
        message = (
            f"User: {caller_arns[0]} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )
        return (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()

    def _caller(self, access_key: str) -> tuple[str, list[str]]:
        """(account, ARNs the caller matches) from moto's own access-key records."""
        try:
            from moto.iam.models import get_account_id_from, iam_backends

            account = get_account_id_from(access_key)
            key = iam_backends[account]["aws"].access_keys.get(access_key)
        except Exception:
            account, key = DEFAULT_ACCOUNT, None
        if key is not None and key.role_arn:
            name = key.role_arn.rsplit("/", 1)[-1]
            return account, [f"arn:aws:sts::{account}:assumed-role/{name}/session", key.role_arn]
        if key is not None and key.user_name:
            return account, [f"arn:aws:iam::{account}:user/{key.user_name}"]
        return account, [f"arn:aws:iam::{account}:user/moto"]

    # -- injected faults ------------------------------------------------------------------------
    def _fault_for(self, record: dict[str, Any]) -> tuple[int, list, bytes] | str | None:
        with self._lock:
            for rule in self.faults.get("rules", []):
                if not _rule_matches(rule, record):
                    continue
                if rule.get("count") is not None and rule["count"] <= 0:
                    continue
                if rule.get("skip"):  # the first requests it matches pass (e.g. a list's second page fails)
                    rule["skip"] -= 1
                    continue
                if self._rng.random() >= rule.get("rate", 1.0):
                    continue
                if rule.get("count") is not None:
                    rule["count"] -= 1
                if rule.get("hang"):
                    return "hang"
                return error_response(record["service"], record["action"], rule["error"])
        return None

    # -- fixtures: operations moto lacks, in their protocol's wire format ------------------------
    def _spec_for(self, account: str, record: dict[str, Any], body: bytes) -> dict | None:
        """The most specific fixture matching the request: the account's own, then any account's,
        then the baseline; None when there is none (moto answers, unless it lacks the operation)."""
        service, operation = record["service"], record["operation"]
        tables = (self.fixtures.get(account, {}), self.fixtures.get(ANY_ACCOUNT, {}), self.baseline)
        candidates = [
            [(key, spec) for key, spec in table.items() if (key.service, key.operation) == (service, operation)]
            for table in tables
        ]
        if not any(candidates):
            return None
        if protocol_of(service) == "rest-json" and body and not record["params"]:
            try:  # parsed only for requests fixtures answer (others' bodies stay out of the log)
                record["params"] = json.loads(body)
            except ValueError:
                record["params"] = {}
        facts = {"region": record["region"]}
        if any(key.qualifiers for found in candidates for key, _ in found):
            facts.update({k: str(v) for k, v in request_inputs(service, operation, record).items()})
        for found in candidates:  # the account's own, then any account's, then the baseline
            matching = [(key, spec) for key, spec in found if key.matches(facts)]
            if matching:
                return max(matching, key=lambda pair: len(pair[0].qualifiers))[1]
        return None

    def _serve_fixture(self, record: dict[str, Any], body: bytes) -> tuple[int, list, bytes] | None:
        service, operation = record["service"], record["operation"]
        front_only = service in FRONT_ONLY_SERVICES or (service, operation) in FRONT_ONLY_OPERATIONS
        with self._lock:  # most requests (moto's own APIs) have no fixture at all: forward them quickly
            tables = [self.baseline, *self.fixtures.values()]
            if not front_only and not any((k.service, k.operation) == (service, operation) for t in tables for k in t):
                return None
        account = self._caller(record["access_key"])[0]
        with self._lock:
            spec = self._spec_for(account, record, body)
            first = (spec or {}).get("fail_first")
            if first and first.get("count", 0) > 0:  # the first N requests fail, later ones succeed
                first["count"] -= 1
                spec = {"error": first["error"]}
        if spec is None:
            if front_only:
                return protocol_error(service, 400, "UnknownOperationException",
                                      f"No fixture for {service}:{operation} in the local AWS")
            return None  # moto serves it (e.g. CE GetCostAndUsage with its queued results)
        if "error" in spec:
            err = spec["error"]
            return protocol_error(service, int(err.get("status", 400)), err["code"], err.get("message", ""))
        pages = spec.get("pages") or [{}]
        tokens = page_tokens(service, operation)
        token = request_inputs(service, operation, record).get(tokens[0]) if tokens else None
        index = 0
        if token:
            found = _PAGE_TOKEN_RE.match(str(token))
            if not found or not 0 < int(found.group(1)) < len(pages):
                code = "InvalidNextTokenException" if service == "ce" else "ValidationException"
                return protocol_error(service, 400, code, f"Invalid pagination token {token!r}")
            index = int(found.group(1))
        page = paged(service, operation, pages, index)
        problems = validate_output(service, operation, page)
        if problems:
            return protocol_error(service, 500, "FixtureInvalid", f"{service}:{operation} page {index}: {problems}")
        return serialize_output(service, operation, page)

    def load_fixtures(self, account: str, fixtures: dict[str, dict]) -> dict[str, str]:
        """Add fixtures for one account (or "*"); return the problems found (key -> report).

        A key the front cannot serve is left out; a page that does not match botocore's output
        shape is kept (and answered 500 FixtureInvalid when asked for), as AWS's shape is the
        judge, not this loader.
        """
        problems: dict[str, str] = {}
        parsed: dict[FixtureKey, dict] = {}
        for key, spec in fixtures.items():
            try:
                fixture_key = parse_fixture_key(key)
            except ValueError as error:
                problems[key] = str(error)
                continue
            pages = spec.get("pages") or []
            if len(pages) > 1 and page_tokens(fixture_key.service, fixture_key.operation) is None:
                problems[key] = f"{fixture_key.service}:{fixture_key.operation} is not paginated: give one page"
            for number, page in enumerate(pages):
                report = validate_output(fixture_key.service, fixture_key.operation, page)
                if report:
                    problems[f"{key}[{number}]"] = report
            parsed[fixture_key] = spec
        with self._lock:
            self.fixtures.setdefault(account, {}).update(parsed)
        return problems

    # -- control ----------------------------------------------------------------------------
    def _control(self, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        body = _read_body(environ)
        with self._lock:
            if path == "/_requests":
                if method == "DELETE":
                    self.requests.clear()
                return _respond(start_response, 200, "application/json", json.dumps(self.requests).encode())
            if path == "/_faults":
                if method == "DELETE":
                    self.faults = {"latency_ms": 0, "rules": [], "session_seconds": None}
                    self.session_expiry.clear()
                elif method == "POST":
                    new = json.loads(body or b"{}")
                    self.faults = {"latency_ms": new.get("latency_ms", 0), "rules": new.get("rules", []),
                                   "session_seconds": new.get("session_seconds")}
                return _respond(start_response, 200, "application/json", json.dumps(self.faults).encode())
        if path == "/_fixtures":
            if method == "DELETE":
                with self._lock:
                    self.fixtures = {}
                return _respond(start_response, 200, "application/json", b"{}")
            if method == "POST":
                new = json.loads(body or b"{}")
                problems = self.load_fixtures(str(new.get("account_id") or ANY_ACCOUNT), new.get("fixtures") or {})
                return _respond(start_response, 200, "application/json", json.dumps({"problems": problems}).encode())
            with self._lock:
                listing = {
                    "baseline": sorted(map(str, self.baseline)),
                    "fixtures": {account: sorted(map(str, f)) for account, f in self.fixtures.items()},
                }
            return _respond(start_response, 200, "application/json", json.dumps(listing).encode())
        return _respond(start_response, 404, "text/plain", b"unknown control endpoint")


def _rule_matches(rule: dict, record: dict[str, Any]) -> bool:
    return all(rule.get(name) in (None, record[name]) for name in ("service", "action", "region"))


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _as_document(document: Any) -> dict:
    """A policy document as moto keeps it: a dict, JSON text, URL-encoded JSON text, or (when its
    CloudFormation attached it) a dict's Python repr."""
    import ast
    from urllib.parse import unquote

    if isinstance(document, dict):
        return document
    text = str(document)
    for candidate in (text, unquote(text)):
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}


def evaluate_permissions(policies: list[dict], action: str) -> str:
    """"deny" (an explicit Deny matches), "allow" (an Allow matches) or "implicit" (none does), for
    statements on ``Resource: "*"``, as IAM evaluates identity-based policies."""
    allowed = False
    for policy in policies:
        for statement in _as_list(policy.get("Statement")):
            patterns = _as_list(statement.get("Action"))
            if not any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns):
                continue
            if statement.get("Effect") == "Deny":
                return "deny"
            if statement.get("Effect") == "Allow":
                allowed = True
    return "allow" if allowed else "implicit"


def paged(service: str, operation: str, pages: list[dict], index: int) -> dict:
    """Page ``index`` with the output token (and ``IsTruncated``) saying whether more follow."""
    page = dict(pages[index])
    tokens = page_tokens(service, operation)
    if tokens:
        more = index + 1 < len(pages)
        page.pop(tokens[1], None)
        if more:
            page[tokens[1]] = f"p{index + 1}"
        output = _service_model(service).operation_model(operation).output_shape
        if output is not None and "IsTruncated" in output.members:
            page["IsTruncated"] = more
    return page


def validate_output(service: str, operation: str, page: dict) -> str:
    """"" when ``page`` is a valid ``operation`` output per botocore's model, else the report."""
    try:
        shape = _service_model(service).operation_model(operation).output_shape
    except Exception as error:
        return f"unknown operation {service}:{operation} ({type(error).__name__})"
    if shape is None:
        return "" if not page else f"{service}:{operation} has no output"
    report = ParamValidator().validate(page, shape)
    return report.generate_report() if report.has_errors() else ""


@cache
def _moto_operation_model(service: str, operation: str) -> Any:
    from moto.core.utils import get_service_model  # moto's facade over botocore's model

    return get_service_model(service).operation_model(operation)


def serialize_output(service: str, operation: str, page: dict) -> tuple[int, list, bytes]:
    """``page`` as AWS would send it for ``operation`` (status, headers, body), by moto's serializer."""
    from moto.core.serialize import SerializationContext, get_serializer_class

    model = _moto_operation_model(service, operation)
    request_id = str(uuid.uuid4())
    serializer = get_serializer_class(service, model.service_model.protocol)(
        operation_model=model, context=SerializationContext(request_id)
    )
    response = serializer.serialize(page)
    body = response["body"]
    payload = body.encode() if isinstance(body, str) else bytes(body)
    headers = {str(k): str(v) for k, v in response["headers"].items()}
    headers.setdefault("x-amzn-RequestId", request_id)
    headers["Content-Length"] = str(len(payload))
    return int(response["status_code"]), list(headers.items()), payload


def _json_version(service: str) -> str:
    return _service_model(service).metadata.get("jsonVersion", "1.1")


def json_error(service: str, status: int, code: str, message: str) -> tuple[int, list, bytes]:
    payload = json.dumps({"__type": code, "message": message}).encode()
    return status, [
        ("Content-Type", f"application/x-amz-json-{_json_version(service)}"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("Content-Length", str(len(payload))),
    ], payload


def trust_allows(policy: dict, caller_account: str, caller_arns: list[str], external_id: str | None) -> bool:
    """Evaluate a role trust policy for sts:AssumeRole: an explicit Deny wins, then any Allow."""
    allowed = False
    for stmt in _as_list(policy.get("Statement")):
        if not _action_matches(stmt.get("Action")) or not _principal_matches(
            stmt.get("Principal"), caller_account, caller_arns
        ):
            continue
        if not _conditions_hold(stmt.get("Condition") or {}, external_id):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        if stmt.get("Effect") == "Allow":
            allowed = True
    return allowed


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_matches(action: Any) -> bool:
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in _as_list(action))


def _principal_matches(principal: Any, account: str, arns: list[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS")):
        if value in ("*", account, f"arn:aws:iam::{account}:root") or value in arns:
            return True
    return False


def _conditions_hold(conditions: dict, external_id: str | None) -> bool:
    for operator, clauses in conditions.items():
        for key, expected in clauses.items():
            if key.lower() != "sts:externalid" or operator not in ("StringEquals", "StringLike"):
                return False  # a condition we do not model is not satisfied (fail closed)
            if external_id is None:
                return False
            values = _as_list(expected)
            if operator == "StringEquals" and external_id not in values:
                return False
            if operator == "StringLike" and not any(
                re.fullmatch(re.escape(v).replace(r"\*", ".*").replace(r"\?", "."), external_id)
                for v in values
            ):
                return False
    return True


_ERRORS = {
    # error kind -> (status, code) per protocol family
    "AccessDenied": {
        "ec2": (403, "UnauthorizedOperation"), "query": (403, "AccessDenied"),
        "json": (400, "AccessDeniedException"), "rest-json": (403, "AccessDeniedException"),
        "rest-xml": (403, "AccessDenied"),
    },
    "Throttling": {
        "ec2": (503, "RequestLimitExceeded"), "query": (400, "Throttling"),
        "json": (400, "ThrottlingException"), "rest-json": (429, "TooManyRequestsException"),
        "rest-xml": (503, "SlowDown"),
    },
    "ServiceUnavailable": {
        "ec2": (503, "Unavailable"), "query": (503, "ServiceUnavailable"),
        "json": (503, "ServiceUnavailableException"), "rest-json": (503, "ServiceUnavailableException"),
        "rest-xml": (503, "ServiceUnavailable"),
    },
    "InternalError": {
        "ec2": (500, "InternalError"), "query": (500, "InternalFailure"),
        "json": (500, "InternalServerException"), "rest-json": (500, "ServiceException"),
        "rest-xml": (500, "InternalError"),
    },
}


def error_response(service: str, action: str, kind: str) -> tuple[int, list, bytes]:
    """An injected fault in the wire format AWS uses for ``service``'s protocol."""
    status, code = _ERRORS[kind][_family(service)]
    if kind == "AccessDenied":
        message = f"User is not authorized to perform: {service}:{action} because no identity-based policy allows it"
    elif kind == "Throttling":
        message = "Rate exceeded"
    else:
        message = "We encountered an internal error. Please try again."
    return protocol_error(service, status, code, message)


def protocol_error(service: str, status: int, code: str, message: str) -> tuple[int, list, bytes]:
    """An error as ``service``'s protocol carries it (EC2 <Response><Errors>, query
    <ErrorResponse>, rest-xml <Error>, JSON ``__type`` plus ``x-amzn-ErrorType``)."""
    family = _family(service)
    request_id = str(uuid.uuid4())
    if family == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return status, [("Content-Type", "text/xml")], body.encode()
    if family == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{_xml(message)}"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, [("Content-Type", "text/xml")], body.encode()
    if family == "rest-xml":
        body = (
            f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return status, [("Content-Type", "application/xml")], body.encode()
    if family == "json":
        status, headers, payload = json_error(service, status, code, message)
        # Query-compatible JSON services (CloudWatch) also name the query-protocol code.
        query_code = code.removesuffix("Exception") if service == "cloudwatch" else code
        return status, [*headers, ("x-amzn-query-error", f"{query_code};Sender")], payload
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
    ]
    return status, headers, json.dumps({"__type": code, "message": message}).encode()


def _issued_credentials(payload: bytes) -> dict[str, str]:
    text = payload.decode("utf-8", "replace")
    out = {}
    for field in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        found = re.search(rf"<{field}>([^<]+)</{field}>", text)
        if found:
            out[field] = found.group(1)
    return out


# (service, action) -> (the input member, AWS's largest page) where moto's pages are larger.
AWS_PAGE_SIZES = {("organizations", "ListAccounts"): ("MaxResults", 20)}


def _aws_page_size(record: dict[str, Any], environ: dict, body: bytes) -> None:
    """The request as moto should see it to page as AWS does (module docstring, "Page sizes")."""
    limit = AWS_PAGE_SIZES.get((record["service"], record["action"]))
    if limit is None or not environ.get("HTTP_X_AMZ_TARGET"):
        return
    member, largest = limit
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return
    if isinstance(params, dict) and not (isinstance(params.get(member), int) and params[member] <= largest):
        body = json.dumps({**params, member: largest}).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length:
        body = environ["wsgi.input"].read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked upload: werkzeug ends the stream for us
        body = environ["wsgi.input"].read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _respond(start_response: Callable, status: int, ctype: str, payload: bytes) -> list[bytes]:
    start_response(f"{status} {'OK' if status < 400 else 'Error'}", [
        ("Content-Type", ctype), ("Content-Length", str(len(payload))),
    ])
    return [payload]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

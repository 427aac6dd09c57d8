"""WSGI responder in front of moto's server app.

Control endpoints (plain JSON, loopback only):
  GET/DELETE /_requests     the request log (each: service, action, params, access_key, status)
  POST/DELETE /_faults      {"latency_ms": 0, "rules": [{"service", "action", "region",
                             "error": "AccessDenied" | "Throttling", "rate": 1.0, "count": null}]}
  GET/POST/DELETE /_fixtures
                            {"account_id": "222222222222" | "*", "fixtures": {"<X-Amz-Target>":
                             {"pages": [<output>, ...]} | {"error": {"code", "message", "status"}},
                             optionally with "fail_first": {"count": n, "error": {...}}}}

Fixtures serve the JSON-protocol APIs moto lacks (Cost Optimization Hub, CE
GetCostAndUsageWithResources, Compute Optimizer, Pricing) in their real wire format. Every page is
checked against botocore's output shape (``ParamValidator``); a page that does not match is answered
500 ``FixtureInvalid``, so a fixture cannot drift from what AWS can send. Paging: page *i* carries
the token ``p<i+1>`` in ``nextToken`` / ``NextPageToken`` when more pages follow. A target with no
fixture falls back to the baseline (a fresh account with the feature on and nothing to report, the
same as moto's CE with no queued result); without either, a front-only service answers 400
``UnknownOperationException`` and any other target (e.g. CE GetCostAndUsage) goes to moto.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from botocore.validate import ParamValidator

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
# Signing names that differ from botocore's service names.
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "execute-api": "apigateway"}
DEFAULT_ACCOUNT = "123456789012"
ANY_ACCOUNT = "*"
# X-Amz-Target prefix -> botocore service, for the services whose targets can have fixtures.
TARGET_SERVICES = {
    "CostOptimizationHubService": "cost-optimization-hub",
    "AWSInsightsIndexService": "ce",
    "ComputeOptimizerService": "compute-optimizer",
    "AWSPriceListService": "pricing",
}
# Targets moto does not implement: never forwarded, answered from fixtures or refused.
FRONT_ONLY_PREFIXES = {"CostOptimizationHubService", "ComputeOptimizerService", "AWSPriceListService"}
FRONT_ONLY_TARGETS = {"AWSInsightsIndexService.GetCostAndUsageWithResources"}
_PAGE_TOKEN_RE = re.compile(r"^p(\d+)$")


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def protocol_of(service: str) -> str:
    try:
        return _service_model(service).protocol
    except Exception:
        return "query"


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
        self.baseline: dict[str, dict] = dict(baseline or {})  # target -> spec, for every account
        self.fixtures: dict[str, dict[str, dict]] = {}  # account ("*" for any) -> target -> spec
        self._lock = threading.Lock()
        self._rng = random.Random(7)

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

        if record["service"] == "sts" and record["action"] == "AssumeRole":
            refusal = self._refuse_assume_role(record)
            if refusal:
                record["status"] = 403
                return _respond(start_response, 403, "text/xml", refusal)
        fault = self._fault_for(record)
        if fault:
            status, headers, payload = fault
            record["status"] = status
            record["fault"] = True
            start_response(f"{status} Injected", headers)
            return [payload]
        if record.get("target"):
            served = self._serve_fixture(record)
            if served is not None:
                status, headers, payload = served
                record["status"] = status
                record["fixture"] = True
                start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
                return [payload]

        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        if record["action"] == "AssumeRole":
            payload = b"".join(result)
            record["issued"] = _issued_credentials(payload)
            result = [payload]
        record["status"] = captured.get("status")
        return result

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
        if not action:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            action = query.get("Action", [""])[0] or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        return {
            "service": service,
            "action": action,
            "region": region,
            "params": params,
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
    def _fault_for(self, record: dict[str, Any]) -> tuple[int, list, bytes] | None:
        with self._lock:
            for rule in self.faults.get("rules", []):
                if rule.get("service") not in (None, record["service"]):
                    continue
                if rule.get("action") not in (None, record["action"]):
                    continue
                if rule.get("region") not in (None, record["region"]):
                    continue
                if rule.get("count") is not None and rule["count"] <= 0:
                    continue
                if self._rng.random() >= rule.get("rate", 1.0):
                    continue
                if rule.get("count") is not None:
                    rule["count"] -= 1
                return error_response(record["service"], record["action"], rule["error"])
        return None

    # -- fixtures for JSON-protocol targets moto lacks -------------------------------------------
    def _serve_fixture(self, record: dict[str, Any]) -> tuple[int, list, bytes] | None:
        target = record["target"]
        prefix, _, operation = target.rpartition(".")
        service = TARGET_SERVICES.get(prefix)
        if service is None:
            return None
        account = self._caller(record["access_key"])[0]
        with self._lock:
            spec = (
                self.fixtures.get(account, {}).get(target)
                or self.fixtures.get(ANY_ACCOUNT, {}).get(target)
                or self.baseline.get(target)
            )
            first = (spec or {}).get("fail_first")
            if first and first.get("count", 0) > 0:  # the first N requests fail, later ones succeed
                first["count"] -= 1
                spec = {"error": first["error"]}
        if spec is None:
            if prefix in FRONT_ONLY_PREFIXES or target in FRONT_ONLY_TARGETS:
                return json_error(service, 400, "UnknownOperationException",
                                  f"No fixture for {target} in the local AWS")
            return None  # moto serves it (e.g. CE GetCostAndUsage with its queued results)
        if "error" in spec:
            err = spec["error"]
            return json_error(service, int(err.get("status", 400)), err["code"], err.get("message", ""))
        pages = spec.get("pages") or [{}]
        token_key = page_token_key(service, operation)
        token = record["params"].get(token_key) if token_key else None
        index = 0
        if token:
            found = _PAGE_TOKEN_RE.match(str(token))
            if not found or not 0 < int(found.group(1)) < len(pages):
                code = "InvalidNextTokenException" if service == "ce" else "ValidationException"
                return json_error(service, 400, code, f"Invalid pagination token {token!r}")
            index = int(found.group(1))
        page = dict(pages[index])
        if token_key:
            page.pop(token_key, None)
            if index + 1 < len(pages):
                page[token_key] = f"p{index + 1}"
        problems = validate_output(service, operation, page)
        if problems:
            return json_error(service, 500, "FixtureInvalid", f"{target} page {index}: {problems}")
        payload = json.dumps(page).encode()
        return 200, [
            ("Content-Type", f"application/x-amz-json-{_json_version(service)}"),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            ("Content-Length", str(len(payload))),
        ], payload

    def load_fixtures(self, account: str, fixtures: dict[str, dict]) -> dict[str, str]:
        """Add fixtures for one account (or "*"); return the problems found (target -> report)."""
        problems: dict[str, str] = {}
        for target, spec in fixtures.items():
            prefix, _, operation = target.rpartition(".")
            service = TARGET_SERVICES.get(prefix)
            if service is None:
                problems[target] = "not a target the front can serve"
                continue
            for number, page in enumerate(spec.get("pages") or []):
                report = validate_output(service, operation, page)
                if report:
                    problems[f"{target}[{number}]"] = report
        with self._lock:
            self.fixtures.setdefault(account, {}).update(fixtures)
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
                    self.faults = {"latency_ms": 0, "rules": []}
                elif method == "POST":
                    new = json.loads(body or b"{}")
                    self.faults = {"latency_ms": new.get("latency_ms", 0), "rules": new.get("rules", [])}
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
                    "baseline": sorted(self.baseline),
                    "fixtures": {account: sorted(f) for account, f in self.fixtures.items()},
                }
            return _respond(start_response, 200, "application/json", json.dumps(listing).encode())
        return _respond(start_response, 404, "text/plain", b"unknown control endpoint")


def page_token_key(service: str, operation: str) -> str | None:
    try:
        members = _service_model(service).operation_model(operation).output_shape.members
    except Exception:
        return None
    return next((k for k in ("nextToken", "NextPageToken", "NextToken") if k in members), None)


def validate_output(service: str, operation: str, page: dict) -> str:
    """"" when ``page`` is a valid ``operation`` output per botocore's model, else the report."""
    try:
        shape = _service_model(service).operation_model(operation).output_shape
    except Exception as error:
        return f"unknown operation {service}:{operation} ({type(error).__name__})"
    report = ParamValidator().validate(page, shape)
    return report.generate_report() if report.has_errors() else ""


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
}


def error_response(service: str, action: str, kind: str) -> tuple[int, list, bytes]:
    """An error in the wire format AWS uses for ``service``'s protocol."""
    protocol = protocol_of(service)
    family = "json" if protocol in ("json", "smithy-rpc-v2-cbor") else protocol
    status, code = _ERRORS[kind][family]
    if kind == "AccessDenied":
        message = f"User is not authorized to perform: {service}:{action} because no identity-based policy allows it"
    else:
        message = "Rate exceeded"
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
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-query-error", f"{code.removesuffix('Exception') if service == 'cloudwatch' else code};Sender"),
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

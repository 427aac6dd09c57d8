"""Start moto's server app behind our front responder on a free loopback port."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

# Must be set before moto builds its EC2 backends: otherwise every region is preloaded with
# ~1,300 AMIs and their snapshots, which the scanner would then read as the customer's.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server  # noqa: E402

from finops.sandbox.front import Front  # noqa: E402
from finops.sandbox.loopback import LOOPBACK, BackgroundServer  # noqa: E402

FIXTURES_DIR = Path(__file__).parent / "fixtures"
SCANNER_ACCOUNT = "123456789012"  # moto's default account: the scanner's own identity
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _trust_policy(account_id: str, role_arn: str) -> dict | None:
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return None
    document = role.assume_role_policy_document
    return json.loads(document) if isinstance(document, str) else document


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # the front keeps its own log
        return None


class LocalAWS(BackgroundServer):
    """moto + front on 127.0.0.1. ``env()`` gives the standard AWS settings that point at it."""

    def __init__(self, port: int = 0):
        self._port = port
        self._server: BaseWSGIServer | None = None
        self.front: Front | None = None

    def start(self) -> LocalAWS:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        baseline = json.loads((FIXTURES_DIR / "baseline.json").read_text())["fixtures"]
        self.front = Front(DomainDispatcherApplication(create_backend_app), _trust_policy, baseline)
        self._server = make_server(
            LOOPBACK, self._port, self.front, threaded=True, request_handler=_QuietHandler
        )
        self._serve_in_background(self._server, "local-aws")
        return self

    def env(self) -> dict[str, str]:
        """Standard AWS configuration that sends every SDK and CLI call here, with fake keys."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            **FAKE_KEYS,
            "AWS_SESSION_TOKEN": "",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    # -- helpers for tests and the demo ----------------------------------------------------------
    def control(self, path: str, method: str = "GET", payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = Request(self.url + path, data=data, method=method)  # noqa: S310 - our loopback URL
        with urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return json.loads(response.read() or b"null")

    def requests(self) -> list[dict[str, Any]]:
        return self.control("/_requests")

    def clear_requests(self) -> None:
        self.control("/_requests", "DELETE")

    def set_faults(self, rules: list[dict] | None = None, latency_ms: int = 0,
                   session_seconds: float | None = None) -> None:
        """Faults (see ``finops.sandbox.front``); ``session_seconds`` shortens role sessions issued from now on."""
        self.control("/_faults", "POST", {"rules": rules or [], "latency_ms": latency_ms,
                                          "session_seconds": session_seconds})

    def load_fixtures(
        self, fixtures: dict[str, dict], account_id: str = "*", *, strict: bool = True
    ) -> dict[str, str]:
        """Serve ``{"<key>": {"pages": [...]} | {"error": {...}}}`` for one account.

        ``<key>`` is ``"<service>:<Operation>"`` (any protocol, e.g. ``"ec2:DescribeReservedInstances"``),
        optionally narrowed (``"...?region=eu-west-1&FunctionName=f"``), or an X-Amz-Target; see
        ``finops.sandbox.front``.

        With ``strict`` a fixture that botocore's output shape rejects raises here, before any
        scan; without it, the front answers 500 FixtureInvalid when the page is requested.
        """
        problems = self.control("/_fixtures", "POST", {"account_id": account_id, "fixtures": fixtures})["problems"]
        if problems and strict:
            raise ValueError(f"fixtures do not match botocore's output shapes: {problems}")
        return problems

    def clear_fixtures(self) -> None:
        self.control("/_fixtures", "DELETE")

    def queue_cost_and_usage(self, account_id: str, results: list[dict]) -> None:
        """Queue CE GetCostAndUsage answers in moto, for the account whose credentials ask.

        moto hands the next queued result to each request with new parameters (a next page is a
        new request) and repeats it for identical ones.
        """
        self.control("/moto-api/static/ce/cost-and-usage-results", "POST",
                     {"account_id": account_id, "results": results})

    def reset(self) -> None:
        """Forget every account's state, the request log, the faults and the loaded fixtures."""
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()
        self.control("/_faults", "DELETE")
        self.clear_fixtures()
        self.clear_requests()

"""Record the local AWS's answers once, then serve them from memory with a chosen latency.

Benchmarks use this to measure the scanner rather than the emulator: moto is one GIL-bound
process whose own CPU time dominates a large scan, whereas real AWS is a fleet where each call
costs a network round trip and many calls overlap. In replay mode every request is answered from
memory after sleeping ``latency_ms`` on its own thread, so concurrent calls overlap like they do
against AWS, and what remains is the scanner's own work.

With ``throttle_rate`` (0..1) a replayed request is answered, that often and at random (a seeded
generator), with the throttling error AWS sends for the request's protocol (EC2
RequestLimitExceeded, query Throttling, JSON ThrottlingException, rest-json
TooManyRequestsException, rest-xml SlowDown), after the same latency: what a scan meets when AWS
throttles a share of its calls. Every throttled answer is counted, by service and action.

Requests are keyed access-key independently: (service, region, action or method+path, params),
with volatile values removed (signatures, dates and timestamps, the safety probe's random wrong
External ID). The scanner's AssumeRole is recorded once and replayed as recorded: the
credentials it returns are the local AWS's fake ones, never real.

Loopback only: the server binds 127.0.0.1 and forwards (record mode) only to a loopback URL.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from finops.sandbox.loopback import LOOPBACK, BackgroundServer

RECORD, REPLAY = "record", "replay"

_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_ISO_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?$")  # not API Version dates
# Parameter names whose values are derived from the clock (metric windows, cost periods).
_TIME_KEYS = {"starttime", "endtime", "start", "end", "timestamp"}
# The safety probe sends "fp-wrong-<random hex>" (finops.aws.session.prove_external_id_required).
_WRONG_EXTERNAL_ID = "fp-wrong-"
# Signing names that differ from botocore's service names.
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch"}
# Headers that describe one transfer, not the answer itself.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}
# Presigned-URL query parameters (volatile), should a client ever send them.
_VOLATILE_QUERY = {"x-amz-date", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-id"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class ReplayStats:
    requests: int = 0
    recorded: int = 0
    replayed: int = 0
    misses: int = 0
    throttled: int = 0
    missed_keys: list[str] = field(default_factory=list)
    by_action: dict[str, int] = field(default_factory=dict)
    throttled_by_action: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "recorded": self.recorded, "replayed": self.replayed,
            "misses": self.misses, "missed_keys": self.missed_keys[:20], "by_action": dict(self.by_action),
            "throttled": self.throttled, "throttled_by_action": dict(self.throttled_by_action),
        }


def _normalise(value: Any, key: str = "") -> Any:
    """Replace clock-derived and random values by placeholders, recursively."""
    lowered = key.lower()
    if isinstance(value, dict):
        return {k: _normalise(v, str(k)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_normalise(v, key) for v in value]
    if isinstance(value, (datetime, date)):
        return "<time>"
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if lowered in _TIME_KEYS or lowered.rsplit(".", 1)[-1] in _TIME_KEYS:
        return "<time>"
    if isinstance(value, str):
        if lowered == "externalid" and value.startswith(_WRONG_EXTERNAL_ID):
            return _WRONG_EXTERNAL_ID + "*"
        if _ISO_TIME_RE.match(value):
            return "<time>"
    return value


def _decode_cbor(body: bytes) -> Any:
    from botocore.parsers import RpcV2CBORParser

    parser = RpcV2CBORParser()
    return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))


def request_key(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(key, label): an access-key independent description of one AWS request.

    ``headers`` must have lower-case names. The label ("ec2:DescribeVolumes") is for counts.
    """
    match = _CREDENTIAL_RE.search(headers.get("authorization", ""))
    region, service = match.groups() if match else ("", "")
    split = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k.lower() not in _VOLATILE_QUERY]
    ctype = headers.get("content-type", "")
    target = headers.get("x-amz-target", "")
    params: Any
    rest = False
    if target:  # JSON protocols: the action is in a header, parameters in a JSON body
        action = target.rsplit(".", 1)[-1]
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = body
    elif "cbor" in ctype or "/operation/" in split.path:  # smithy RPC v2 CBOR (CloudWatch)
        action = split.path.rsplit("/", 1)[-1]
        try:
            params = _decode_cbor(body) if body else {}
        except Exception:
            params = body
    elif "x-www-form-urlencoded" in ctype or body[:7] == b"Action=":  # query protocols (EC2, STS, RDS)
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.pop("Action", "")
    else:  # REST protocols (S3, Lambda): the path and query string are the request
        rest = True
        action = f"{method} {split.path}"
        params = {"query": sorted(query), "body": body}
    if query and not rest:
        params = {"params": params, "query": sorted(query)}  # RPC protocols rarely use a query string
    key = json.dumps(
        {"service": service, "region": region, "method": method, "action": action, "params": _normalise(params)},
        sort_keys=True, default=str,
    )
    label = f"{service}:{method}" if rest else f"{service}:{action}"
    return key, label


class ReplayServer(BackgroundServer):
    """A threaded HTTP server on 127.0.0.1 that records (forwarding upstream) or replays."""

    def __init__(
        self, upstream: str | None = None, *, port: int = 0, latency_ms: float = 0, throttle_rate: float = 0,
        seed: int = 10,
    ):
        if upstream is not None:
            host = urlsplit(upstream).hostname
            if host not in (LOOPBACK, "localhost"):
                raise ValueError(f"the replay server forwards to loopback only, not {host!r}")
        self.upstream = upstream
        self.mode = RECORD if upstream else REPLAY
        self.latency_ms = latency_ms
        self.latency_by_service: dict[str, float] = {}  # e.g. {"s3": 0}: what-if experiments
        self.throttle_rate = throttle_rate
        self._rng = random.Random(seed)
        self.answers: dict[str, Answer] = {}
        self.stats = ReplayStats()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._port = port
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ReplayServer:
        server = ThreadingHTTPServer((LOOPBACK, self._port), _handler_for(self), bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 256  # a pool of workers opens its connections at once
        server.allow_reuse_address = True
        server.server_bind()
        server.server_activate()
        self._serve_in_background(server, "aws-replay")
        return self

    def replay(
        self, latency_ms: float | None = None, throttle_rate: float | None = None, seed: int | None = None
    ) -> None:
        """Stop recording: from now on answer from memory only (``throttle_rate`` of them throttled)."""
        self.mode = REPLAY
        if latency_ms is not None:
            self.latency_ms = latency_ms
        if throttle_rate is not None:
            self.throttle_rate = throttle_rate
        if seed is not None:
            with self._lock:
                self._rng = random.Random(seed)

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ReplayStats()

    def save(self, path: str) -> None:
        """Keep a recording on disk (pickle of this process's own data: load only files you wrote)."""
        import pickle

        with open(path, "wb") as fh:
            pickle.dump(self.answers, fh)

    def load(self, path: str) -> ReplayServer:
        import pickle

        with open(path, "rb") as fh:
            self.answers = pickle.load(fh)  # noqa: S301 - a file this module wrote
        self.mode = REPLAY
        return self

    def response_bytes(self) -> int:
        return sum(len(a.body) for a in self.answers.values())

    # -- one request ---------------------------------------------------------------------------
    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        key, label = request_key(method, path, headers, body)
        with self._lock:
            self.stats.requests += 1
            self.stats.by_action[label] = self.stats.by_action.get(label, 0) + 1
        if self.mode == RECORD:
            answer = self._forward(method, path, headers, body)
            with self._lock:
                self.answers.setdefault(key, answer)
                self.stats.recorded += 1
            return answer
        latency = self.latency_by_service.get(label.split(":", 1)[0], self.latency_ms)
        if latency:
            time.sleep(latency / 1000)  # on this request's own thread: calls overlap
        with self._lock:
            throttled = bool(self.throttle_rate) and self._rng.random() < self.throttle_rate
            if throttled:
                self.stats.throttled += 1
                self.stats.throttled_by_action[label] = self.stats.throttled_by_action.get(label, 0) + 1
        if throttled:
            return _throttled(label)
        answer = self.recalled(self.answers, key)
        if answer is None:
            return _miss(key, headers)
        if label == "sts:AssumeRole":
            return _fresh_session(answer)
        return answer

    def recalled(self, book: dict[str, Answer], key: str) -> Answer | None:
        """The recorded answer to ``key`` in ``book``, counted as replayed or missed."""
        answer = book.get(key)
        with self._lock:
            if answer is None:
                self.stats.misses += 1
                self.stats.missed_keys.append(key)
            else:
                self.stats.replayed += 1
        return answer

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        assert self.upstream is not None
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            split = urlsplit(self.upstream)
            conn = http.client.HTTPConnection(split.hostname or LOOPBACK, split.port or 80, timeout=300)
            self._local.conn = conn
        send = {k: v for k, v in headers.items() if k not in _HOP_HEADERS}
        send["content-length"] = str(len(body))
        try:
            conn.request(method, path, body=body, headers=send)
            response = conn.getresponse()
        except (http.client.HTTPException, OSError):  # a dropped keep-alive connection: retry once
            conn.close()
            conn.request(method, path, body=body, headers=send)
            response = conn.getresponse()
        payload = response.read()
        kept = tuple((k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS)
        return Answer(response.status, kept, payload)


def _miss(key: str, headers: dict[str, str]) -> Answer:
    """HTTP 599 ReplayMiss, in an error format the client's protocol parser understands."""
    message = f"not recorded: {key}".replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    ctype = headers.get("content-type", "")
    if "x-amz-target" in headers or "json" in ctype or "cbor" in ctype:
        payload = json.dumps({"__type": "ReplayMiss", "message": f"not recorded: {key}"}).encode()
        return Answer(599, (("Content-Type", "application/x-amz-json-1.1"),), payload)
    if "x-www-form-urlencoded" in ctype and "/ec2/" in headers.get("authorization", ""):
        error = f"<Error><Code>ReplayMiss</Code><Message>{message}</Message></Error>"
        body = f"<Response><Errors>{error}</Errors></Response>"
    elif "x-www-form-urlencoded" in ctype:
        body = f"<ErrorResponse><Error><Code>ReplayMiss</Code><Message>{message}</Message></Error></ErrorResponse>"
    else:
        body = f"<Error><Code>ReplayMiss</Code><Message>{message}</Message></Error>"
    return Answer(599, (("Content-Type", "text/xml"),), body.encode())


_EXPIRATION_RE = re.compile(rb"<Expiration>[^<]+</Expiration>")


def _fresh_session(answer: Answer) -> Answer:
    """A recorded AssumeRole answer with its session valid for an hour from now, as STS would issue
    it today: the scanner renews a session before its recorded expiry, which may have passed."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)).encode()
    return Answer(answer.status, answer.headers, _EXPIRATION_RE.sub(b"<Expiration>" + stamp + b"</Expiration>",
                                                                     answer.body))


def _throttled(label: str) -> Answer:
    """AWS's throttling answer for the request's protocol (the local AWS front's own error shapes)."""
    from finops.sandbox.front import error_response

    service, _, action = label.partition(":")
    status, headers, payload = error_response(_SIGNING_TO_SERVICE.get(service, service), action, "Throttling")
    return Answer(status, tuple((k, v) for k, v in headers if k.lower() not in _HOP_HEADERS), payload)


def _handler_for(replay: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pools expect

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = replay.answer(self.command, self.path, headers, body)
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            # Headers and body in one write: two writes meet Nagle's algorithm and the client's
            # delayed ACK, which costs ~40 ms per response and would swamp the latency knob.
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(answer.body)
            self.flush_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return None

    return Handler

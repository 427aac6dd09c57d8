"""The read-only guard: AWS clients that can only send operations on an explicit allow-list.

Every AWS client the product uses comes from one factory, ``GuardedSession`` (``guarded_session``
below); nothing else may sign with a customer's credentials. The guard refuses, before anything
is signed or sent:

- on ``before-call``: an operation not on the allow-list (the request is never built);
- on ``before-sign``: the same check again, which is the one presigning meets
  (``generate_presigned_url``, ``generate_presigned_post``, RDS ``generate_db_auth_token`` sign
  without a ``before-call``), plus any presigned signature at all, whatever the operation: the
  scanner never needs a URL that carries the customer's signature out of the process;
- any client of the session that the factory did not create (e.g. ``session._session.create_client``);
- handing out the session's credentials (``get_credentials()`` raises), and, process-wide, any
  signature made with a customer session's access key by a client the factory did not create
  (credentials dug out of a client and given to a fresh ``boto3.client``). That last check wraps
  botocore's ``RequestSigner.sign`` once per process; it looks only at signers holding an access
  key id a customer session was issued (ids only: no secret is kept), so other sessions of the
  process (tests seeding the local AWS) are untouched.

The allow-list is explicit (no prefix matching): adding a collector means adding its operations
here, and a test checks the list equals what the collectors, cost readers and the scan declare.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.client
import botocore.endpoint
import botocore.hooks
import botocore.regions
import botocore.session
from botocore.httpsession import URLLib3Session
from botocore.signers import RequestSigner

from finops.errors import ReadOnlyViolation

log = logging.getLogger(__name__)

# botocore service name -> operation names the scanner may send through the customer's role.
# Exactly what the code calls: collectors' ``operations``, ``finops.cost.COST_READS`` and
# ``finops.scan.SCAN_READS`` (tests/test_iam.py compares both ways).
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity"}),
    "organizations": frozenset({"DescribeOrganization", "ListAccounts"}),
    "ec2": frozenset({
        "DescribeRegions", "DescribeInstances", "DescribeVolumes", "DescribeSnapshots", "DescribeImages",
        "DescribeAddresses", "DescribeNatGateways", "DescribeReservedInstances",
    }),
    "rds": frozenset({
        "DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots", "DescribeDBClusterSnapshots",
        "DescribeReservedDBInstances",
    }),
    "ecs": frozenset({
        "ListClusters", "DescribeClusters", "ListServices", "DescribeServices", "DescribeTaskDefinition",
        "ListContainerInstances", "DescribeContainerInstances",
    }),
    "lambda": frozenset({"ListFunctions", "ListProvisionedConcurrencyConfigs"}),
    "s3": frozenset({
        "ListBuckets", "GetBucketLocation", "GetBucketLifecycleConfiguration",
        "ListBucketIntelligentTieringConfigurations", "GetBucketVersioning",
    }),
    "savingsplans": frozenset({"DescribeSavingsPlans"}),
    "cloudwatch": frozenset({"GetMetricData", "ListMetrics"}),
    "ce": frozenset({"GetCostAndUsage", "GetCostAndUsageWithResources"}),
    "cost-optimization-hub": frozenset({
        "ListEnrollmentStatuses", "ListRecommendations", "ListRecommendationSummaries", "GetPreferences",
    }),
}

# The scanner's own identity only ever assumes roles, asks who it is, and reads public list
# prices (``finops-pack prices refresh``).
SCANNER_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"AssumeRole", "GetCallerIdentity"}),
    "pricing": frozenset({"GetProducts"}),
}

# Signature versions botocore picks for presigning (``<version>-query``, ``<version>-presign-post``).
_PRESIGNED = ("-query", "-presign-post")

_blessed: weakref.WeakSet[RequestSigner] = weakref.WeakSet()  # signers of clients the factory made
_customer_keys: set[str] = set()  # access key ids of customer sessions (ids only, never secrets)
_signer_services: weakref.WeakKeyDictionary[RequestSigner, str] = weakref.WeakKeyDictionary()
_state_lock = threading.Lock()
_install_lock = threading.Lock()  # process-wide wrappers of botocore, installed once


def is_allowed(service: str, operation: str, allowed: dict[str, frozenset[str]]) -> bool:
    return operation in allowed.get(service, frozenset())


def _refuse(detail: str) -> None:
    log.error("read-only guard refused %s", detail)
    raise ReadOnlyViolation(f"refused {detail}")


def install_guard(session: Any, allowed: dict[str, frozenset[str]] = READ_OPERATIONS) -> None:
    """Attach the allow-list and client checks to a boto3 Session: every client made from it is
    covered. Product code never calls this: ``guarded_session`` does, and also blesses the
    clients it creates; a client it did not create is refused."""

    def refuse_unlisted(model: Any, request_signer: Any = None, **_: Any) -> None:
        service = model.service_model.service_name
        if request_signer is not None and request_signer not in _blessed:
            _refuse(f"{service}:{model.name}: client not created through the guarded session factory")
        if not is_allowed(service, model.name, allowed):
            _refuse(f"{service}:{model.name}: not on the read allow-list")

    def refuse_unlisted_signature(
        request_signer: Any = None, operation_name: str = "", signature_version: Any = "", **_: Any
    ) -> None:
        if request_signer is None or request_signer not in _blessed:
            _refuse(f"signing {operation_name}: client not created through the guarded session factory")
        service = _signer_services.get(request_signer, "?")
        if str(signature_version).endswith(_PRESIGNED):
            _refuse(f"presigning {service}:{operation_name}: the scanner never presigns")
        if not is_allowed(service, operation_name, allowed):
            _refuse(f"signing {service}:{operation_name}: not on the read allow-list")

    session.events.register("before-call", refuse_unlisted, unique_id="finops-read-only-guard")
    session.events.register("before-sign", refuse_unlisted_signature, unique_id="finops-read-only-sign-guard")


_LOADER_LOCK = threading.Lock()
_loader: Any = None


def shared_loader() -> Any:
    """One botocore data loader for every session of this process, so its cache of parsed service
    models, endpoint rules and paginators is built once, not once per session (a scan makes a
    session per account and per role renewal: re-parsing botocore's JSON models cost a scan
    about 0.4 s of CPU). Its cache is a plain dict: two threads that miss at once parse the same
    model twice, and keep one."""
    global _loader
    with _LOADER_LOCK:
        if _loader is None:
            from botocore.loaders import create_loader

            _loader = create_loader()
        return _loader


_builtin_events: Any = None


class _SharedTrie(botocore.hooks._PrefixTrie):
    """botocore's registry of event handlers, whose copies share it until one of them changes.

    botocore copies its session's registry for every client it creates (a client's handlers are
    its own), node by node: about a third of the CPU of creating a guarded client; a scan creates
    17 per member account. Here a copy is the same tree under a new owner: each trie changes only
    nodes it owns (their ``owner`` is its token), and first copies the nodes on the path to a
    change that another trie may still see (path copying), their handler lists included. Copying
    takes ownership of every node away from both tries, so neither sees the other's later
    registrations, exactly as with botocore's copy. Lookups (``prefix_search``) are botocore's."""

    def __init__(self, root: dict[str, Any] | None = None):
        super().__init__()
        if root is not None:
            self._root = root
        self._token = object()

    def __copy__(self) -> _SharedTrie:
        self._token = object()  # what both see from now on, neither owns
        return _SharedTrie(self._root)

    def _own(self, node: dict[str, Any]) -> dict[str, Any]:
        if node.get("owner") is self._token:
            return node
        values = node["values"]
        return {"chunk": node["chunk"], "children": dict(node["children"]), "owner": self._token,
                "values": copy.copy(values) if values is not None else None}

    def _owned_path(self, parts: list[str], create: bool) -> None:
        """Make every node on ``parts``'s path this trie's own (created when ``create``)."""
        self._root = node = self._own(self._root)
        for part in parts:
            child = node["children"].get(part)
            if child is None:
                if not create:
                    return  # botocore's removal says the key is not there
                child = {"chunk": part, "values": None, "children": {}, "owner": self._token}
            else:
                child = self._own(child)
            node["children"][part] = child
            node = child

    def append_item(self, key: str, value: Any, section: int = botocore.hooks._MIDDLE) -> None:
        self._owned_path(key.split("."), create=True)
        super().append_item(key, value, section)

    def remove_item(self, key: str, value: Any) -> None:
        self._owned_path(key.split("."), create=False)
        super().remove_item(key, value)


class _GuardedEmitter(botocore.hooks.HierarchicalEmitter):
    """botocore's emitter, with a cheaper check of each handler a client registers: botocore asks
    ``inspect.getfullargspec`` whether it takes ``**kwargs`` (about 10 % of creating a client);
    for a function or a method, its code's flags say the same."""

    def _verify_accept_kwargs(self, func: Any) -> Any:
        target = func.__func__ if isinstance(func, types.MethodType) else func
        if isinstance(target, types.FunctionType) and target.__code__.co_flags & inspect.CO_VARKEYWORDS:
            return None
        return super()._verify_accept_kwargs(func)  # refuses, or another kind of callable


def _copy_of_builtin_events() -> Any:
    """A copy of an event emitter holding botocore's built-in handlers, registered once per
    process. botocore registers its ~120 handlers anew for every session, checking each one's
    signature (``inspect``): about 20 ms of CPU per session, and a scan makes at least two. The
    handlers are module-level functions that hold no session state; a copy of the registry is
    what botocore itself gives each client (``_SharedTrie``: a copy shares what it has not changed)."""
    global _builtin_events
    with _LOADER_LOCK:
        if _builtin_events is None:
            emitter = botocore.session.Session()._original_handler  # that session is dropped
            emitter.__class__ = _GuardedEmitter
            emitter._handlers = _SharedTrie(emitter._handlers._root)
            emitter._lookup_cache = {}
            _builtin_events = emitter
        return copy.copy(_builtin_events)


class _SharedAliasCache(botocore.hooks.EventAliaser):
    """botocore's event-name aliaser, whose copies keep its cache. Every client works on a copy of
    its session's emitter, and botocore's copy starts with an empty cache: each client of a scan
    (17 per member account) worked out again, against every alias, each of the ~40 event names it
    registers and emits. An alias is a pure function of the name (botocore's fixed alias table), so
    every guarded emitter of the process shares one cache."""

    _cache: dict[str, str] = {}

    def __copy__(self) -> _SharedAliasCache:
        twin = super().__copy__()
        twin._alias_name_cache = self._alias_name_cache
        return twin


_guarded_emitters: weakref.WeakSet[Any] = weakref.WeakSet()  # the event emitters of guarded sessions
# (ruleset, partitions, excluded parameters) -> (the two, their EndpointProvider)
_endpoint_providers: dict[tuple[int, int, frozenset[str]], tuple[Any, Any, Any]] = {}
_resolving = threading.local()  # set while a guarded client's endpoint resolver is built
_client_classes: dict[tuple[str, str], type] = {}  # (service, API version) -> client class
_service_models: dict[tuple[str, str | None], Any] = {}  # (service, API version asked) -> ServiceModel


_http_sessions: dict[tuple[Any, ...], URLLib3Session] = {}  # (endpoint, connection settings) -> pool
_http_lock = threading.Lock()


def _frozen(value: Any) -> Any:
    """A hashable equivalent of a connection setting (the dicts and lists of botocore's config)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _shared_http_session(endpoint_url: str, service: str, region: str | None) -> Callable[..., URLLib3Session]:
    """What botocore's ``EndpointCreator`` calls to make a guarded client's HTTP session: the
    process's one session (connection pool) for that endpoint, service and region, and those
    connection settings. Against AWS the endpoint names the service and region anyway; against
    one local endpoint for everything (tests, benchmarks) each service and region still gets
    its own pool, as large as the scan's limits expect (``client_config``).

    botocore gives every client its own pool, so each client opened its own connections, and a
    scan makes about 17 clients per account (one per service and region), dropped when the account
    is done. Over HTTPS each new connection is a TLS handshake plus a load of the whole CA bundle
    into the SSL context (urllib3 does both per connection). Clients of one endpoint now share its
    pool: across the accounts a worker scans one after another, and within a scan.

    A connection carries nothing of an account: every request is signed on its own, and the
    credentials stay in the client's signer. urllib3's pools are thread-safe, and a pool never
    sees more requests at once than its process's scans send to that endpoint (each scan bounded
    by ``finops.aws.limits``). A forked child starts with no shared pool (``os.register_at_fork``),
    so two processes never write to one socket."""

    def make(**settings: Any) -> URLLib3Session:
        key = (endpoint_url, service, region, _frozen(settings))
        with _http_lock:
            session = _http_sessions.get(key)
            if session is None:
                session = _http_sessions[key] = URLLib3Session(**settings)
            return session

    return make


def _forget_http_sessions() -> None:
    """In a forked child: the parent's pools (and their sockets) stay the parent's."""
    global _http_lock
    _http_lock = threading.Lock()  # another thread of the parent may have held it at the fork
    _http_sessions.clear()


os.register_at_fork(after_in_child=_forget_http_sessions)


def _install_client_caches() -> None:
    """Wrap two methods of botocore's ``ClientCreator`` once per process, so that a guarded
    session's client of a service reuses what the first one built (and ``EndpointCreator``'s, so
    that it shares its endpoint's connections: ``_shared_http_session``; and the endpoint
    resolver's, so that it shares the service's parsed endpoint rules, ``EndpointProvider``,
    whose evaluation works on a copy of its input and caches each answer: 12 % of creating a
    client):

    - its class: botocore builds it anew for every client, a function and a docstring for each
      of the service's operations (EC2 has about 750): about 4 ms of CPU per client, a fifth of
      a scan's;
    - its ``ServiceModel``: built anew too, so every client walked every operation again to find
      the endpoint-discovery one, and re-created the operation models it used.

    Neither holds anything of a session or its credentials: a class's methods call
    ``self._make_api_call``, a service model is the parsed API description. What they depend on,
    the service's model and the handlers of the ``creating-client-class`` event, is the same for
    every guarded session (botocore's and boto3's built-in handlers; the guard registers none
    there). The guard itself is per client and unchanged: its ``before-call`` and
    ``before-sign`` checks live in each session's events, and every client's signer is still
    blessed one by one. Sessions not made by ``guarded_session`` are untouched.
    """
    with _install_lock:
        create_class = botocore.client.ClientCreator._create_client_class
        if getattr(create_class, "_finops_cached", False):
            return
        load_model = botocore.client.ClientCreator._load_service_model

        def create_client_class(self: Any, service_name: str, service_model: Any) -> type:
            if self._event_emitter not in _guarded_emitters:
                return create_class(self, service_name, service_model)
            key = (service_name, service_model.api_version)
            cls = _client_classes.get(key)
            if cls is None:  # two threads may both build it: one is kept
                cls = _client_classes.setdefault(key, create_class(self, service_name, service_model))
            return cls

        def load_service_model(self: Any, service_name: str, api_version: str | None = None) -> Any:
            if self._event_emitter not in _guarded_emitters:
                return load_model(self, service_name, api_version)
            key = (service_name, api_version)
            model = _service_models.get(key)
            if model is None:
                model = _service_models.setdefault(key, load_model(self, service_name, api_version))
            return model

        create_endpoint = botocore.endpoint.EndpointCreator.create_endpoint

        def create_shared_endpoint(self: Any, service_model: Any, region_name: str, endpoint_url: str,
                                   *args: Any, **kwargs: Any) -> Any:
            # A guarded client's emitter is a copy of its session's: the class tells it apart.
            if isinstance(self._event_emitter, _SharedAliasCache) and "http_session_cls" not in kwargs:
                kwargs["http_session_cls"] = _shared_http_session(
                    endpoint_url, service_model.endpoint_prefix, region_name)
            return create_endpoint(self, service_model, region_name, endpoint_url, *args, **kwargs)

        make_provider = botocore.regions.EndpointProvider
        init_resolver = botocore.regions.EndpointRulesetResolver.__init__

        def endpoint_provider(ruleset_data: Any, partition_data: Any, excluded_params: Any = None) -> Any:
            if not getattr(_resolving, "guarded", False):
                return make_provider(ruleset_data, partition_data, excluded_params)
            key = (id(ruleset_data), id(partition_data), frozenset(excluded_params or ()))
            entry = _endpoint_providers.get(key)
            if entry is None:  # the data is the shared loader's, kept here so that its id stays its own
                entry = _endpoint_providers.setdefault(
                    key, (ruleset_data, partition_data, make_provider(ruleset_data, partition_data, excluded_params)))
            return entry[2]

        def init_shared_resolver(self: Any, *args: Any, **kwargs: Any) -> None:
            emitter = kwargs["event_emitter"] if "event_emitter" in kwargs else args[5] if len(args) > 5 else None
            _resolving.guarded = isinstance(emitter, _SharedAliasCache)
            try:
                init_resolver(self, *args, **kwargs)
            finally:
                _resolving.guarded = False

        botocore.regions.EndpointProvider = endpoint_provider  # type: ignore[misc,assignment]
        botocore.regions.EndpointRulesetResolver.__init__ = init_shared_resolver  # type: ignore[method-assign]
        create_client_class._finops_cached = True  # type: ignore[attr-defined]
        botocore.endpoint.EndpointCreator.create_endpoint = create_shared_endpoint  # type: ignore[method-assign]
        botocore.client.ClientCreator._create_client_class = create_client_class  # type: ignore[method-assign]
        botocore.client.ClientCreator._load_service_model = load_service_model  # type: ignore[method-assign]


class _GuardedCore(botocore.session.Session):
    """botocore's session, whose credentials only its own client creation may read."""

    def __init__(self) -> None:
        super().__init__(event_hooks=_copy_of_builtin_events(), include_builtin_handlers=False)
        # The same aliaser (botocore registered it as the "event_emitter" component), with one cache.
        self._events.__class__ = _SharedAliasCache
        self._events._alias_name_cache = _SharedAliasCache._cache
        self.register_component("data_loader", shared_loader())
        _install_client_caches()
        _guarded_emitters.add(self._events)
        self._creating = threading.local()

    @contextmanager
    def creating_client(self) -> Iterator[None]:
        self._creating.active = True
        try:
            yield
        finally:
            self._creating.active = False

    def get_credentials(self) -> Any:
        if not getattr(self._creating, "active", False):
            _refuse("get_credentials(): credentials never leave the guarded session")
        return super().get_credentials()


class GuardedSession(boto3.Session):
    """A boto3 Session whose clients are guarded (see the module docstring), made only by
    ``guarded_session``. ``client_hooks`` run on every client it creates (per-client limits)."""

    def __init__(self, core: _GuardedCore, allowed: dict[str, frozenset[str]], region_name: str | None,
                 client_hooks: tuple[Callable[[Any], None], ...]):
        super().__init__(botocore_session=core, region_name=region_name)
        self._core = core
        self._client_hooks = client_hooks
        install_guard(self, allowed)

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        with self._core.creating_client():
            client = super().client(*args, **kwargs)
        signer = client._request_signer  # botocore keeps it private; the guard needs its identity
        with _state_lock:
            _blessed.add(signer)
            _signer_services[signer] = client.meta.service_model.service_name
        for hook in self._client_hooks:
            hook(client)
        return client

    def resource(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _refuse("resource(): the scanner uses clients only")

    def get_credentials(self) -> Any:
        _refuse("get_credentials(): credentials never leave the guarded session")


def guarded_session(
    allowed: dict[str, frozenset[str]],
    *,
    credentials: Any = None,
    region_name: str | None = None,
    client_hooks: tuple[Callable[[Any], None], ...] = (),
    configure: Callable[[botocore.session.Session], None] | None = None,
) -> GuardedSession:
    """The one factory for AWS sessions: the environment's identity, or ``credentials`` (a botocore
    Credentials or RefreshableCredentials object, e.g. a customer role's), guarded by ``allowed``.

    Access key ids noted with ``register_customer_key`` (every key STS issues a customer session,
    refreshes included) may sign only through clients this factory made.
    """
    core = _GuardedCore()
    if configure is not None:
        configure(core)
    if credentials is not None:
        from botocore.credentials import CredentialProvider, CredentialResolver

        class _Given(CredentialProvider):
            METHOD = "finops-guarded"

            def load(self) -> Any:
                return credentials

        core.register_component("credential_provider", CredentialResolver(providers=[_Given()]))
        _install_signing_check()
    return GuardedSession(core, allowed, region_name, client_hooks)


def register_customer_key(access_key_id: str) -> None:
    """Note a customer session's access key id (called again after every refresh)."""
    with _state_lock:
        _customer_keys.add(access_key_id)


def _install_signing_check() -> None:
    """Wrap ``RequestSigner.sign`` once per process: a customer access key signs only through a
    client the factory created (presigning included: it goes through ``sign`` too)."""
    with _install_lock:
        original = RequestSigner.sign
        if getattr(original, "_finops_guarded", False):
            return

        def sign(self: RequestSigner, operation_name: str, request: Any, *args: Any, **kwargs: Any) -> Any:
            if self not in _blessed and _customer_keys:
                credentials = getattr(self, "_credentials", None)
                frozen = credentials.get_frozen_credentials() if credentials is not None else None
                if frozen is not None and frozen.access_key in _customer_keys:
                    _refuse(f"signing {operation_name} with a customer's credentials outside the guarded session")
            return original(self, operation_name, request, *args, **kwargs)

        sign._finops_guarded = True  # type: ignore[attr-defined]
        RequestSigner.sign = sign  # type: ignore[method-assign]

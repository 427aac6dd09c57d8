"""Rate limits (Flask-Limiter), stored in the app's Redis so they hold across gunicorn workers and hosts.

The limiter is built per app in ``create_app`` and the limits below are applied to the views
there, so nothing is shared between apps. Keys never hold a token or an email address: a review
is keyed by its link's hash, a sign-in by the hash of the email typed. When Redis is down the
limits fall back to each process's memory (still limiting) and the request is answered as usual:
a storage error is never a 500.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from finops.config import Settings


def client_address() -> str:
    return f"ip:{get_remote_address()}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def review_link() -> str:
    """The review a wizard request is about, by its invitation link's hash (never the link itself)."""
    token = (request.view_args or {}).get("token", "")
    return f"review:{_digest(token)}"


def sign_in_email() -> str:
    return f"email:{_digest((request.form.get('email') or '').strip().lower())}"


def failed_sign_in(response: Response) -> bool:
    return response.status_code != 303  # a sign-in that worked redirects; one that failed re-renders


@dataclass(frozen=True)
class RouteLimit:
    value: str
    key: Callable[[], str]
    deduct_when: Callable[[Response], bool] | None = None
    methods: tuple[str, ...] = ("POST",)


ROUTE_LIMITS: dict[str, tuple[RouteLimit, ...]] = {
    # Failed sign-ins only: per address, and per account (a lockout that moves with the attacker's IPs).
    "auth.sign_in": (RouteLimit("10 per 15 minutes", client_address, failed_sign_in),
                     RouteLimit("5 per 15 minutes", sign_in_email, failed_sign_in)),
    "auth.set_password": (RouteLimit("10 per hour", client_address),),
    # FINOPS_PUBLIC_SIGNUP: the open "Start a review", per client address.
    "web.create_review": (RouteLimit("5 per hour", client_address),),
    # Test connection makes the scanner call sts:AssumeRole: per review and per client address.
    "web.connection_check": (RouteLimit("10 per 10 minutes", review_link), RouteLimit("30 per hour", client_address)),
    "web.submit_review": (RouteLimit("10 per hour", review_link), RouteLimit("30 per hour", client_address)),
    "web.delete_report": (RouteLimit("20 per hour", client_address),),
}

MESSAGES = {
    "auth.sign_in": "Too many failed sign-ins. For your security, sign-in is paused for this account and address: "
                    "wait 15 minutes and try again.",
    "auth.set_password": "Too many attempts. Wait an hour and try again, or ask for a new set-password link.",
    "web.create_review": "Too many reviews were started from your address. Wait an hour and try again.",
    "web.connection_check": "Too many connection tests for this review. Wait a few minutes, then test again.",
    "web.submit_review": "Too many scans were started for this review. Wait a while and try again.",
}
DEFAULT_MESSAGE = "Too many requests. Wait a few minutes and try again."


def storage_uri(settings: Settings) -> str:
    url = settings.redis_url
    if not url:
        return "memory://"
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]  # the embedded Redis's socket
    return url


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        client_address, app=app, storage_uri=storage_uri(settings),
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        strategy="moving-window", key_prefix="finops-limits", headers_enabled=True,
        swallow_errors=True, in_memory_fallback_enabled=True,
    )
    for endpoint, limits in ROUTE_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for each in limits:
            view = limiter.limit(each.value, key_func=each.key, deduct_when=each.deduct_when,
                                 methods=list(each.methods), scope=f"{endpoint}:{each.value}")(view)
        app.view_functions[endpoint] = view
    return limiter


def message_for(endpoint: str | None) -> str:
    return MESSAGES.get(endpoint or "", DEFAULT_MESSAGE)

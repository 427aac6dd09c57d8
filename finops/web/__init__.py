"""Flask application factory. Nothing is created at import time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from finops import __version__
from finops.config import Settings
from finops.db import connect, seconds_since, storage_error
from finops.errors import FinopsError, ReviewDeleted, ReviewExpired, ReviewNotFound, SignupClosed, StorageError
from finops.logs import setup_logging
from finops.money import display
from finops.report.cache import ReportCache

ROOT = Path(__file__).resolve().parents[2]  # the checkout: templates/ and static/ live here

Enqueue = Callable[[str, int], None]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def create_app(settings: Settings | None = None, *, enqueue: Enqueue | None = None) -> Flask:
    settings = (settings or Settings.from_env()).with_secret_key()
    setup_logging(settings.log_level)
    app = Flask(
        "finops",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    https = settings.base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        WTF_CSRF_TIME_LIMIT=None,  # the customer may spend hours creating the role
        SESSION_COOKIE_NAME="__Host-finops-session" if https else "finops-session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # an operator signs in again every working day
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if settings.trusted_proxies:
        # Behind a reverse proxy: the client address (rate limits) and scheme come from its headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.extensions["finops.settings"] = settings
    app.extensions["finops.enqueue"] = enqueue or _redis_enqueue(settings)
    app.extensions["finops.enqueue_connection_check"] = _redis_connection_check(settings)
    app.extensions["finops.report_cache"] = ReportCache()
    CSRFProtect(app)
    Htmx(app)
    connect(settings.db_path).close()  # create and migrate once, before the first request

    from finops.web.operator import blueprints
    from finops.web.views import bp

    app.register_blueprint(bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    _login_manager(app)

    from finops.web.limits import init_limiter, message_for

    init_limiter(app, settings)

    app.jinja_env.filters["usd"] = display
    app.jinja_env.filters["anchor"] = lambda value: "".join(c if c.isalnum() else "-" for c in str(value))
    app.jinja_env.globals["seconds_since"] = seconds_since

    @app.context_processor
    def inject() -> dict:
        return {"settings": settings, "version": __version__, "operator": current_user}

    @app.after_request
    def secure_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # capability URLs stay private
        if not response.headers.get("Cache-Control"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.errorhandler(ReviewNotFound)
    @app.errorhandler(404)
    def not_found(_error: Exception):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", title="Not found", message=ReviewNotFound.customer_message), 404

    @app.errorhandler(ReviewExpired)
    @app.errorhandler(ReviewDeleted)
    def gone(error: FinopsError):  # type: ignore[no-untyped-def]
        title = "This review has expired" if isinstance(error, ReviewExpired) else "This review was deleted"
        page = render_template("errors/gone.html", title=title, message=error.customer_message)
        headers = {"HX-Refresh": "true"} if request.headers.get("HX-Request") == "true" else {}
        return page, 410, headers

    @app.errorhandler(SignupClosed)
    def signup_closed(error: SignupClosed):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", title="By invitation", message=error.customer_message), 403

    @app.errorhandler(TooManyRequests)
    def too_many(error: TooManyRequests):  # type: ignore[no-untyped-def]
        message = message_for(request.endpoint)
        if request.headers.get("HX-Request") == "true":
            from finops.aws.connection import ConnectionResult

            result = ConnectionResult(False, "rate_limited", message)
            return render_template("reviews/_connection_result.html", result=result), 429
        return render_template("errors/error.html", title="Please wait", message=message), 429

    @app.errorhandler(CSRFError)
    def csrf_error(_error: Exception):  # type: ignore[no-untyped-def]
        message = "Your form expired or came from another page. Reload the page and submit it again."
        return render_template("errors/error.html", title="Please try again", message=message), 400

    @app.errorhandler(FinopsError)
    def finops_error(error: FinopsError):  # type: ignore[no-untyped-def]
        page = render_template("errors/error.html", title="Something needs attention", message=error.customer_message)
        return page, 503 if isinstance(error, StorageError) else 400

    @app.errorhandler(sqlite3.OperationalError)
    def storage_refused(error: sqlite3.OperationalError):  # type: ignore[no-untyped-def]
        """A write outside a transaction (a heartbeat reap, a step) that SQLite refused."""
        typed = storage_error(error) or FinopsError(f"sqlite: {error}")
        page = render_template("errors/error.html", title="Something needs attention", message=typed.customer_message)
        return page, 503

    return app


def _login_manager(app: Flask) -> None:
    from finops import operators

    manager = LoginManager(app)
    manager.login_view = "auth.sign_in"
    manager.login_message = "Sign in to see this page."
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def load_operator(session_id: str):  # type: ignore[no-untyped-def]
        from finops.web.views import db

        return operators.load(db(), session_id)

    @manager.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        from flask import redirect, url_for

        target = url_for("auth.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def _redis_connection_check(settings: Settings) -> Callable[[str], None]:
    def enqueue(check_id: str) -> None:
        from finops.queue import enqueue_connection_check

        enqueue_connection_check(settings, check_id)

    return enqueue


def _redis_enqueue(settings: Settings) -> Enqueue:
    def enqueue(review_id: str, attempt: int) -> None:
        from finops.queue import enqueue_review

        enqueue_review(settings, review_id, attempt)

    return enqueue

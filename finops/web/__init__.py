"""Flask application factory. Nothing is created at import time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx

from finops import __version__
from finops.config import Settings
from finops.db import connect, seconds_since, storage_error
from finops.errors import FinopsError, ReviewNotFound, StorageError
from finops.logs import setup_logging
from finops.money import display

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
    app.config.update(
        SECRET_KEY=settings.secret_key,
        WTF_CSRF_TIME_LIMIT=None,  # the customer may spend hours creating the role
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["finops.settings"] = settings
    app.extensions["finops.enqueue"] = enqueue or _redis_enqueue(settings)
    CSRFProtect(app)
    Htmx(app)
    connect(settings.db_path).close()  # create and migrate once, before the first request

    from finops.web.views import bp

    app.register_blueprint(bp)

    app.jinja_env.filters["usd"] = display
    app.jinja_env.globals["seconds_since"] = seconds_since

    @app.context_processor
    def inject() -> dict:
        return {"settings": settings, "version": __version__}

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


def _redis_enqueue(settings: Settings) -> Enqueue:
    def enqueue(review_id: str, attempt: int) -> None:
        from finops.queue import enqueue_review

        enqueue_review(settings, review_id, attempt)

    return enqueue

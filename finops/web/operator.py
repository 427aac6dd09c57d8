"""The consultant's side: sign-in, the dashboard, invitations, notes, rescans and deletions.

Every page here needs a signed-in operator (Flask-Login); a visitor is sent to the sign-in page.
Views parse input, call ``finops.*`` and render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from finops import connection_checks, links, mail, notes, operators, reviews
from finops import dashboard as listing
from finops.errors import FinopsError, ReviewNotFound
from finops.models import ACTIVE_STATUSES
from finops.queue import liveness
from finops.report.loader import account_summaries, review_accounts
from finops.report.render_markdown import ACCOUNT_STATUS_WORDS
from finops.review_scope import ORGANIZATION
from finops.web.operator_forms import (
    ActionForm,
    FindingNoteForm,
    InviteForm,
    SetPasswordForm,
    SignInForm,
    SummaryForm,
)
from finops.web.views import db, group_rows, report_context, report_model, settings

auth = Blueprint("auth", __name__)
ops = Blueprint("ops", __name__, url_prefix="/dashboard")
blueprints = (auth, ops)


@ops.before_request
@login_required
def _operators_only() -> None:
    """Every dashboard route: signed-in operators only (others go to the sign-in page)."""


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target:
        return url_for("ops.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("ops.dashboard")
    return target


# -- signing in -------------------------------------------------------------------------------------
@auth.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        operator = operators.authenticate(db(), form.email.data or "", form.password.data or "")
        if operator is not None:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session (and CSRF token) at every sign-in: nothing carried over
            login_user(operator)
            session.permanent = True
            return redirect(next_url, code=303)
        error = "That email and password do not match an operator account."
    status = 401 if request.method == "POST" else 200
    return render_template("operator/sign_in.html", form=form, error=error), status


@auth.post("/sign-out")
def sign_out() -> Any:
    ActionForm().validate_on_submit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"), code=303)


@auth.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Any:
    operator = operators.by_set_password_token(db(), token)
    if operator is None:
        return render_template("errors/error.html", title="This link does not work", message=(
            "This set-password link has expired or was already used. Ask for a new one: "
            "finops-pack operator add EMAIL prints it.")), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        operator = operators.set_password(db(), operator.id, form.password.data or "")
        session.clear()
        login_user(operator)
        session.permanent = True
        flash("Your password is set. Welcome to FinOps Pack.", "info")
        return redirect(url_for("ops.dashboard"), code=303)
    return render_template("operator/set_password.html", form=form, email=operator.email), (
        400 if request.method == "POST" else 200)


# -- the dashboard ------------------------------------------------------------------------------------
@ops.get("/")
def dashboard() -> Any:
    query = listing.Query.from_args(request.args)
    return render_template(
        "operator/dashboard.html", rows=listing.list_reviews(db(), query), query=query,
        invite=InviteForm(), action=ActionForm(), deletions=reviews.deletions(db(), limit=10),
        sorts=listing.SORTS, statuses=listing.STATUS_FILTERS, mail_words=mail.STATUS_WORDS,
    )


@ops.get("/reviews/<review_id>/row")
def review_row(review_id: str) -> Any:
    """HTMX: one dashboard row, polled while its scan is queued or running."""
    try:
        reviews.live_review(db(), review_id)  # expired: 410 (and the dashboard reloads without it)
    except ReviewNotFound:
        return "", 286  # deleted: stop polling
    rows = [r for r in listing.list_reviews(db()) if r["id"] == review_id]
    if not rows:
        return "", 286  # gone (expired or deleted): stop polling
    return render_template("operator/_row.html", row=rows[0], action=ActionForm(), mail_words=mail.STATUS_WORDS)


@ops.post("/invitations")
def create_invitation() -> Any:
    form = InviteForm()
    if not form.validate_on_submit():
        query = listing.Query()
        return render_template(
            "operator/dashboard.html", rows=listing.list_reviews(db(), query), query=query, invite=form,
            action=ActionForm(), deletions=reviews.deletions(db(), limit=10), sorts=listing.SORTS,
            statuses=listing.STATUS_FILTERS, mail_words=mail.STATUS_WORDS, invite_open=True,
        ), 400
    review, _ = reviews.create_invitation(
        db(), settings(), company=form.company.data or "", email=form.contact_email.data or "",
        name=form.contact_name.data or "", note=form.note.data, operator_id=current_user.id,
    )
    flash("Invitation created. Copy the link below and send it to your customer: it opens their review's wizard.",
          "created")
    return redirect(url_for("ops.review", review_id=review["id"]), code=303)


def _review(review_id: str) -> dict:
    """A live review (an expired one answers 410 here too, before any purge)."""
    return reviews.reap_if_stale(db(), reviews.live_review(db(), review_id), settings(), alive=liveness(settings()))


@ops.get("/reviews/<review_id>")
def review(review_id: str) -> Any:
    row = _review(review_id)
    return render_template(
        "operator/review.html", **_review_context(row),
        summary_form=SummaryForm(data={"summary": row["summary_md"] or "", "note": row["operator_note"] or ""}),
    )


@ops.get("/reviews/<review_id>/scan")
def review_scan(review_id: str) -> Any:
    """HTMX: the review page's scan card, polled while its scan is queued or running, with the status
    badge and the links card out of band (the report link appears when the scan completes)."""
    try:
        row = _review(review_id)
    except ReviewNotFound:
        return "", 286  # deleted meanwhile: stop polling
    context = _review_context(row)
    return "".join([
        render_template("operator/_review_scan.html", **context),
        render_template("operator/_review_badge.html", **context, oob=True),
        *(render_template(f"operator/_review_{part}.html", **context, oob=True)
          for part in ("links", "facts", "email", "accounts")),
    ])


def _review_context(row: dict) -> dict[str, Any]:
    """What the review page's status badge, links, email and scan cards show."""
    config = settings()
    review_id = row["id"]
    latest = mail.latest(db(), review_id)
    finished = row["status"] in ("complete", "partial")
    return {
        "review": row, "action": ActionForm(),
        "invitation_url": links.invitation_url(config, row),
        "report_url": links.report_url(config, row) if finished else None,
        "steps": reviews.steps(db(), review_id), "active": row["status"] in ACTIVE_STATUSES,
        "mail_row": latest,
        "mail_sentence": mail.status_sentence(latest, config) if finished or latest else None,
        "checks": list(db().query("select * from connection_checks where review_id = ? order by created_at desc "
                                  "limit 3", [review_id])),
        "stalled": connection_checks.stalled,
        "operator_email": (operators.get(db(), row["operator_id"]) or {}).get("email") if row["operator_id"] else None,
        "accounts": account_summaries(review_accounts(db(), review_id)) if row["scope"] == ORGANIZATION else [],
        "account_words": ACCOUNT_STATUS_WORDS,
    }


@ops.get("/reviews/<review_id>/report")
def review_report(review_id: str) -> Any:
    """The report as the customer sees it, with a note editor under each finding."""
    row = _review(review_id)
    if row["status"] not in ("complete", "partial"):
        raise FinopsError("report not ready", customer_message="This review's report is not ready yet.")
    model = report_model(row)
    return render_template("reports/show.html",
                           **report_context(row, model, links.report_token(settings(), row), operator=True),
                           operator_view=True, note_form=FindingNoteForm())


@ops.get("/reviews/<review_id>/findings")
def review_findings(review_id: str) -> Any:
    """The operator's "Show more" under a group: the next findings, each with its note editor."""
    row = _review(review_id)
    if row["status"] not in ("complete", "partial"):
        raise FinopsError("report not ready", customer_message="This review's report is not ready yet.")

    account = request.args.get("account") or None

    def rows_url(category: str, action: str, offset: int) -> str:
        return url_for("ops.review_findings", review_id=review_id, category=category, action=action, offset=offset,
                       account=account)
    return group_rows(row, rows_url, url_for("ops.review_report", review_id=review_id, all=1, account=account),
                      operator=True)


@ops.post("/reviews/<review_id>/notes")
def save_notes(review_id: str) -> Any:
    _review(review_id)
    form = SummaryForm()
    if form.validate_on_submit():
        notes.set_summary(db(), review_id, form.summary.data or "")
        db().execute("update reviews set operator_note = ? where id = ?", [(form.note.data or "").strip() or None,
                                                                             review_id])
        flash("Notes saved. The summary appears at the top of the report, in its Markdown export and in the email.",
              "info")
    else:
        flash(" ".join(m for field in form for m in field.errors) or "The notes could not be saved.", "error")
    return redirect(url_for("ops.review", review_id=review_id) + "#notes", code=303)


@ops.post("/reviews/<review_id>/findings/<path:uid>/note")
def save_finding_note(review_id: str, uid: str) -> Any:
    _review(review_id)
    form = FindingNoteForm()
    if not list(db().query("select 1 from findings where review_id = ? and uid = ?", [review_id, uid])):
        abort(404)
    if form.validate_on_submit():
        notes.set_finding_note(db(), review_id, uid, form.body.data or "", current_user.email)
    # Every finding on the page (the one just noted may sit past its group's first few), at its note.
    return redirect(url_for("ops.review_report", review_id=review_id, all=1) + f"#note-{_anchor(uid)}", code=303)


def _anchor(uid: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in uid)


@ops.post("/reviews/<review_id>/rescan")
def rescan(review_id: str) -> Any:
    _review(review_id)
    ActionForm().validate_on_submit() or abort(400)
    try:
        reviews.rescan(db(), review_id, enqueue=current_app.extensions["finops.enqueue"])
        flash("Scan queued again with the same role and External ID. The report updates when it completes.", "info")
    except FinopsError as error:
        flash(error.customer_message, "error")
    return redirect(url_for("ops.review", review_id=review_id), code=303)


@ops.post("/reviews/<review_id>/delete")
def delete(review_id: str) -> Any:
    _review(review_id)
    ActionForm().validate_on_submit() or abort(400)
    reviews.delete_review(db(), review_id, reviews.by_operator(current_user.email))
    flash("The review was deleted with everything stored for it; its links now answer that it was deleted.", "info")
    return redirect(url_for("ops.dashboard"), code=303)


@ops.post("/reviews/<review_id>/links/<kind>")
def replace_link(review_id: str, kind: str) -> Any:
    _review(review_id)
    ActionForm().validate_on_submit() or abort(400)
    if kind not in (links.INVITATION, links.REPORT):
        abort(404)
    links.replace_link(db(), settings(), review_id, kind)
    flash(f"New {kind} link issued: the previous one no longer works. Copy the new one below.", "info")
    return redirect(url_for("ops.review", review_id=review_id), code=303)


@ops.post("/reviews/<review_id>/email")
def send_again(review_id: str) -> Any:
    _review(review_id)
    ActionForm().validate_on_submit() or abort(400)
    config = settings()
    message_id = mail.resend(db(), config, review_id)
    if message_id is None:
        flash("There is no report email to send again (mail is off, or the report is not ready).", "error")
    else:
        from finops.queue import enqueue_mail

        try:
            enqueue_mail(config, message_id, 0)
            flash("The report email is queued again.", "info")
        except Exception:  # noqa: BLE001 - the outbox keeps it queued; the worker loop sends it
            flash("The job queue is unavailable: the email stays queued and is sent when it is back.", "error")
    return redirect(url_for("ops.review", review_id=review_id), code=303)

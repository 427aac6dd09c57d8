"""Customer-facing pages. Views parse input, call ``finops.*`` and render: no SQL, no boto3."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, send_file, url_for
from flask_login import current_user
from htmx_flask import make_response, request

from finops import connection_checks, iam_policy, links, review_scope, reviews
from finops.aws.connection import ConnectionResult
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError, InvalidInput, QueueUnavailable, ReviewNotFound, ReviewStateError, SignupClosed
from finops.markup import render as render_note
from finops.models import ACTIVE_STATUSES, FINISHED_STATUSES
from finops.queue import liveness
from finops.report import (
    GROUP_PAGE,
    GROUP_PREVIEW,
    STATUS_WORDS,
    group_findings,
    groups,
    source_title,
    to_csv,
    to_json,
    to_markdown,
)
from finops.report.charts import category_bars, spend_chart
from finops.report.loader import account_summaries, review_accounts
from finops.report.organization import account_labels, narrowed
from finops.report.render_markdown import ACCOUNT_STATUS_WORDS, PLACEMENT_WORDS
from finops.review_scope import ORGANIZATION
from finops.web.forms import ConnectForm, ScopeForm, StartReviewForm, TestConnectionForm

bp = Blueprint("web", __name__)


def settings() -> Settings:
    return current_app.extensions["finops.settings"]


def db() -> Any:
    if "db" not in g:
        g.db = connect(settings().db_path, migrations=False, busy_timeout=settings().db_busy_timeout)
    return g.db


@bp.get("/healthz")
def healthz() -> dict:
    db().execute("select 1")
    return {"status": "ok"}


@bp.app_context_processor
def inject_removal() -> dict:
    """The removal commands, for the wizard, the security page and every report (the StackSet's
    for an organization review)."""
    return {"removal": {"cloudformation": iam_policy.cloudformation_remove_commands(),
                        "manual": iam_policy.manual_remove_commands(),
                        "stackset": iam_policy.stackset_remove_commands(),
                        "stack_name": iam_policy.STACK_NAME, "role_name": iam_policy.ROLE_NAME},
            "organization_scope": review_scope.ORGANIZATION}


@bp.get("/")
def index() -> Any:
    """Operators go to their dashboard; visitors see the open start page only with FINOPS_PUBLIC_SIGNUP."""
    if current_user.is_authenticated:
        return redirect(url_for("ops.dashboard"))
    if not settings().public_signup:
        return redirect(url_for("web.security"))
    return render_template("index.html", form=StartReviewForm())


@bp.get("/security")
def security() -> str:
    return render_template("wizard/security.html", form=StartReviewForm(), policy_json=iam_policy.policy_text(),
                           secret_reads=iam_policy.SECRET_BEARING_READS)


@bp.get(f"/iam/{iam_policy.TEMPLATE_FILE}")
def download_template() -> Response:
    return send_file(iam_policy.template_path(), mimetype="text/yaml", as_attachment=True,
                     download_name=iam_policy.TEMPLATE_FILE)


@bp.get(f"/iam/{iam_policy.POLICY_FILE}")
def download_policy() -> Response:
    return Response(iam_policy.policy_text(), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{iam_policy.POLICY_FILE}"'})


@bp.get(f"/iam/{iam_policy.STRICT_POLICY_FILE}")
def download_strict_policy() -> Response:
    return Response(iam_policy.policy_text(iam_policy.STRICT), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{iam_policy.STRICT_POLICY_FILE}"'})


@bp.get(f"/reviews/<token>/{iam_policy.TRUST_POLICY_DOWNLOAD}")
def download_trust_policy(token: str) -> Response:
    review = _load(token)
    principal = settings().scanner_principal_arn
    if not iam_policy.is_valid_scanner_principal(principal):
        raise FinopsError("scanner principal not configured", customer_message=SCANNER_NOT_CONFIGURED)
    return Response(iam_policy.trust_policy_text(principal or "", review["external_id"]), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{iam_policy.TRUST_POLICY_DOWNLOAD}"'})


SCANNER_NOT_CONFIGURED = (
    "The role commands are not available yet: this FinOps Pack deployment has no scanner principal configured. "
    "Your FinOps Pack contact will send you the commands."
)


def _wizard(review: dict) -> dict:
    """Everything the create-the-role step shows, filled in for this review and the permissions
    variant the customer picked (``?policy=strict``; anything else is the standard policy)."""
    config = settings()
    principal = config.scanner_principal_arn
    ready = iam_policy.is_valid_scanner_principal(principal)
    variant = iam_policy.STRICT if request.args.get("policy") == iam_policy.STRICT else iam_policy.STANDARD
    scope = review_scope.scope_of(review)
    context: dict[str, Any] = {
        "scope": scope, "organization": scope == review_scope.ORGANIZATION,
        "scope_form": ScopeForm(formdata=None, data={"scope": scope}),
        "principal": principal, "principal_ready": ready, "principal_set": bool(principal),
        "not_configured": SCANNER_NOT_CONFIGURED, "policy_json": iam_policy.policy_text(variant),
        "files": {"template": iam_policy.TEMPLATE_FILE, "policy": iam_policy.POLICY_FILES[variant],
                  "trust": iam_policy.TRUST_POLICY_DOWNLOAD},
        "variant": variant, "secret_reads": iam_policy.SECRET_BEARING_READS,
        "policy_download": url_for("web.download_strict_policy" if variant == iam_policy.STRICT
                                   else "web.download_policy"),
    }
    if ready:
        assert principal is not None
        context.update(
            commands=iam_policy.commands(review["external_id"], principal, variant),
            trust_policy=iam_policy.trust_policy_text(principal, review["external_id"]),
            quick_create_url=iam_policy.quick_create_url(config.template_url, review["external_id"], principal,
                                                         variant),
            stackset_commands=iam_policy.stackset_create_commands(review["external_id"], principal, variant),
        )
    return context


@bp.post("/reviews")
def create_review() -> Response:
    """The open "Start a review" (FINOPS_PUBLIC_SIGNUP only; rate-limited per client address)."""
    if not settings().public_signup:
        raise SignupClosed("public sign-up is off")
    form = StartReviewForm()
    if not form.validate_on_submit():
        return render_template("index.html", form=form), 400  # type: ignore[return-value]
    review = reviews.create_review(db(), settings())
    token = links.invitation_token(settings(), review)
    return redirect(url_for("web.show_review", token=token), code=303)  # type: ignore[return-value]


def _load(token: str) -> dict:
    """The review an invitation link opens, if it has not expired (ReviewExpired: 410)."""
    return reviews.reap_if_stale(db(), reviews.get_by_invitation(db(), token), settings(), alive=liveness(settings()))


# The wizard's URL is /reviews/<invitation token>. Before invitations it was /reviews/<review id>:
# migration 004 made each older review's id its invitation, so those links still open (until they
# expire), while a new review's id opens nothing without sign-in.
@bp.get("/reviews/<token>")
def show_review(token: str) -> Any:
    try:
        review = _load(token)
    except ReviewNotFound:
        if current_user.is_authenticated and list(db().query("select 1 from reviews where id = ?", [token])):
            return redirect(url_for("ops.review", review_id=token))  # an operator pasted a review id
        raise
    return _render_review(review, token, _connect_form(review))


def _connect_form(review: dict) -> ConnectForm:
    return ConnectForm(formdata=None, data={"external_id": review["external_id"], "role_arn": review["role_arn"] or "",
                             "contact_name": review["contact_name"] or "",
                             "contact_email": review["contact_email"] or "",
                             "contact_company": review["contact_company"] or ""})


def _render_review(review: dict, token: str, form: ConnectForm, error: str | None = None, status: int = 200,
                   scope_error: str | None = None) -> Any:
    return render_template(
        "reviews/show.html", review=review, token=token, form=form, error=error, scope_error=scope_error,
        steps=reviews.steps(db(), review["id"]), active=review["status"] in ACTIVE_STATUSES,
        accounts=_account_counts(review),
        wizard=_wizard(review),
    ), status


@bp.post("/reviews/<token>/scope")
def choose_scope(token: str) -> Any:
    """The wizard's "Just this account" / "My whole organization". A plain form post answered with a
    redirect to the wizard (no script needed); htmx follows it and swaps the steps that change."""
    review = _load(token)
    form = ScopeForm()
    if not form.validate_on_submit():
        return _render_review(review, token, _connect_form(review), scope_error=review_scope.CHOOSE, status=400)
    try:
        review_scope.set_scope(db(), review["id"], form.scope.data or "")
    except InvalidInput as error:  # a submitted review's ReviewStateError is the error page's sentence
        return _render_review(review, token, _connect_form(review), scope_error=error.customer_message, status=400)
    policy = iam_policy.STRICT if request.args.get("policy") == iam_policy.STRICT else None
    return redirect(url_for("web.show_review", token=token, policy=policy, _anchor="step-scope"), code=303)


def _refuse_finished(review: dict) -> None:
    if review["status"] in ("complete", "partial"):
        raise ReviewStateError(f"status {review['status']}", customer_message=(
            "This review has already finished. Open its report; your FinOps Pack contact can scan it again."))


@bp.post("/reviews/<token>/test-connection")
def connection_check(token: str) -> Any:
    """HTMX: queue a connection test (a worker assumes the role exactly as the scanner will); the
    answer fragment polls until the worker has written its sentence. The web tier never calls AWS."""
    review = _load(token)
    form = TestConnectionForm()
    if not form.validate_on_submit():
        errors = [message for field in (form.role_arn, form.external_id) for message in field.errors]
        result = ConnectionResult(False, "invalid_input", errors[0] if errors else "Fill in the role ARN first.")
        return render_template("reviews/_connection_result.html", result=result)
    try:
        _refuse_finished(review)
        connection_checks.validate(form.role_arn.data or "", form.external_id.data or "", review["external_id"])
        check_id = connection_checks.create(db(), review["id"], form.role_arn.data or "")
        try:
            current_app.extensions["finops.enqueue_connection_check"](check_id)
        except Exception:
            connection_checks.fail(db(), check_id, QueueUnavailable("enqueue failed"))
            raise QueueUnavailable("enqueue failed", customer_message=(
                "The connection could not be tested: the job queue is unavailable right now. Try again in a "
                "minute.")) from None
    except FinopsError as error:
        result = ConnectionResult(False, error.code, error.customer_message)
        return render_template("reviews/_connection_result.html", result=result)
    check = connection_checks.get(db(), review["id"], check_id)
    return render_template("reviews/_connection_result.html", check=check, token=token)


@bp.get("/reviews/<token>/test-connection/<check_id>")
def connection_check_result(token: str, check_id: str) -> Any:
    review = _load(token)
    check = connection_checks.get(db(), review["id"], check_id)
    if check["status"] == connection_checks.PENDING:
        return render_template("reviews/_connection_result.html", check=check, token=token,
                               stalled=connection_checks.stalled(check))
    result = ConnectionResult(bool(check["ok"]), check["code"], check["message"], check["account_id"])
    return render_template("reviews/_connection_result.html", result=result,
                           organization=connection_checks.details_of(check))


@bp.post("/reviews/<token>/scan")
def submit_review(token: str) -> Any:
    review = _load(token)
    review_id = review["id"]
    form = ConnectForm()
    if not form.validate_on_submit():
        return _render_review(review, token, form, status=400)
    try:
        reviews.submit(
            db(), review_id,
            role_arn=form.role_arn.data or "",
            external_id=form.external_id.data or "",
            contact=reviews.Contact(form.contact_name.data or "", form.contact_email.data or "",
                                    form.contact_company.data or ""),
            enqueue=current_app.extensions["finops.enqueue"],
        )
    except FinopsError as error:
        # Re-render with everything the customer typed, and one sentence saying what to fix.
        return _render_review(reviews.get_review(db(), review_id), token, form, error=error.customer_message,
                              status=400)
    return redirect(url_for("web.show_review", token=token), code=303)


@bp.get("/reviews/<token>/progress")
def review_progress(token: str) -> Any:
    review = _load(token)
    html = render_template(
        "reviews/_progress.html", review=review, token=token, steps=reviews.steps(db(), review["id"]),
        active=review["status"] in ACTIVE_STATUSES, accounts=_account_counts(review),
    )
    if request.htmx and review["status"] in FINISHED_STATUSES:
        # The scan just ended: reload the whole page so it shows the report link or the form again.
        return make_response(html, refresh=True)
    return html


@bp.get("/reviews/<token>/report")
def open_report(token: str) -> Any:
    """The customer's "Open your report": the report's own link (the one the email carries)."""
    review = _load(token)
    if review["status"] not in ("complete", "partial"):
        raise FinopsError("report not ready", customer_message="This report is not ready yet.")
    report_token = links.ensure_token(db(), settings(), review, links.REPORT)
    return redirect(url_for("web.report", token=report_token), code=303)


def _finished(token: str) -> dict:
    """The review behind a report link, when its report can be shown (a sentence otherwise)."""
    review = reviews.get_by_token(db(), token)
    if review["status"] in ACTIVE_STATUSES and review["finished_at"] is None and review["attempt"] > 1:
        raise FinopsError("rescanning", customer_message=(
            "This report is being updated: a new scan of the account is running. Reload in a few minutes."))
    if review["status"] not in ("complete", "partial"):
        raise FinopsError("report not ready", customer_message="This report is not ready yet.")
    return review


def _report(token: str) -> tuple[dict, dict]:
    review = _finished(token)
    return review, report_model(review)


def report_model(review: dict) -> dict:
    """The report model, shared by this process's requests while nothing in it has changed."""
    return current_app.extensions["finops.report_cache"].report(db(), review)


COH_PREVIEW = 25  # Cost Optimization Hub recommendations on the report page, the largest first


def show_all() -> bool:
    """``?all=1``: every finding of every group on the page (to print or save as PDF)."""
    return request.args.get("all") == "1"


def report_context(review: dict, model: dict, token: str | None, *, operator: bool = False) -> dict[str, Any]:
    """What reports/show.html needs, for the customer's link and the operator's view alike.

    Each group shows its largest GROUP_PREVIEW findings; the rest load on demand (``rows_url``),
    or all at once with ``?all=1`` (``full_url``), as do the COH recommendations past the largest
    COH_PREVIEW: a report of thousands of findings opens fast.
    """
    organization = model.get("scope") == ORGANIZATION
    account = selected_account(model)
    shown = narrowed(model, account)  # an organization's report narrowed to one account (?account=)
    finding_groups = groups(shown["findings"])
    preview = None if show_all() else GROUP_PREVIEW
    if operator:
        def rows_url(category: str, action: str, offset: int) -> str:
            return url_for("ops.review_findings", review_id=review["id"], category=category, action=action,
                           offset=offset, account=account)
        full_url = url_for("ops.review_report", review_id=review["id"], all=1, account=account)
        page_url = url_for("ops.review_report", review_id=review["id"])
    else:
        def rows_url(category: str, action: str, offset: int) -> str:
            return url_for("web.report_findings", token=token, category=category, action=action, offset=offset,
                           account=account)
        full_url = url_for("web.report", token=token, all=1, account=account)
        page_url = url_for("web.report", token=token)
    return {
        "review": review, "report": model, "token": token, "status_words": STATUS_WORDS,
        "source_title": source_title, "finding_groups": finding_groups, "preview": preview,
        "organization": organization, "account": account, "page_url": page_url,
        "account_names": account_labels(model.get("accounts") or []),
        "finding_account": {f["uid"]: f["account_id"] for f in model["findings"]} if organization else {},
        "shown": shown,
        "account_words": ACCOUNT_STATUS_WORDS,
        "truncated": preview is not None and (any(len(g["findings"]) > preview for g in finding_groups)
                                              or len(shown["recommendations"]["items"]) > COH_PREVIEW),
        "rows_url": rows_url, "full_url": full_url, "group_page": GROUP_PAGE, "coh_preview": COH_PREVIEW,
        "action_words": ACTION_WORDS, "role_words": ROLE_WORDS,
        "placement_words": PLACEMENT_WORDS, "render_note": render_note, "chart": spend_chart(model["spend"]),
        "category_bars": category_bars(model["executive_summary"]["by_category"]),
        "company": review["contact_company"] or "",
    }


def selected_account(model: dict) -> str | None:
    """``?account=``: one account of an organization's report (anything else: every account)."""
    wanted = request.args.get("account")
    accounts = {a["account_id"] for a in model.get("accounts") or []}
    return wanted if wanted and wanted in accounts else None


def group_rows(review: dict, rows_url: Any, full_url: str, *, operator: bool = False) -> str:
    """The next page of one group's findings, as table rows (the report's "Show more").

    In an organization's report, ``?account=`` keeps the page's account filter: the rows are that
    account's only, and each says its account."""
    category, action = request.args.get("category", ""), request.args.get("action", "")
    try:
        offset = max(int(request.args.get("offset", "0")), 0)
    except ValueError:
        offset = 0
    organization = review.get("scope") == ORGANIZATION
    names = account_labels(account_summaries(review_accounts(db(), review["id"]))) if organization else {}
    account = request.args.get("account") if request.args.get("account") in names else None
    rows, total = group_findings(db(), review["id"], category, action, offset, organization=organization,
                                 account_id=account)
    return render_template(
        "reports/_group_rows.html", review=review, findings=rows, category=category, action=action,
        offset=offset + len(rows), total=total, rows_url=rows_url, full_url=full_url, group_page=GROUP_PAGE,
        operator_view=operator, organization=organization, account_names=names,
        action_words=ACTION_WORDS, role_words=ROLE_WORDS, render_note=render_note,
    )


@bp.get("/r/<token>")
def report(token: str) -> str:
    review, model = _report(token)
    return render_template("reports/show.html", **report_context(review, model, token))


@bp.get("/r/<token>/findings")
def report_findings(token: str) -> str:
    review = _finished(token)

    account = request.args.get("account") or None

    def rows_url(category: str, action: str, offset: int) -> str:
        return url_for("web.report_findings", token=token, category=category, action=action, offset=offset,
                       account=account)
    return group_rows(review, rows_url, url_for("web.report", token=token, all=1, account=account))


ACTION_WORDS = {
    "Delete": "Delete", "Stop": "Stop", "Rightsize": "Rightsize", "Upgrade": "Upgrade",
    "MigrateToGraviton": "Move to Graviton", "ScaleIn": "Scale in", "PurchaseSavingsPlans": "Buy Savings Plans",
    "PurchaseReservedInstances": "Buy or renew Reserved Instances", "SetLifecyclePolicy": "Add a lifecycle rule",
}
ROLE_WORDS = {"current": "now", "recommended": "after", "note": "not counted"}


@bp.get("/r/<token>.json")
def report_json(token: str) -> Response:
    _, model = _report(token)
    return Response(to_json(model), mimetype="application/json")


@bp.get("/r/<token>.md")
def report_markdown(token: str) -> Response:
    review, model = _report(token)
    return Response(
        to_markdown(model), mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="finops-review-{model["account_id"]}.md"'},
    )


@bp.get("/r/<token>.csv")
def report_csv(token: str) -> Response:
    _, model = _report(token)
    return Response(
        to_csv(model), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="finops-review-{model["account_id"]}-findings.csv"'},
    )


@bp.post("/r/<token>/delete")
def delete_report(token: str) -> str:
    StartReviewForm().validate_on_submit() or _csrf_failed()
    review = reviews.get_by_token(db(), token)
    reviews.delete_review(db(), review["id"], reviews.BY_CUSTOMER)
    return render_template("errors/deleted.html")


def _csrf_failed() -> None:
    raise FinopsError("csrf", customer_message="Reload the page and try again.")


def _account_counts(review: dict) -> dict[str, int] | None:
    """An organization review's accounts by progress, for its progress panel."""
    return reviews.account_counts(db(), review["id"]) if review.get("scope") == ORGANIZATION else None

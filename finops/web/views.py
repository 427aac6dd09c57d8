"""Customer-facing pages. Views parse input, call ``finops.*`` and render: no SQL, no boto3."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, send_file, url_for
from htmx_flask import make_response, request

from finops import iam_policy, reviews
from finops.aws.connection import ConnectionResult, check_connection
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError
from finops.models import ACTIVE_STATUSES, FINISHED_STATUSES
from finops.report import STATUS_WORDS, build_report, groups, source_title, to_csv, to_json, to_markdown
from finops.report.render_markdown import PLACEMENT_WORDS
from finops.web.forms import ConnectForm, StartReviewForm, TestConnectionForm

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
    """The removal commands, for the wizard, the security page and every report."""
    return {"removal": {"cloudformation": iam_policy.cloudformation_remove_commands(),
                        "manual": iam_policy.manual_remove_commands(),
                        "stack_name": iam_policy.STACK_NAME, "role_name": iam_policy.ROLE_NAME}}


@bp.get("/")
def index() -> str:
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


@bp.get(f"/reviews/<review_id>/{iam_policy.TRUST_POLICY_DOWNLOAD}")
def download_trust_policy(review_id: str) -> Response:
    review = _load(review_id)
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
    context: dict[str, Any] = {
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
        )
    return context


@bp.post("/reviews")
def create_review() -> Response:
    form = StartReviewForm()
    if not form.validate_on_submit():
        return render_template("index.html", form=form), 400  # type: ignore[return-value]
    review = reviews.create_review(db(), settings())
    return redirect(url_for("web.show_review", review_id=review["id"]), code=303)  # type: ignore[return-value]


def _load(review_id: str) -> dict:
    return reviews.reap_if_stale(db(), reviews.get_review(db(), review_id), settings())


@bp.get("/reviews/<review_id>")
def show_review(review_id: str) -> str:
    review = _load(review_id)
    form = ConnectForm(data={"external_id": review["external_id"], "role_arn": review["role_arn"] or "",
                             "contact_name": review["contact_name"] or "",
                             "contact_email": review["contact_email"] or "",
                             "contact_company": review["contact_company"] or ""})
    return _render_review(review, form)


def _render_review(review: dict, form: ConnectForm, error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "reviews/show.html", review=review, form=form, error=error,
        steps=reviews.steps(db(), review["id"]), active=review["status"] in ACTIVE_STATUSES,
        wizard=_wizard(review),
    ), status


@bp.post("/reviews/<review_id>/test-connection")
def connection_check(review_id: str) -> Any:
    """HTMX: assume the role now, exactly as the scanner will, and answer in one sentence."""
    review = _load(review_id)
    form = TestConnectionForm()
    if form.validate_on_submit():
        result = check_connection(
            form.role_arn.data or "", form.external_id.data or "",
            review_external_id=review["external_id"], scanner_principal_arn=settings().scanner_principal_arn,
        )
    else:
        errors = [message for field in (form.role_arn, form.external_id) for message in field.errors]
        result = ConnectionResult(False, "invalid_input", errors[0] if errors else "Fill in the role ARN first.")
    # Always 200: the test ran and this is its answer (htmx does not swap error responses).
    return render_template("reviews/_connection_result.html", result=result)


@bp.post("/reviews/<review_id>/scan")
def submit_review(review_id: str) -> Any:
    review = _load(review_id)
    form = ConnectForm()
    if not form.validate_on_submit():
        return _render_review(review, form, status=400)
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
        return _render_review(reviews.get_review(db(), review_id), form, error=error.customer_message, status=400)
    return redirect(url_for("web.show_review", review_id=review_id), code=303)


@bp.get("/reviews/<review_id>/progress")
def review_progress(review_id: str) -> Any:
    review = _load(review_id)
    html = render_template(
        "reviews/_progress.html", review=review, steps=reviews.steps(db(), review_id),
        active=review["status"] in ACTIVE_STATUSES,
    )
    if request.htmx and review["status"] in FINISHED_STATUSES:
        # The scan just ended: reload the whole page so it shows the report link or the form again.
        return make_response(html, refresh=True)
    return html


def _report(token: str) -> tuple[dict, dict]:
    review = reviews.get_by_token(db(), token)
    if review["status"] not in ("complete", "partial"):
        raise FinopsError("report not ready", customer_message="This report is not ready yet.")
    return review, build_report(db(), review)


@bp.get("/r/<token>")
def report(token: str) -> str:
    review, model = _report(token)
    return render_template(
        "reports/show.html", review=review, report=model, status_words=STATUS_WORDS,
        source_title=source_title, groups=groups, action_words=ACTION_WORDS, role_words=ROLE_WORDS,
        placement_words=PLACEMENT_WORDS,
    )


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
    reviews.delete_review(db(), review["id"])
    return render_template("errors/error.html", title="Report deleted",
                           message="The report and everything stored for this review have been deleted.")


def _csrf_failed() -> None:
    raise FinopsError("csrf", customer_message="Reload the page and try again.")

"""Forms (flask-wtf, CSRF on every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from finops.validation import CONTROL_IN_TEXT_RE, CONTROL_RE, EMAIL_RE, control_sentence, email_problem

__all__ = ["EMAIL_RE"]


def no_control_characters(_form: FlaskForm, field: Field) -> None:
    """Refuse one-line text that carries control characters or line breaks, with a sentence."""
    if field.data and CONTROL_RE.search(str(field.data)):
        raise ValidationError(control_sentence(field.label.text))


def no_control_characters_in_text(_form: FlaskForm, field: Field) -> None:
    """Refuse multi-line text (notes) with control characters other than tab and line breaks."""
    if field.data and CONTROL_IN_TEXT_RE.search(str(field.data)):
        raise ValidationError(f"{field.label.text} cannot contain control characters.")


def email_address(_form: FlaskForm, field: Field) -> None:
    problem = email_problem(str(field.data or ""))
    if field.data and problem:
        raise ValidationError(problem)


class StartReviewForm(FlaskForm):
    """Only a CSRF token: starting a review needs no input."""


class ConnectForm(FlaskForm):
    role_arn = StringField(
        "Role ARN",
        validators=[DataRequired("Paste the RoleArn output of the finops-pack-readonly stack."), Length(max=2048),
                    no_control_characters],
        render_kw={"placeholder": "arn:aws:iam::123456789012:role/finops-pack-readonly", "spellcheck": "false",
                   "autocomplete": "off"},
    )
    external_id = StringField(
        "External ID",
        validators=[DataRequired("Paste this review's External ID."), Length(max=1224), no_control_characters],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    contact_name = StringField(
        "Your name",
        validators=[DataRequired("Tell us who to send the report to."),
                    Length(max=200, message="Your name can be at most 200 characters."), no_control_characters],
    )
    contact_email = EmailField(
        "Work email",
        validators=[DataRequired("An email address is needed for the report link."), email_address],
    )
    contact_company = StringField(
        "Company", validators=[Length(max=200, message="The company name can be at most 200 characters."),
                               no_control_characters],
    )


class TestConnectionForm(FlaskForm):
    """The connect form's role ARN and External ID, posted by the "Test connection" button."""

    __test__ = False  # not a pytest test class, whatever its name

    role_arn = StringField("Role ARN", validators=[DataRequired("Paste the role ARN first."), Length(max=2048),
                                                   no_control_characters])
    external_id = StringField("External ID", validators=[DataRequired("Paste this review's External ID."),
                                                         Length(max=1224), no_control_characters])


class ScopeForm(FlaskForm):
    """What the review covers: the role's own account, or the organization it manages. The page
    renders the two radio buttons itself; ``review_scope.set_scope`` refuses any other value."""

    scope = StringField("What to review", validators=[DataRequired("Choose what to review."), Length(max=20)])

"""Forms (flask-wtf, CSRF on every POST)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

# An address as mail servers take it: ASCII, no spaces, one @, a dot in the domain. \Z, not $:
# "$" would also accept a trailing newline (a header injection in the report email).
EMAIL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
# C0 and C1 control characters (tab, CR and LF included) and Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def no_control_characters(_form: FlaskForm, field: Field) -> None:
    """Refuse text that carries control characters or line breaks, with a sentence saying so."""
    if field.data and _CONTROL.search(str(field.data)):
        raise ValidationError(f"{field.label.text} cannot contain line breaks or control characters.")


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
        validators=[DataRequired("An email address is needed for the report link."),
                    Length(max=254, message="An email address can be at most 254 characters."),
                    Regexp(EMAIL_RE, message="That does not look like an email address."), no_control_characters],
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

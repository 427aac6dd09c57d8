"""Forms (flask-wtf, CSRF on every POST)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Regexp

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StartReviewForm(FlaskForm):
    """Only a CSRF token: starting a review needs no input."""


class ConnectForm(FlaskForm):
    role_arn = StringField(
        "Role ARN",
        validators=[DataRequired("Paste the RoleArn output of the finops-pack-readonly stack."), Length(max=2048)],
        render_kw={"placeholder": "arn:aws:iam::123456789012:role/finops-pack-readonly", "spellcheck": "false",
                   "autocomplete": "off"},
    )
    external_id = StringField(
        "External ID",
        validators=[DataRequired("Paste this review's External ID."), Length(max=1224)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    contact_name = StringField("Your name",
                               validators=[DataRequired("Tell us who to send the report to."), Length(max=200)])
    contact_email = EmailField(
        "Work email",
        validators=[DataRequired("An email address is needed for the report link."), Length(max=320),
                    Regexp(EMAIL_RE, message="That does not look like an email address.")],
    )
    contact_company = StringField("Company", validators=[Length(max=200)])


class TestConnectionForm(FlaskForm):
    """The connect form's role ARN and External ID, posted by the "Test connection" button."""

    __test__ = False  # not a pytest test class, whatever its name

    role_arn = StringField("Role ARN", validators=[DataRequired("Paste the role ARN first."), Length(max=2048)])
    external_id = StringField("External ID", validators=[DataRequired("Paste this review's External ID."),
                                                         Length(max=1224)])

"""The operator's forms (flask-wtf: CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from finops.markup import MAX_NOTE_LENGTH
from finops.operators import MAX_PASSWORD, MIN_PASSWORD
from finops.web.forms import email_address, no_control_characters, no_control_characters_in_text


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=320), no_control_characters],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD, max=MAX_PASSWORD, message=f"At least {MIN_PASSWORD} characters."),
    ], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat it", validators=[EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class InviteForm(FlaskForm):
    company = StringField("Company", validators=[
        DataRequired("Name the customer's company."),
        Length(max=200, message="The company name can be at most 200 characters."), no_control_characters])
    contact_name = StringField("Contact name", validators=[
        Length(max=200, message="The name can be at most 200 characters."), no_control_characters])
    contact_email = EmailField("Contact email", validators=[
        DataRequired("The report link is emailed to this address."), email_address])
    note = TextAreaField("Private note (operators only)", validators=[Length(max=2000), no_control_characters_in_text])


class SummaryForm(FlaskForm):
    summary = TextAreaField("Summary for the customer (Markdown)",
                            validators=[Length(max=MAX_NOTE_LENGTH), no_control_characters_in_text])
    note = TextAreaField("Private note (operators only)", validators=[Length(max=2000), no_control_characters_in_text])


class FindingNoteForm(FlaskForm):
    body = TextAreaField("Note on this finding (Markdown)",
                         validators=[Length(max=MAX_NOTE_LENGTH), no_control_characters_in_text])


class ActionForm(FlaskForm):
    """Only a CSRF token: rescan, delete, replace a link, send again, sign out."""

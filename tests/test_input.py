"""Bad input on the connect form: refused with a sentence on the form, nothing typed lost, nothing queued."""

from __future__ import annotations

import pytest

from finops import reviews
from finops.db import connect
from tests.helpers import connect_form, review_id_of, start_review

ROLE = "arn:aws:iam::123456789012:role/finops-pack-readonly"


@pytest.mark.parametrize("field, value, sentence", [
    ("role_arn", "arn:aws:iam::\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662:role/x",
     "not an IAM role ARN"),
    ("role_arn", "arn:aws:iam::123456789012:role/\u0440\u043e\u043b\u044c", "not an IAM role ARN"),
    ("role_arn", ROLE + "\nmore", "cannot contain line breaks or control characters"),
    ("contact_email", "dana@example.com\n", "does not look like an email address"),
    ("contact_email", "dana@example.com\r\nBcc: x@evil.example", "does not look like an email address"),
    ("contact_email", "d" * 250 + "@example.com", "at most 254 characters"),
    ("contact_name", "Dana\r\nBcc: x@evil.example", "cannot contain line breaks or control characters"),
    ("contact_name", "Dana\x00", "cannot contain line breaks or control characters"),
    ("contact_name", "D" * 201, "at most 200 characters"),
    ("contact_company", "Example\u2028Corp", "cannot contain line breaks or control characters"),
])
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_queued(client, settings, field, value, sentence):
    token = start_review(client)
    form = connect_form(client, token, **{"role_arn": ROLE, field: value})
    response = client.post(f"/reviews/{token}/scan", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert sentence in page
    assert reviews.get_review(connect(settings.db_path), review_id_of(client, token))["status"] == "draft"  # no queue
    if field != "role_arn":
        assert 'value="arn:aws:iam::123456789012:role/finops-pack-readonly"' in page  # what was typed is kept


def test_the_cli_invitation_checks_the_same_way(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "FINOPS_DB_PATH": str(tmp_path / "finops.db"), "FINOPS_SECRET_KEY": "k" * 32}
    for args, sentence in (
        (["--company", "Example\nCorp", "--email", "dana@example.com"], "cannot contain line breaks"),
        (["--company", "Example", "--email", "dana@example.com\nBcc: x@evil.example"], "does not look like an email"),
        (["--company", "Example", "--email", "dana@example.com", "--name", "Dana\r\nX"], "cannot contain line breaks"),
    ):
        result = subprocess.run([sys.executable, "-m", "finops.cli", "invite", *args], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2 and sentence in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_the_operator_invitation_form_refuses_control_characters(client, settings):
    from finops import operators
    from tests.helpers import csrf

    operators.add(connect(settings.db_path), "consultant@example.com", "correct horse battery staple")
    sign_in = client.get("/sign-in").get_data(as_text=True)
    assert client.post("/sign-in", data={"csrf_token": csrf(sign_in), "email": "consultant@example.com",
                                         "password": "correct horse battery staple"}).status_code == 303
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200, dashboard.status_code
    page = dashboard.get_data(as_text=True)
    response = client.post("/dashboard/invitations", data={
        "csrf_token": csrf(page), "company": "Example\r\nCorp", "contact_email": "dana@example.com",
        "contact_name": "Dana", "note": "",
    })
    assert response.status_code == 400
    assert "cannot contain line breaks or control characters" in response.get_data(as_text=True)

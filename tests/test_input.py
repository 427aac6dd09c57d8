"""Bad input on the connect form: refused with a sentence on the form, nothing typed lost, nothing queued."""

from __future__ import annotations

import pytest

from finops import reviews
from finops.db import connect
from tests.helpers import connect_form, start_review

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
    review_id = start_review(client)
    form = connect_form(client, review_id, **{"role_arn": ROLE, field: value})
    response = client.post(f"/reviews/{review_id}/scan", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert sentence in page
    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "draft"  # nothing queued
    if field != "role_arn":
        assert 'value="arn:aws:iam::123456789012:role/finops-pack-readonly"' in page  # what was typed is kept

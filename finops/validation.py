"""What customers and operators type, checked the same way everywhere (forms, CLI, functions).

ASCII, explicit character classes and whole-string matches: Python's ``\\d``/``\\w`` would take
Arabic-Indic digits and Cyrillic letters, and ``$`` a trailing newline (a header injection in the
report email). Every refusal is a sentence the person can act on.
"""

from __future__ import annotations

import re

from finops.errors import InvalidInput

# An address as mail servers take it: ASCII, no spaces, one @, a dot in the domain.
EMAIL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MAX_EMAIL = 254
MAX_NAME = 200
# C0 and C1 control characters (tab, CR and LF included) and Unicode line/paragraph separators.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, for text that may span lines (notes): tab, LF and CR are allowed.
CONTROL_IN_TEXT_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def control_sentence(label: str) -> str:
    return f"{label} cannot contain line breaks or control characters."


def too_long_sentence(label: str, limit: int) -> str:
    return f"{label} can be at most {limit} characters."


def email_problem(value: str) -> str | None:
    """The sentence saying what is wrong with an email address, or None."""
    if len(value) > MAX_EMAIL:
        return too_long_sentence("An email address", MAX_EMAIL)
    if not EMAIL_RE.fullmatch(value):
        return "That does not look like an email address."
    return None


def line_problem(label: str, value: str, limit: int = MAX_NAME) -> str | None:
    """The sentence saying what is wrong with a one-line text field, or None."""
    if CONTROL_RE.search(value):
        return control_sentence(label)
    if len(value) > limit:
        return too_long_sentence(label, limit)
    return None


def check_contact(*, name: str, email: str, company: str) -> None:
    """Raise InvalidInput with the first problem in a customer's contact details."""
    for problem in (line_problem("The name", name), email_problem(email), line_problem("The company name", company)):
        if problem:
            raise InvalidInput(problem, customer_message=problem)

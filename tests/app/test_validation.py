"""Validation: normalisation that makes duplicates detectable, and a reason for every rejection."""

from __future__ import annotations

from typing import Any

import pytest

from app.signups.errors import InvalidSignup
from app.signups.validation import validate_signup

VALID = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "previewAccess": "Yes",
    "theme": "slate",
}


def test_email_is_trimmed_and_lower_cased() -> None:
    one = validate_signup({**VALID, "email": "A@Example.com "})
    two = validate_signup({**VALID, "email": "a@example.com"})
    assert one.email == two.email == "a@example.com"


def test_defaults_for_optional_choices() -> None:
    signup = validate_signup({"name": "Ada", "email": "ada@example.com"})
    assert (signup.preview_access, signup.theme) == ("No", "flatly")


def test_choices_are_case_insensitive_and_canonical() -> None:
    signup = validate_signup({**VALID, "previewAccess": "yes", "theme": "UNITED"})
    assert (signup.preview_access, signup.theme) == ("Yes", "united")


def test_name_is_trimmed_and_unicode_allowed() -> None:
    assert validate_signup({**VALID, "name": "  Zoë Ångström "}).name == "Zoë Ångström"


@pytest.mark.parametrize(
    "email",
    [
        "x@example.com",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.test",
        f"{'a' * 64}@example.com",
    ],
)
def test_valid_emails(email: str) -> None:
    assert validate_signup({**VALID, "email": email}).email == email.lower()


def test_email_at_the_length_limit_is_accepted() -> None:
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48]) + ".com"  # 244 chars
    email = f"{'x' * 9}@{domain}"
    assert len(email) == 254
    assert validate_signup({**VALID, "email": email}).email == email


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "   "}, "email"),
        ({"email": None}, "email"),
        ({"email": "no-at-sign.example.com"}, "email"),
        ({"email": "@example.com"}, "email"),
        ({"email": "ada@"}, "email"),
        ({"email": "ada@example"}, "email"),
        ({"email": "ada@@example.com"}, "email"),
        ({"email": "ada..x@example.com"}, "email"),
        ({"email": ".ada@example.com"}, "email"),
        ({"email": "ada@-example.com"}, "email"),
        ({"email": "ada@example.c0m"}, "email"),
        ({"email": "ada lovelace@example.com"}, "email"),
        ({"email": "adá@example.com"}, "email"),
        ({"email": f"{'a' * 65}@example.com"}, "email"),
        ({"email": "a@" + "b" * 250 + ".com"}, "email"),
        ({"email": 42}, "email"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Ada\x00"}, "name"),
        ({"name": "Ada\nLovelace"}, "name"),
        ({"name": ["Ada"]}, "name"),
        ({"previewAccess": "Maybe"}, "previewAccess"),
        ({"previewAccess": True}, "previewAccess"),
        ({"theme": "cyborg"}, "theme"),
        ({"theme": "<script>"}, "theme"),
    ],
)
def test_invalid_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSignup) as caught:
        validate_signup({**VALID, **changes})
    assert caught.value.field == field
    assert caught.value.reason

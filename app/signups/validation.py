"""Input validation and normalisation for a signup, the same for form and JSON bodies.

Normalisation is what makes the duplicate check honest: `A@Example.com ` and `a@example.com`
must be the same key in DynamoDB, so the email is trimmed and lower-cased before anything else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.signups.errors import InvalidSignup

__all__ = ["MAX_EMAIL_LENGTH", "MAX_NAME_LENGTH", "THEMES", "SignupRequest", "validate_signup"]

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets
MAX_LOCAL_PART_LENGTH = 64
MAX_NAME_LENGTH = 100
#: The Bootswatch themes the original Elastic Beanstalk sample offered.
THEMES: tuple[str, ...] = ("amelia", "default", "flatly", "slate", "united")
DEFAULT_THEME = "flatly"
PREVIEW_CHOICES: tuple[str, ...] = ("Yes", "No")

_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,63}$|^xn--[a-z0-9-]{1,59}$")


@dataclass(frozen=True)
class SignupRequest:
    """A validated, normalised signup."""

    name: str
    email: str
    preview_access: str  # "Yes" or "No"
    theme: str


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def _text_field(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSignup(field, "must be a string")
    return value


def _check_email(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise InvalidSignup("email", "is required")
    email = normalise_email(raw)
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidSignup("email", f"must be at most {MAX_EMAIL_LENGTH} characters")
    if not email.isascii():
        raise InvalidSignup("email", "must use ASCII characters only")
    local, sep, domain = email.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidSignup("email", "must look like name@example.com")
    if len(local) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.match(local):
        raise InvalidSignup("email", "has an invalid part before the @")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidSignup("email", "has an invalid domain after the @")
    if not _TLD.match(labels[-1]):
        raise InvalidSignup("email", "has an invalid top-level domain")
    return email


def _check_name(raw: str | None) -> str:
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise InvalidSignup("name", "is required")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidSignup("name", f"must be at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidSignup("name", "must not contain control characters")
    return name


def _check_choice(raw: str | None, field: str, choices: tuple[str, ...], default: str) -> str:
    if raw is None or not raw.strip():
        return default
    by_lower = {choice.lower(): choice for choice in choices}
    choice = by_lower.get(raw.strip().lower())
    if choice is None:
        raise InvalidSignup(field, f"must be one of {', '.join(choices)}")
    return choice


def validate_signup(data: Mapping[str, Any]) -> SignupRequest:
    """Validate a form or JSON body; raise InvalidSignup naming the first bad field."""
    return SignupRequest(
        name=_check_name(_text_field(data, "name")),
        email=_check_email(_text_field(data, "email")),
        preview_access=_check_choice(
            _text_field(data, "previewAccess"), "previewAccess", PREVIEW_CHOICES, "No"
        ),
        theme=_check_choice(_text_field(data, "theme"), "theme", THEMES, DEFAULT_THEME),
    )

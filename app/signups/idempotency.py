"""The `Idempotency-Key` request header (the IETF httpapi draft's name) and the request token.

A key names one logical signup: a client sends a fresh key for each signup and the same key when
it retries that signup, so the retry is answered as the first attempt was (201 with the same body),
never 409. The key is stored on the item as its request token, so it lives as long as the item:
a key is scoped to one email, and sending it again for the same email with other details is a 422.
Without a key, each request gets a token of its own, which still makes botocore's retries of a
put whose reply was lost come back as 201.
"""

from __future__ import annotations

import re
import uuid

from app.signups.errors import InvalidSignup

__all__ = ["HEADER", "MAX_KEY_LENGTH", "request_token"]

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
_KEY = re.compile(r"[A-Za-z0-9._:-]+")


def request_token(header_value: str | None) -> str:
    """The token for this request: the client's key (validated) or a new one.

    The draft sends the key as a structured-field string (`"abc"`); a bare token is accepted too.
    """
    if header_value is None:
        return uuid.uuid4().hex
    key = header_value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise InvalidSignup(HEADER, "must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidSignup(HEADER, f"must be at most {MAX_KEY_LENGTH} characters")
    if not _KEY.fullmatch(key):
        raise InvalidSignup(HEADER, "may only contain letters, digits and . _ : -")
    return key

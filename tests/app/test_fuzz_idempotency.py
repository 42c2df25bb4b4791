"""Fuzzing `POST /signup` with the documented `Idempotency-Key` header: keys from its schema, a
small pool reused across signups (so replays and 422s are frequent), the structured-field string
form, and hostile values. Bodies come from tests/support/openapi_fuzz.py, as in test_fuzz.py; the
cross-origin headers are left to test_fuzz.py (a foreign Origin never reaches the signup).

Every answer must be documented, free of internal detail and consistent with the contract: an
invalid key is a 400 naming the header; a 201 for an email already created is a replay (same key,
same body, `Idempotent-Replayed: true`); a 409 never answers the key that created the signup; a 422
answers a key that created one. At the end the table holds exactly the signups answered 201, each
with its key as the request token, and the queue one notification per signup carrying that token.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.views.openapi import openapi_document
from tests.support.aws import SignupResources
from tests.support.fuzz_tally import Tally
from tests.support.openapi_fuzz import FuzzRequest, requests_for

EXAMPLES = 1500
FUZZ = settings(
    deadline=None,
    database=None,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPERATION: dict[str, Any] = openapi_document()["paths"]["/signup"]["post"]
(PARAMETER,) = [p for p in OPERATION["parameters"] if p["in"] == "header"]
HEADER: str = PARAMETER["name"]
KEY_SCHEMA: dict[str, Any] = PARAMETER["schema"]

_pool = [f"key-{i}" for i in range(8)]
_latin1 = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")
#: None: no header at all.
keys: st.SearchStrategy[str | None] = st.one_of(
    st.none(),
    st.sampled_from(_pool),
    st.sampled_from(_pool).map(lambda key: f'"{key}"'),
    st.from_regex(KEY_SCHEMA["pattern"], fullmatch=True).filter(
        lambda key: len(key) <= KEY_SCHEMA["maxLength"]
    ),
    st.text(_latin1, max_size=KEY_SCHEMA["maxLength"] + 5),
    st.sampled_from(["", '""', "k" * KEY_SCHEMA["maxLength"], "k" * (KEY_SCHEMA["maxLength"] + 1)]),
)


def sent_key(value: str | None) -> str | None:
    """The key a header value names (the bare form or a structured-field string), as sent."""
    if value is None:
        return None
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    return key


#: Each example sends a new request, or repeats one answered 201 (a retry), or repeats it with
#: another name (the same key for other details).
REPEATS = ["new", "new", "retry", "other name"]


def repeated(request: FuzzRequest, other_name: bool) -> FuzzRequest:
    data = request.data
    if other_name:
        if isinstance(data, bytes):
            body = json.loads(data)
            body["name"] = "Other " + str(body.get("name", ""))[:50]
            data = json.dumps(body).encode()
        elif isinstance(data, dict):
            data = {**data, "name": "Other " + data.get("name", "")[:50]}
    return dataclasses.replace(request, headers=dict(request.headers), data=data)


def documented(key: str) -> bool:
    return jsonschema.Draft4Validator(KEY_SCHEMA).is_valid(key)


def test_signup_with_idempotency_keys(client: FlaskClient, aws: SignupResources) -> None:
    tally = Tally()
    created: dict[str, tuple[str | None, dict[str, Any]]] = {}  # email -> (key, first body)
    seen: dict[str, int] = {}

    sent: list[FuzzRequest] = []  # the requests answered 201 with a key, to repeat

    @FUZZ
    @given(
        requests_for("/signup", "post", OPERATION), keys, st.sampled_from(REPEATS), st.integers()
    )
    def fuzz(request: FuzzRequest, value: str | None, repeat: str, pick: int) -> None:
        for cross_origin in ("Origin", "Sec-Fetch-Site"):
            request.headers.pop(cross_origin, None)
        if value is not None:
            request.headers[HEADER] = value
        if repeat != "new" and sent:
            request = repeated(sent[pick % len(sent)], other_name=repeat == "other name")
            value = request.headers[HEADER]
        answer = tally.check(request, OPERATION, request.send(client))
        status, key = answer.status_code, sent_key(value)
        body = answer.get_json(silent=True) or {}
        valid = key is None or documented(key)
        case = "replay" if status == 201 and body.get("email") in created else str(status)
        seen[case] = seen.get(case, 0) + 1
        replayed = answer.headers.get("Idempotent-Replayed")
        if not valid:
            assert (status, body.get("field")) == (400, HEADER), (request, status, body)
        elif status == 201 and body["email"] in created:
            first_key, first = created[body["email"]]
            assert key is not None and key == first_key, (request, body)
            assert body == first and replayed == "true", (request, body)
        elif status == 201:
            assert replayed is None
            created[body["email"]] = (key, body)
            if key is not None:
                sent.append(request)
        elif status == 409:
            assert body["email"] in created, (request, body)
            assert key is None or key != created[body["email"]][0], (request, body)
        elif status == 422:
            assert body.get("field") == HEADER
            assert key in {k for k, _ in created.values()}, (request, body)
        if status != 201:
            assert replayed is None, (request, status)

    fuzz()
    assert tally.total >= EXAMPLES
    assert seen.get("replay", 0) > 10 and seen.get("422", 0) > 10, seen
    assert seen.get("400", 0) > 100 and seen.get("409", 0) > 10, seen
    items = {item["email"]["S"]: item for item in aws.items()}
    assert set(items) == set(created), "the table holds exactly the signups answered 201"
    messages = aws.drain_messages()
    assert len(messages) == len(created), "one notification per signup, replays sent none"
    tokens = {m["MessageAttributes"]["requestToken"]["Value"] for m in messages}
    for email, (key, first) in created.items():
        assert items[email]["name"]["S"] == first["name"], "a 422 changed nothing"
        if key is not None:
            assert items[email]["requestToken"]["S"] == key
            assert key in tokens
        else:
            assert items[email]["requestToken"]["S"] in tokens

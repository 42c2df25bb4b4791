"""The OpenAPI document served at /openapi.json says exactly what the app serves.

Both directions: every route of `app.url_map` (every method) is described, and every described
operation is a route; every status code a view can answer is documented (the fuzz test checks the
answers it sees against the document too). For `POST /signup`, every documented answer is reached
for real, with the headers documented for it (and a documented header on no other answer), and the
documented `Idempotency-Key` schema accepts exactly the keys the app accepts.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from app.config import MIN_DEADLINE_SECONDS, Settings
from app.signups.errors import InvalidSignup
from app.signups.idempotency import HEADER, MAX_KEY_LENGTH, request_token
from app.views.openapi import openapi_document
from tests.support.aws import SignupResources
from tests.support.fake_endpoint import AwsErrorEndpoint
from tests.support.silent import SilentEndpoint
from tests.support.udp import DaemonListener

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }


def described(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item}


def full_app() -> Flask:
    """The app with every optional blueprint (the scenario relay exists only locally)."""
    settings = Settings(
        endpoint_url="http://127.0.0.1:9",
        scenario_api_url="http://127.0.0.1:9",
        xray_enabled=False,
    )
    return create_app(settings)


def test_every_route_is_described_and_every_description_is_a_route() -> None:
    assert routes(full_app()) == described(openapi_document())


def test_served_document_is_the_shipped_one(client: FlaskClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json() == openapi_document()
    assert answer.get_json()["openapi"].startswith("3.")


def test_every_operation_documents_its_answers() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert "405" in codes, (path, method)
            assert any(code.startswith("2") for code in codes), (path, method)
            if "requestBody" in operation:
                assert "413" in codes, (path, method)
            if method == "post" and path.startswith("/generator/"):
                assert {"415", "503"} <= codes, (path, method)


def test_signup_documents_the_contract() -> None:
    operation = openapi_document()["paths"]["/signup"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "409", "413", "422", "429", "500", "503"}
    content = operation["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)
    fields = content["application/json"]["schema"]["properties"]
    assert set(fields) == {"name", "email", "previewAccess", "theme"}
    assert fields["theme"]["enum"] == ["amelia", "default", "flatly", "slate", "united"]
    start = openapi_document()["paths"]["/generator/start"]["post"]
    rate = start["requestBody"]["content"]["application/json"]["schema"]["properties"]["rate"]
    assert (rate["minimum"], rate["maximum"]) == (1, 10)


def signup_operation() -> dict[str, Any]:
    operation: dict[str, Any] = openapi_document()["paths"]["/signup"]["post"]
    return operation


def key_parameter() -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        p for p in signup_operation()["parameters"] if p["name"] == HEADER
    ]
    assert len(found) == 1, found
    return found[0]


def test_signup_documents_the_idempotency_key() -> None:
    parameter = key_parameter()
    assert (parameter["in"], parameter["required"]) == ("header", False)
    schema = parameter["schema"]
    assert schema["type"] == "string" and schema["maxLength"] == MAX_KEY_LENGTH
    for scope_and_lifetime in ("one email", "lifetime", "422", "409", "Idempotent-Replayed"):
        assert scope_and_lifetime in parameter["description"]
    jsonschema.validate(parameter["example"], schema)
    responses = signup_operation()["responses"]
    assert responses["201"]["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"]
    assert HEADER in responses["400"]["description"] and HEADER in responses["422"]["description"]
    assert "SIGNUP_DEADLINE_SECONDS" in responses["503"]["description"]
    assert "Retry-After" in responses["503"]["headers"]


def _documented_key(key: str) -> bool:
    return jsonschema.Draft4Validator(key_parameter()["schema"]).is_valid(key)


def _accepted_key(key: str) -> bool:
    try:
        return request_token(key) == key
    except InvalidSignup as exc:
        assert exc.field == HEADER
        return False


_KEY_CHARS = string.ascii_letters + string.digits + "._:-"
#: Keys a client may send: near the schema (its alphabet, around its length limit) or anything.
_keys = st.one_of(
    st.text(_KEY_CHARS, min_size=0, max_size=MAX_KEY_LENGTH + 3),
    st.text(_KEY_CHARS + " /\\'=+,;\u00e9\u043a", min_size=0, max_size=20),
    st.text(max_size=20),
).filter(lambda key: key == key.strip() and not key.startswith('"'))


@given(_keys)
def test_the_documented_key_schema_is_what_the_app_accepts(key: str) -> None:
    """Bare keys (as the schema describes them): documented exactly when accepted; the
    structured-field string form that the description names is accepted for the same keys."""
    assert _documented_key(key) == _accepted_key(key), key
    if _documented_key(key):
        assert request_token(f'"{key}"') == key


FORM = {"name": "Ada", "email": "ada@example.com", "previewAccess": "Yes", "theme": "slate"}


@pytest.fixture
def failing(daemon: DaemonListener) -> Iterator[dict[str, FlaskClient]]:
    """The app on endpoints that fail each way DynamoDB can, one client per way."""
    endpoints = {
        "throttled": AwsErrorEndpoint(400, "ProvisionedThroughputExceededException"),
        "refused": AwsErrorEndpoint(400, "ValidationException"),
        "down": AwsErrorEndpoint(500, "InternalServerError"),
    }
    with SilentEndpoint() as silent:
        urls = {name: endpoint.url for name, endpoint in endpoints.items()}
        urls["silent"] = silent.url
        try:
            yield {
                name: create_app(
                    Settings(
                        table_name="signups",
                        topic_arn="arn:aws:sns:us-east-1:123456789012:new-signups",
                        endpoint_url=url,
                        xray_daemon_address=daemon.address,
                        deadline_seconds=MIN_DEADLINE_SECONDS,
                    )
                ).test_client()
                for name, url in urls.items()
            }
        finally:
            for endpoint in endpoints.values():
                endpoint.close()


def test_every_documented_signup_answer_is_reached_as_documented(
    client: FlaskClient, aws: SignupResources, failing: dict[str, FlaskClient]
) -> None:
    def post(target: FlaskClient, key: str | None = None, **form: Any) -> Any:
        headers = {HEADER: key} if key is not None else {}
        return target.post("/signup", data={**FORM, **form}, headers=headers)

    reached = {
        "created": post(client, "key-1"),
        "replayed": post(client, "key-1"),
        "key reused with other details": post(client, "key-1", name="Bea"),
        "duplicate": post(client, "key-2"),
        "invalid key": post(client, "a key"),
        "invalid field": post(client, "key-3", email="nope"),
        "too large": post(client, "key-4", name="x" * 20_000),
        "wrong method": client.get("/signup"),
        "throttled": post(failing["throttled"], "key-5"),
        "refused": post(failing["refused"], "key-6"),
        "down": post(failing["down"], "key-7"),
        "out of budget": post(failing["silent"], "key-8"),
    }
    expected = {
        "created": 201,
        "replayed": 201,
        "key reused with other details": 422,
        "duplicate": 409,
        "invalid key": 400,
        "invalid field": 400,
        "too large": 413,
        "wrong method": 405,
        "throttled": 429,
        "refused": 500,
        "down": 503,
        "out of budget": 503,
    }
    assert {case: answer.status_code for case, answer in reached.items()} == expected
    responses = signup_operation()["responses"]
    assert {str(status) for status in expected.values()} == set(responses), "all reached"

    named = {name for response in responses.values() for name in response.get("headers", {})}
    for case, answer in reached.items():
        documented = responses[str(answer.status_code)].get("headers", {})
        for name in named:
            if name in documented and (name, case) != ("Idempotent-Replayed", "created"):
                value = answer.headers.get(name)
                assert value is not None, (case, name)
                jsonschema.validate(
                    int(value) if value.isdigit() else value, documented[name]["schema"]
                )
            elif name not in documented:
                assert name not in answer.headers, (case, name)
    assert "Idempotent-Replayed" not in reached["created"].headers
    assert reached["replayed"].get_json() == reached["created"].get_json()
    for case in ("key reused with other details", "invalid key"):
        assert reached[case].get_json()["field"] == key_parameter()["name"], case
    stored = aws.item("ada@example.com")
    assert stored is not None and stored["name"] == {"S": "Ada"}, "the 422 changed nothing"
    assert stored["requestToken"] == {"S": "key-1"}

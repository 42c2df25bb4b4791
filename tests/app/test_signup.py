"""POST /signup against moto: what is stored, what is published, what is answered."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.aws import SignupResources

FORM = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.com ",
    "previewAccess": "Yes",
    "theme": "slate",
}


def test_new_signup_is_stored_published_and_answered_201(
    client: FlaskClient, aws: SignupResources
) -> None:
    answer = client.post("/signup", data=FORM)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["email"] == "ada@example.com"
    assert body["notified"] is True
    assert body["createdAt"].endswith("Z")
    item = aws.item("ada@example.com")
    assert item is not None
    assert item["name"] == {"S": "Ada Lovelace"}
    assert item["previewAccess"] == {"S": "Yes"}
    assert item["theme"] == {"S": "slate"}
    assert item["createdAt"] == {"S": body["createdAt"]}
    messages = aws.drain_messages()
    assert len(messages) == 1
    assert messages[0]["Subject"] == "New signup for the preview"
    assert "Ada Lovelace <ada@example.com>" in messages[0]["Message"]


def test_json_body_is_accepted(client: FlaskClient, aws: SignupResources) -> None:
    answer = client.post("/signup", json={"name": "Grace", "email": "grace@example.com"})
    assert answer.status_code == 201
    assert answer.get_json()["theme"] == "flatly"


def test_duplicate_answers_409_publishes_nothing_and_keeps_the_item(
    client: FlaskClient, aws: SignupResources
) -> None:
    assert client.post("/signup", data=FORM).status_code == 201
    before = aws.item("ada@example.com")
    aws.drain_messages()
    again = client.post(
        "/signup", data={**FORM, "email": "ada@example.com", "name": "Someone Else"}
    )
    assert again.status_code == 409
    assert again.get_json() == {"error": "already on the list", "email": "ada@example.com"}
    assert aws.item("ada@example.com") == before
    assert aws.drain_messages() == []


INVALID_BODIES: list[tuple[dict[str, Any], str]] = [
    ({**FORM, "email": ""}, "email"),
    ({**FORM, "email": "not-an-email"}, "email"),
    ({**FORM, "email": "a@b"}, "email"),
    ({**FORM, "email": "a@" + "b" * 250 + ".com"}, "email"),
    ({**FORM, "email": "two@@example.com"}, "email"),
    ({**FORM, "email": "space in@example.com"}, "email"),
    ({**FORM, "email": "ünï@example.com"}, "email"),
    ({**FORM, "name": ""}, "name"),
    ({**FORM, "name": "x" * 101}, "name"),
    ({**FORM, "name": "bell\x07"}, "name"),
    ({**FORM, "previewAccess": "Perhaps"}, "previewAccess"),
    ({**FORM, "theme": "cyborg"}, "theme"),
    ({**FORM, "theme": "../../etc/passwd"}, "theme"),
    ({"email": "ada@example.com"}, "name"),
    ({"name": "Ada"}, "email"),
    ({}, "name"),
]


@pytest.mark.parametrize(("form", "field"), INVALID_BODIES)
def test_invalid_form_is_400_and_touches_nothing(
    client: FlaskClient, aws: SignupResources, form: dict[str, Any], field: str
) -> None:
    answer = client.post("/signup", data=form)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "invalid input"
    assert body["field"] == field
    assert body["reason"]
    assert aws.items() == []
    assert aws.drain_messages() == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [([1, 2], "body"), ("just a string", "body"), ({"name": 5, "email": "a@example.com"}, "name")],
)
def test_invalid_json_is_400(
    client: FlaskClient, aws: SignupResources, payload: Any, field: str
) -> None:
    answer = client.post("/signup", json=payload)
    assert answer.status_code == 400
    assert answer.get_json()["field"] == field
    assert aws.items() == []


def test_malformed_json_is_400(client: FlaskClient, aws: SignupResources) -> None:
    answer = client.post("/signup", data="{not json", content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "body"


def test_oversized_body_is_413(client: FlaskClient, aws: SignupResources) -> None:
    answer = client.post("/signup", data={**FORM, "name": "x" * 20_000})
    assert answer.status_code == 413
    assert answer.get_json() == {"error": "request body too large"}
    assert aws.items() == []


def test_unknown_path_and_method_answer_json(client: FlaskClient) -> None:
    assert client.get("/nope").get_json() == {"error": "not found"}
    assert client.get("/signup").status_code == 405

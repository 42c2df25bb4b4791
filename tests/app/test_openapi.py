"""The OpenAPI document served at /openapi.json says exactly what the app serves.

Both directions: every route of `app.url_map` (every method) is described, and every described
operation is a route; every status code a view can answer is documented (the fuzz test checks the
answers it sees against the document too).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.views.openapi import openapi_document

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
    assert set(operation["responses"]) >= {"201", "400", "409", "413", "429", "500", "503"}
    content = operation["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)
    fields = content["application/json"]["schema"]["properties"]
    assert set(fields) == {"name", "email", "previewAccess", "theme"}
    assert fields["theme"]["enum"] == ["amelia", "default", "flatly", "slate", "united"]
    start = openapi_document()["paths"]["/generator/start"]["post"]
    rate = start["requestBody"]["content"]["application/json"]["schema"]["properties"]["rate"]
    assert (rate["minimum"], rate["maximum"]) == (1, 10)

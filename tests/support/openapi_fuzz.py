"""Requests generated from the app's OpenAPI document, and the checks every answer must pass.

Strategies are derived from the document (so a new field or operation is fuzzed without editing
the test): a body that follows the schema, the same body mutated (a field of the wrong type,
missing, or extra), or raw bytes under any content type; plus hostile headers (a broken X-Ray
trace header, a foreign Origin) that every request may carry.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

__all__ = [
    "FuzzRequest",
    "json_values",
    "leaks",
    "requests_for",
    "schema_values",
]

#: What must never appear in an answer: stack traces, source paths, exception class names (ours,
#: Python's, botocore's), library internals.
LEAK = re.compile(
    r"Traceback|File \"|site-packages|/work/|\w+\.py\b|botocore|boto3|werkzeug|jinja2"
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bDuplicateSignup\b|\bInvalidSignup\b"
)

CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=latin-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/plain",
    "text/html",
    "application/xml",
    "application/octet-stream",
    "*/*",
    "garbage",
]

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

_LOCAL = st.text(string.ascii_lowercase + string.digits + ".+-_", min_size=1, max_size=20)
_DOMAIN = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)
_TLD = st.sampled_from(["com", "org", "io", "dev", "py", "x", "c0m", ""])
#: Emails that look right (some still invalid: leading dots, short TLDs); a small fixed pool
#: makes duplicates (409) frequent, as the generator's re-sent email does.
emails = st.one_of(
    st.builds(lambda a, b, c: f"{a}@{b}.{c}", _LOCAL, _DOMAIN, _TLD),
    st.sampled_from([f"Pool{i}@Example.com " for i in range(15)]),
    st.text(max_size=60),
)


def schema_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that follow `schema` (the subset of JSON Schema the document uses)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "email":
            return emails
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 50))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: schema_values(v) for k, v in props.items() if k in required},
            optional={k: schema_values(v) for k, v in props.items() if k not in required},
        )
    return json_values


@st.composite
def _mutated(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A schema-following value, then broken one way: wrong types, missing or extra fields."""
    value = draw(schema_values(schema))
    if not isinstance(value, dict) or draw(st.booleans()) and draw(st.booleans()):
        return draw(json_values)
    for key in list(value):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            value[key] = draw(json_values)
        elif choice == 1:
            del value[key]
    if draw(st.booleans()):
        value[draw(st.text(max_size=10))] = draw(json_values)
    return value


@dataclass
class FuzzRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | dict[str, str] | None = None
    content_type: str | None = None
    path_values: tuple[str, ...] = ()

    def send(self, client: Any) -> Any:
        return client.open(
            self.path,
            method=self.method,
            headers=self.headers,
            data=self.data,
            content_type=self.content_type,
        )


#: Header values a client can put on the wire (latin-1, no control characters).
_header_chars = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")
_TRACE_HEADERS = st.one_of(
    st.text(_header_chars, max_size=80),
    st.builds(
        lambda root, parent, sampled: f"Root={root};Parent={parent};Sampled={sampled}",
        st.one_of(
            st.just("1-5759e988-bd862e3fe1be46a994272793"), st.text(_header_chars, max_size=40)
        ),
        st.text(string.hexdigits, max_size=20),
        st.sampled_from(["0", "1", "?", "", "x"]),
    ),
)
_header_text = st.text(_header_chars, max_size=60)
headers = st.fixed_dictionaries(
    {},
    optional={
        "X-Amzn-Trace-Id": _TRACE_HEADERS,
        "Origin": st.sampled_from(["https://evil.example", "null", "http://localhost"]),
        "Sec-Fetch-Site": st.sampled_from(["cross-site", "same-origin", "none"]),
        "Accept": _header_text,
        "X-Forwarded-For": _header_text,
    },
)


def _form_encodable(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {"value": json.dumps(value)}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


@st.composite
def _path_and_values(draw: st.DrawFn, template: str, operation: dict[str, Any]) -> tuple[str, ...]:
    values: list[str] = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter["schema"]
        if "enum" in schema and draw(st.booleans()):
            values.append(draw(st.sampled_from(schema["enum"])))
        else:
            values.append(
                draw(
                    st.one_of(
                        st.text(string.printable, min_size=1, max_size=30),
                        st.sampled_from(["../app/config.py", "..%2fapp.css", "app.css"]),
                    )
                )
            )
    return tuple(values)


def _fill(template: str, values: tuple[str, ...]) -> str:
    parts = iter(values)
    return re.sub(r"\{[a-z_]+\}", lambda _: quote(next(parts), safe=""), template)


@st.composite
def requests_for(
    draw: st.DrawFn, template: str, method: str, operation: dict[str, Any]
) -> FuzzRequest:
    """One request to `method template`: valid, mutated or raw, with hostile headers."""
    values = draw(_path_and_values(template, operation))
    request = FuzzRequest(method.upper(), _fill(template, values), draw(headers))
    request.path_values = values
    if draw(st.integers(0, 9)) == 0:
        request.path += "?" + quote(draw(st.text(max_size=30)), safe="=&")
    body = operation.get("requestBody")
    content = body["content"] if body else {"application/json": {"schema": {}}}
    kind = draw(st.sampled_from(["schema", "mutated", "raw"] if body else ["none", "raw"]))
    if kind == "none":
        return request
    if kind == "raw":
        request.data = draw(st.binary(max_size=300))
        request.content_type = draw(st.sampled_from(CONTENT_TYPES))
        return request
    media = draw(st.sampled_from(sorted(content)))
    schema = content[media]["schema"]
    value = draw(schema_values(schema) if kind == "schema" else _mutated(schema))
    if media == "application/json":
        request.data = json.dumps(value).encode()
        request.content_type = media
    else:
        request.data = _form_encodable(value)
        request.content_type = media
    return request


def leaks(text: str, echoed: tuple[str, ...] = ()) -> list[str]:
    """The internal details found in `text`, after removing what the client itself sent."""
    for value in sorted(echoed, key=len, reverse=True):
        if value:
            text = text.replace(value, "").replace(json.dumps(value)[1:-1], "")
    return LEAK.findall(text)

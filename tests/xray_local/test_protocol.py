"""The daemon datagram format: a JSON header line, a newline, one valid document."""

from __future__ import annotations

import json

import pytest

from tests.xray_local.xl_docs import signup_segment
from xray_local.ingest import ProtocolError, parse_datagram


def _doc(**changes: object) -> bytes:
    doc = signup_segment()
    doc.update(changes)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def test_sdk_header_and_header_with_spaces_are_accepted() -> None:
    body = _doc()
    assert parse_datagram(b'{"format":"json","version":1}\n' + body)["name"] == "signup-app"
    assert parse_datagram(b'{"format": "json", "version": 1}\n' + body)["name"] == "signup-app"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_doc(), "no_header"),
        (b'{"format":"xml","version":1}\n' + _doc(), "bad_header"),
        (b'{"format":"json","version":2}\n' + _doc(), "bad_header"),
        (b"not json\n" + _doc(), "bad_header"),
        (b'{"format":"json","version":1}\n{"id": ', "bad_json"),
        (b'{"format":"json","version":1}\n\xff\xfe', "bad_json"),
        (b'{"format":"json","version":1}\n[1, 2]', "missing_fields"),
        (b'{"format":"json","version":1}\n' + _doc(trace_id=None), "missing_fields"),
        (b'{"format":"json","version":1}\n' + _doc(start_time="soon"), "missing_fields"),
        (b'{"format":"json","version":1}\n' + _doc(end_time=None), "missing_fields"),
        (b'{"format":"json","version":1}\n' + _doc(type="subsegment"), "missing_fields"),
        (b'{"format":"json","version":1}\n' + b" " * (64 * 1024 + 1), "oversize"),
    ],
    ids=[
        "no-header",
        "wrong-format",
        "wrong-version",
        "header-not-json",
        "truncated",
        "not-utf8",
        "not-object",
        "no-trace-id",
        "bad-start",
        "no-end",
        "sub-without-parent",
        "oversize",
    ],
)
def test_malformed_datagrams_name_their_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_datagram(data)
    assert info.value.reason == reason


def test_in_progress_document_needs_no_end_time() -> None:
    doc = signup_segment()
    del doc["end_time"]
    doc["in_progress"] = True
    assert parse_datagram(b'{"format":"json","version":1}\n' + json.dumps(doc).encode())

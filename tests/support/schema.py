"""AWS's published segment document schema, for validating everything the SDK sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

__all__ = ["SCHEMA_PATH", "schema_errors"]

#: A copy of AWS's schema; provenance in tests/xray_local/SCHEMA_PROVENANCE.md.
SCHEMA_PATH = Path(__file__).parent.parent / "xray_local" / "segment-document-schema-v1.0.0.json"


@cache
def _validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SCHEMA_PATH.read_text()))


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [error.message for error in _validator().iter_errors(document)]

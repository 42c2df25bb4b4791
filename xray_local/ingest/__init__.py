"""Ingest: how segment documents arrive, checked as hostile input and handed to the store.

- `protocol`: the X-Ray daemon's UDP wire format (a JSON header line, then one segment document)
  and the checks every document passes, with a counted reason for each way it can be wrong;
- `udp`: the daemon side, a receiver thread that drains the socket and a writer thread that
  batches documents into the store.

UDP is the only transport today; another one (OTLP/HTTP) belongs here beside `udp`.
"""

from __future__ import annotations

from xray_local.ingest.protocol import (
    MAX_DOCUMENT_BYTES,
    ProtocolError,
    parse_datagram,
    validate_document,
)
from xray_local.ingest.udp import IngestCounters, UdpReceiver

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "IngestCounters",
    "ProtocolError",
    "UdpReceiver",
    "parse_datagram",
    "validate_document",
]

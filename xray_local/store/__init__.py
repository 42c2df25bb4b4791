"""Store: what the daemon received, kept in SQLite and bounded by retention.

- `traces`: segment documents by (trace id, id) with the daemon's replacement rules, the time index
  GetTraceSummaries pages through, and `Trace` (every stored document of one trace), which is what
  the query stage reads;
- `logs`: log groups, streams and events for the CloudWatch Logs subset, indexed by trace id;
- `sqlite`: the connection, lock, transactions and retention pacing both stores share.

The store knows nothing of the stages above it (ingest writes to it, query and the API read it).
"""

from __future__ import annotations

from xray_local.store.logs import LogEvent, LogRetention, LogStore
from xray_local.store.traces import Retention, Store, Trace, TraceRow, merge_documents

__all__ = [
    "LogEvent",
    "LogRetention",
    "LogStore",
    "Retention",
    "Store",
    "Trace",
    "TraceRow",
    "merge_documents",
]

"""The daemon over a real UDP socket: ordering, replacement, duplicates, and hostile input."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from tests.xray_local.xl_docs import HEADER, datagram, signup_segment, validate
from xray_local.server import XRayServer


def _standalone(seg: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    return validate(dict(sub, type="subsegment", trace_id=seg["trace_id"], parent_id=seg["id"]))


def test_out_of_order_subsegments_duplicates_and_in_progress(
    xray_server: XRayServer, udp_send: Any
) -> None:
    seg = signup_segment(duplicate=True)
    subs = seg.pop("subsegments")
    running = copy.deepcopy(seg)
    del running["end_time"]
    running["in_progress"] = True
    udp_send(datagram(_standalone(seg, subs[0])))  # the child first
    udp_send(datagram(validate(running)))
    udp_send(datagram(validate(seg)))
    udp_send(datagram(seg))  # duplicate
    udp_send(datagram(running))  # late in-progress: must not win
    xray_server.flush()
    trace = xray_server.store.get_trace(seg["trace_id"])
    assert trace is not None and trace.orphans == ()
    [stored] = trace.segments
    assert stored["end_time"] == seg["end_time"]
    assert [s["name"] for s in stored["subsegments"]] == ["dynamodb"]
    snap = xray_server.counters.snapshot()
    assert snap["received"] == 5 and snap["stored"] == 3 and snap["duplicates"] == 2


def _malformed(rng: random.Random) -> bytes:
    """One datagram that is wrong in a random way (each way the protocol names)."""
    good = json.dumps(signup_segment()).encode()
    choice = rng.randrange(8)
    if choice == 0:
        return good  # no header
    if choice == 1:
        return rng.randbytes(rng.randrange(1, 2000))
    if choice == 2:
        return b'{"format":"json","version":' + rng.randbytes(5) + b"}\n" + good
    if choice == 3:
        return HEADER + good[: rng.randrange(1, len(good) - 1)]
    if choice == 4:
        doc = json.loads(good)
        del doc[rng.choice(["id", "trace_id", "name", "start_time", "end_time"])]
        return HEADER + json.dumps(doc).encode()
    if choice == 5:
        return HEADER + b"[" * rng.randrange(1, 5000)
    if choice == 6:
        return HEADER + b'{"pad": "' + b"x" * 60_000 + b'"}'  # (> 64 KB cannot cross UDP)
    return HEADER + json.dumps(rng.choice([None, 1, "s", [], {"type": "subsegment"}])).encode()


def test_fuzzed_datagrams_are_dropped_and_counted_then_good_traffic_flows(
    xray_server: XRayServer, udp_send: Any
) -> None:
    rng = random.Random(20260225)
    for _ in range(400):
        udp_send(_malformed(rng))
    good = [signup_segment() for _ in range(20)]
    for seg in good:
        udp_send(datagram(seg))
    xray_server.flush()
    snap = xray_server.counters.snapshot()
    assert snap["received"] == 420
    assert snap["dropped_total"] == 400
    assert snap["stored"] == 20
    assert set(snap["dropped"]) <= {"no_header", "bad_header", "bad_json", "missing_fields"}
    assert len(snap["dropped"]) >= 4
    for seg in good:
        assert xray_server.store.get_trace(seg["trace_id"]) is not None

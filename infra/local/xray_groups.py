"""The X-Ray group the local stack creates: the failed signups, for the console's group selector.

`failed-signups` holds every POST /signup that did not answer 2xx: the duplicates (409), invalid
forms (400), throttles (429) and failures (5xx) alike, whichever tracer sent the trace (the filter
reads the request's method, URL and status, which both tracers record; an `annotation.outcome`
filter would miss a request that failed before the app annotated it). It is created through the
X-Ray API once the local X-Ray answers, and only when missing: the store keeps groups across
restarts, so a group someone edited stays as they left it.
"""

from __future__ import annotations

import ipaddress
import logging

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.local.embedded_aws import FAKE_CREDENTIALS
from xray_local.server import XRayServer

__all__ = ["FAILED_SIGNUPS", "FAILED_SIGNUPS_FILTER", "ensure_failed_signups_group"]

log = logging.getLogger("xray_signup.stack")

FAILED_SIGNUPS = "failed-signups"
FAILED_SIGNUPS_FILTER = (
    'http.method = "POST" AND http.url ENDSWITH "/signup" AND http.status >= 400'
)


def _reachable(host: str) -> str:
    """Where to reach a server bound to `host`: loopback for a wildcard bind (every address)."""
    try:
        wildcard = not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a name
        wildcard = False
    return "127.0.0.1" if wildcard else host


def ensure_failed_signups_group(xray: XRayServer, region: str) -> bool:
    """Create the `failed-signups` group on `xray` unless it exists; True when created. A failure
    is logged, not raised: the stack runs without the group rather than not at all."""
    client = boto3.client(
        "xray",
        endpoint_url=f"http://{_reachable(xray.host)}:{xray.port}",
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        try:
            client.get_group(GroupName=FAILED_SIGNUPS)
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "InvalidRequestException":
                raise
        client.create_group(GroupName=FAILED_SIGNUPS, FilterExpression=FAILED_SIGNUPS_FILTER)
    except (BotoCoreError, ClientError) as exc:
        log.warning("could not create the X-Ray group %s: %s", FAILED_SIGNUPS, exc)
        return False
    log.info("created the X-Ray group %s (%s)", FAILED_SIGNUPS, FAILED_SIGNUPS_FILTER)
    return True

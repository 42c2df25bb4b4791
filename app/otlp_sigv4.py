"""SigV4 for OTLP/HTTP: a requests session that signs every span export for AWS X-Ray.

Why: X-Ray takes OpenTelemetry spans directly at its OTLP endpoint,
`https://xray.<region>.amazonaws.com/v1/traces` (OTLP/HTTP, protobuf or JSON, gzip or none), and
only from callers that sign each request with AWS Signature Version 4
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html).
The X-Ray daemon is not involved on this path, and there is no collector to sign for the app: the
OTLP exporter sends through a `requests.Session`, so the signing happens in that session.

Every request is signed as it leaves, over the exact bytes of its body (gzip-compressed when the
exporter compresses, `Content-Encoding: gzip` then being one of the signed headers), with
credentials taken from botocore's default chain at that moment: environment, shared files, then
the instance profile on Elastic Beanstalk, whose temporary credentials botocore refreshes before
they expire. A retry is signed afresh, so its `X-Amz-Date` is current.
"""

from __future__ import annotations

import botocore.session
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import NoCredentialsError

__all__ = ["SIGNED_HEADERS", "SigV4Signer", "sigv4_session"]

#: The request's own headers that the signature covers, besides `host`, `x-amz-date` and
#: `x-amz-security-token` (which SigV4 adds): the ones that say how to read the body. Headers a
#: proxy or the HTTP library may rewrite (Connection, User-Agent, Accept-Encoding) stay unsigned.
SIGNED_HEADERS: frozenset[str] = frozenset({"content-type", "content-encoding"})
_AUTH_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


class SigV4Signer:
    """A requests auth hook: signs each prepared request with SigV4 and current credentials."""

    def __init__(
        self,
        region: str,
        service: str = "xray",
        session: botocore.session.Session | None = None,
    ) -> None:
        self.region = region
        self.service = service
        self._session = session if session is not None else botocore.session.Session()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        credentials = self._session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=_body_bytes(request.body),
            headers={k: v for k, v in request.headers.items() if k.lower() in SIGNED_HEADERS},
        )
        # Frozen per request: a refreshable (instance profile) credential renews itself here.
        SigV4Auth(credentials.get_frozen_credentials(), self.service, self.region).add_auth(signed)
        for name in _AUTH_HEADERS:
            request.headers.pop(name, None)
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


def _body_bytes(body: object) -> bytes:
    """The body exactly as it will be sent; a streamed body cannot be signed in advance."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError(f"cannot sign a streamed request body ({type(body).__name__})")


def sigv4_session(region: str, service: str = "xray") -> requests.Session:
    """A `requests.Session` whose every request is SigV4-signed for `service` in `region`.

    For `OTLPSpanExporter(endpoint="https://xray.<region>.amazonaws.com/v1/traces",
    session=sigv4_session(region))`.
    """
    session = requests.Session()
    session.auth = SigV4Signer(region, service)
    return session

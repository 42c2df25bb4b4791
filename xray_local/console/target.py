"""Where the console reads traces from, and the one place X-Ray API failures become console errors.

The console never reads the store: it calls the X-Ray API with boto3, so the same pages show the
local server's traces or an AWS account's. An `ApiTarget` says which API (this server's own
address, an explicit endpoint, or AWS in a region with the usual credential chain) and how long to
wait. Clients are built on first use, never at import, and with short timeouts and no retries: a
console that hangs or multiplies calls against a sick API is worse than one that says so at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_xray import XRayClient

__all__ = [
    "LOCAL_CREDENTIALS",
    "ApiRejected",
    "ApiTarget",
    "ApiUnavailable",
    "ClientPool",
    "ConsoleApiError",
    "call_api",
]

#: xray_local does not check signatures, but botocore will not send an unsigned request.
LOCAL_CREDENTIALS = {"aws_access_key_id": "xray-local", "aws_secret_access_key": "xray-local"}


@dataclass(frozen=True)
class ApiTarget:
    """Which X-Ray API the console reads.

    - `same_server=True`: the server that serves the console (xray_local), found from the
      request's own server address, so a server started on port 0 needs no extra wiring;
    - `endpoint_url`: an explicit X-Ray API (another xray_local, a test double);
    - neither: AWS X-Ray in `region` with boto3's credential chain (`profile` optional).

    Log lines are read from CloudWatch Logs at the same place (xray_local serves a subset of its
    API): from `log_groups` when given (`--log-group`, e.g. Elastic Beanstalk's
    `/aws/elasticbeanstalk/ENV/var/log/web.stdout.log`), else, off AWS, from the groups named
    after the services (what the local stack ships to); on AWS with none given, from nothing.
    """

    region: str = "us-east-1"
    endpoint_url: str | None = None
    same_server: bool = False
    profile: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    log_groups: tuple[str, ...] = ()

    def groups_for(self, services: list[str]) -> list[str]:
        """The log groups holding the lines of `services`."""
        if self.log_groups:
            return list(self.log_groups)
        return [] if self.is_aws else list(dict.fromkeys(services))

    @property
    def is_aws(self) -> bool:
        return not self.same_server and self.endpoint_url is None

    def describe(self, endpoint: str | None = None) -> str:
        """How the page names the API: its URL, or AWS X-Ray and the region."""
        if endpoint:
            return endpoint
        if self.endpoint_url:
            return self.endpoint_url
        return f"AWS X-Ray ({self.region})"


class ConsoleApiError(Exception):
    """An X-Ray API call that did not give an answer the page can draw."""

    status = 502
    kind = "api_error"

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def to_json(self) -> dict[str, Any]:
        return {"error": self.kind, "code": self.code, "message": self.message}


class ApiRejected(ConsoleApiError):
    """The API answered with an error (InvalidRequestException for a bad filter, AccessDenied)."""

    def __init__(self, message: str, code: str, http_status: int) -> None:
        super().__init__(message, code)
        self.status = 400 if code == "InvalidRequestException" else 502
        self.kind = "invalid_request" if code == "InvalidRequestException" else "api_error"
        self.http_status = http_status


class ApiUnavailable(ConsoleApiError):
    """The API did not answer in time, refused the connection, or has no credentials to use."""

    status = 503
    kind = "unavailable"


class ClientPool:
    """One boto3 X-Ray client per endpoint, built lazily and shared by request threads."""

    def __init__(self, target: ApiTarget) -> None:
        self.target = target
        self._clients: dict[str | None, XRayClient] = {}
        self._logs: dict[str | None, CloudWatchLogsClient] = {}
        self._lock = threading.Lock()

    def endpoint_for(self, server_address: tuple[str, int] | None) -> str | None:
        """The endpoint URL this target means, given the serving socket's address."""
        if self.target.same_server:
            if server_address is None:
                raise ApiUnavailable("the console does not know its own server's address")
            host, port = server_address
            return f"http://{host}:{port}"
        return self.target.endpoint_url

    def client(self, endpoint: str | None) -> XRayClient:
        with self._lock:
            existing = self._clients.get(endpoint)
            if existing is not None:
                return existing
            try:
                client = self._build(endpoint)
            except BotoCoreError as exc:  # an unknown --profile, a broken config file
                raise ApiUnavailable(
                    f"Cannot make an X-Ray client for {self.target.describe(endpoint)}: {exc}",
                    type(exc).__name__,
                ) from exc
            self._clients[endpoint] = client
            return client

    def logs_client(self, endpoint: str | None) -> CloudWatchLogsClient:
        """A CloudWatch Logs client for the same place (built lazily, like the X-Ray one)."""
        with self._lock:
            existing = self._logs.get(endpoint)
            if existing is None:
                try:
                    existing = self._session(endpoint).client(
                        "logs", endpoint_url=endpoint, config=self._config()
                    )
                except BotoCoreError as exc:
                    raise ApiUnavailable(
                        f"Cannot make a CloudWatch Logs client: {exc}", type(exc).__name__
                    ) from exc
                self._logs[endpoint] = existing
            return existing

    def _config(self) -> Config:
        t = self.target
        return Config(
            connect_timeout=t.connect_timeout,
            read_timeout=t.read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
            user_agent_extra="xray-signup-console",
        )

    def _session(self, endpoint: str | None) -> boto3.session.Session:
        if endpoint is not None:
            return boto3.session.Session(
                region_name=self.target.region,
                aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
                aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
            )
        return boto3.session.Session(
            region_name=self.target.region, profile_name=self.target.profile
        )

    def _build(self, endpoint: str | None) -> XRayClient:
        t = self.target
        config = Config(
            connect_timeout=t.connect_timeout,
            read_timeout=t.read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
            user_agent_extra="xray-signup-console",
        )
        if endpoint is not None:
            session = boto3.session.Session(
                region_name=t.region,
                aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
                aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
            )
            return session.client("xray", endpoint_url=endpoint, config=config)
        session = boto3.session.Session(region_name=t.region, profile_name=t.profile)
        return session.client("xray", config=config)


def call_api(target: ApiTarget, endpoint: str | None, operation: str, call: Any) -> Any:
    """Run `call()` (a boto3 call), turning every failure into a `ConsoleApiError` with a message
    a person can act on."""
    where = target.describe(endpoint)
    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Error")
        message = str(error.get("Message") or exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in {"ThrottledException", "ThrottlingException"} or status >= 500:
            raise ApiUnavailable(
                f"The X-Ray API at {where} is not answering {operation} right now "
                f"({code}: {message}); the console retries on the next refresh.",
                code,
            ) from exc
        raise ApiRejected(f"{code}: {message}", code, status) from exc
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        raise ApiUnavailable(
            f"The X-Ray API at {where} is not answering: {operation} timed out ({exc}); "
            "the console retries on the next refresh.",
            "Timeout",
        ) from exc
    except (EndpointConnectionError, ConnectionClosedError) as exc:
        raise ApiUnavailable(
            f"The X-Ray API at {where} is not answering: cannot connect ({exc}); "
            "the console retries on the next refresh.",
            "ConnectionError",
        ) from exc
    except (NoCredentialsError, NoRegionError) as exc:
        raise ApiUnavailable(
            f"No AWS credentials or region to call {where}: {exc}. Configure them the usual way "
            "(AWS_PROFILE, aws configure, environment variables) and reload.",
            "NoCredentials",
        ) from exc
    except BotoCoreError as exc:
        raise ApiUnavailable(
            f"The X-Ray API at {where} is not answering: {exc}", type(exc).__name__
        ) from exc

"""One budget per request: a silent, refusing or failing endpoint answers within it plus a second.

The endpoints are real sockets on loopback (a server that accepts and never answers, a closed
port), so botocore's own timeouts, retries and backoff are what the budget has to contain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from flask.testing import FlaskClient

import app.gunicorn_conf as gunicorn_conf
from app import create_app
from app.aws import client_config
from app.config import MAX_DEADLINE_SECONDS, Settings
from app.deadline import MAX_OVERSHOOT, READ_TIMEOUT, install_deadline, request_budget
from app.signups.errors import StoreUnavailable
from app.signups.service import SignupService
from app.signups.validation import SignupRequest
from tests.support.aws import SignupResources
from tests.support.fake_endpoint import AwsErrorEndpoint
from tests.support.net import free_port
from tests.support.silent import SilentEndpoint
from tests.support.udp import DaemonListener

FORM = {"name": "Ada", "email": "ada@example.com"}
#: Short enough to keep the suite quick, long enough for a retry after a read timeout.
BUDGET = 3.0
#: nginx's proxy_read_timeout on Elastic Beanstalk (not changed by .ebextensions).
NGINX_PROXY_TIMEOUT = 60


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    with SilentEndpoint() as endpoint:
        yield endpoint


def app_at(endpoint_url: str, daemon: DaemonListener, budget: float = BUDGET) -> FlaskClient:
    settings = Settings(
        table_name="signups",
        topic_arn="arn:aws:sns:us-east-1:123456789012:new-signups",
        endpoint_url=endpoint_url,
        xray_daemon_address=daemon.address,
        deadline_seconds=budget,
    )
    return create_app(settings).test_client()


def timed_post(client: FlaskClient) -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    answer = client.post("/signup", data=FORM)
    return answer.status_code, dict(answer.headers), time.monotonic() - started


@pytest.mark.parametrize(("budget", "attempts"), [(3.0, 1), (5.0, 2)])
def test_a_silent_dynamodb_answers_503_within_the_budget(
    silent: SilentEndpoint, daemon: DaemonListener, budget: float, attempts: int
) -> None:
    status, headers, elapsed = timed_post(app_at(silent.url, daemon, budget))
    assert status == 503 and headers["Retry-After"] == "5"
    assert elapsed <= budget + MAX_OVERSHOOT, f"answered after {elapsed:.2f} s"
    # Each attempt waits out the read timeout; a retry happens only when the budget has room
    # for its backoff and another attempt.
    assert silent.accepted == attempts


def test_health_is_bounded_by_the_budget_too(
    silent: SilentEndpoint, daemon: DaemonListener
) -> None:
    started = time.monotonic()
    answer = app_at(silent.url, daemon).get("/health")
    elapsed = time.monotonic() - started
    assert answer.status_code == 503
    assert elapsed <= BUDGET + MAX_OVERSHOOT


def test_a_refusing_dynamodb_answers_503_within_the_budget(daemon: DaemonListener) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    status, headers, elapsed = timed_post(app_at(closed, daemon))
    assert status == 503 and headers["Retry-After"] == "5"
    assert elapsed <= BUDGET + MAX_OVERSHOOT


def test_a_throttle_stays_a_throttle_when_the_budget_ends_the_retries(
    daemon: DaemonListener,
) -> None:
    endpoint = AwsErrorEndpoint(400, "ProvisionedThroughputExceededException")
    try:
        settings = Settings(
            table_name="signups",
            topic_arn="arn:aws:sns:us-east-1:123456789012:new-signups",
            endpoint_url=endpoint.url,
            xray_daemon_address=daemon.address,
            deadline_seconds=2.0,  # room for the first attempt, not for a backoff and a retry
        )
        answer = create_app(settings).test_client().post("/signup", data=FORM)
    finally:
        endpoint.close()
    assert answer.status_code == 429
    assert answer.get_json()["code"] == "ProvisionedThroughputExceededException"
    assert len(endpoint.requests) == 1


def test_a_silent_sns_still_answers_201_within_the_budget(
    aws: SignupResources, silent: SilentEndpoint, daemon: DaemonListener
) -> None:
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        xray_daemon_address=daemon.address,
        deadline_seconds=BUDGET,
    )
    flask_app = create_app(settings)
    service: SignupService = flask_app.extensions["signup_service"]
    sns = boto3.session.Session(region_name="us-east-1").client(
        "sns", endpoint_url=silent.url, config=client_config()
    )
    install_deadline(sns)
    service.notifier._client = sns  # DynamoDB answers (moto); SNS accepts and never answers
    status, _, elapsed = timed_post(flask_app.test_client())
    assert status == 201
    assert elapsed <= BUDGET + MAX_OVERSHOOT
    item = aws.item(FORM["email"])
    assert item is not None and item["notified"] == {"BOOL": False}
    assert aws.drain_messages() == []


def test_the_budget_fits_inside_gunicorn_and_nginx() -> None:
    """The longest answer the budget allows ends before gunicorn or nginx gives up on it."""
    longest = MAX_DEADLINE_SECONDS + MAX_OVERSHOOT
    assert longest < gunicorn_conf.timeout < NGINX_PROXY_TIMEOUT
    assert Settings().deadline_seconds + MAX_OVERSHOOT < 10
    assert READ_TIMEOUT - MAX_OVERSHOOT <= Settings().deadline_seconds


@pytest.mark.parametrize("value", ["1.5", "21", "soon", "nan"])
def test_an_out_of_range_budget_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="SIGNUP_DEADLINE_SECONDS"):
        Settings.from_env({"SIGNUP_DEADLINE_SECONDS": value})


def test_a_spent_budget_sends_nothing_and_is_an_outage(daemon: DaemonListener) -> None:
    """No attempt starts that could not end within the budget plus MAX_OVERSHOOT."""
    endpoint = AwsErrorEndpoint(500, "InternalServerError")
    try:
        flask_app = create_app(
            Settings(endpoint_url=endpoint.url, xray_daemon_address=daemon.address)
        )
        store = flask_app.extensions["signup_service"].store
        signup = SignupRequest("Ada", "ada@example.com", "No", "flatly")
        with request_budget(0.5), pytest.raises(StoreUnavailable) as raised:
            store.put_new(signup, "2026-01-01T00:00:00.000Z", "token")
    finally:
        endpoint.close()
    assert raised.value.code == "DeadlineExceeded"
    assert "PutItem" in str(raised.value)
    assert endpoint.requests == []

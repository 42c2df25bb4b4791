"""No credential or email where it must not be: tracked files, the app's log lines, its traces.

The repository scan reads every tracked file for AWS key shapes and private keys. The runtime check
runs signups (created, duplicate, invalid, SNS failing) with distinctive fake credentials in the
environment and looks for them, their signature material, and the email in everything the app
logged and every segment document it sent to the daemon.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from tests.support.aws import SignupResources
from tests.support.processes import PROJECT_ROOT
from tests.support.udp import DaemonListener

ACCESS_KEY = "AKIAFAKEFORTESTS0001"
SECRET_KEY = "fakeSecretForTests/NotReal+0123456789abcd"
SESSION_TOKEN = "FakeSessionTokenForTestsOnly0123456789"

#: AWS key shapes (access key ids, secrets assigned in config or code) and private keys.
PATTERNS = {
    "access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    "secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b"
    ),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
}
#: Files that name the patterns themselves, or well-known placeholder keys, on purpose.
ALLOWED = {"tests/app/test_no_secrets.py"}
PLACEHOLDERS = {"AKIAIOSFODNN7EXAMPLE"}  # AWS's documentation key


def test_no_credential_in_tracked_files() -> None:
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    found = []
    for name in filter(None, tracked):
        path = PROJECT_ROOT / name
        if name in ALLOWED or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for kind, pattern in PATTERNS.items():
            found += [(name, kind, m) for m in pattern.findall(text) if m not in PLACEHOLDERS]
    assert found == []


def test_the_scan_finds_what_it_looks_for() -> None:
    sample = f"aws_secret_access_key = {'a' * 40}\nkey={ACCESS_KEY}\n-----BEGIN PRIVATE KEY-----"
    assert all(pattern.search(sample) for pattern in PATTERNS.values())


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)


def test_no_credential_or_email_in_logs_or_traces(
    secret_env: None,
    settings: Settings,
    aws: SignupResources,
    daemon: DaemonListener,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client: FlaskClient = create_app(settings).test_client()
    email = "Secret.Person@Example.com"
    answers = [
        client.post("/signup", data={"name": "Sec", "email": email}),
        client.post("/signup", json={"name": "Sec", "email": email}),
        client.post("/signup", data={"name": "Sec", "email": email, "theme": "neon"}),
    ]
    aws.sns.delete_topic(TopicArn=aws.topic_arn)  # the next publish fails: a logged warning
    answers.append(client.post("/signup", data={"name": "Sec", "email": "other." + email}))
    assert [a.status_code for a in answers] == [201, 409, 400, 201]
    assert answers[-1].get_json()["notified"] is False
    daemon.wait_for(lambda docs: sum(1 for d in docs if "http" in d) >= 4)
    logged = capsys.readouterr()
    documents = json.dumps(daemon.snapshot())
    for where, text in (("logs", logged.err + logged.out), ("traces", documents)):
        assert text.strip(), where
        for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, "Signature=", "Credential="):
            assert secret not in text, (where, secret)
        assert email.lower() not in text.lower(), (where, "email")
        assert "Traceback" not in text or where == "logs", where

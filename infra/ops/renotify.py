"""`xray-signup renotify`: publish the notifications stored signups are still owed.

Locally it talks to the running stack's AWS endpoint (moto behind the fault proxy); with `--aws`
to AWS itself, with the credentials and region boto3 finds (the table and topic of the Elastic
Beanstalk environment: `--table` and `--topic-arn`, or the environment variables the app reads).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from app.signups.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

__all__ = ["LOCAL_ENDPOINT", "register", "run"]

#: The AWS endpoint of `xray-signup up` (the fault proxy in front of moto).
LOCAL_ENDPOINT = "http://127.0.0.1:5050"
#: The topic the local stack creates (infra/local/embedded_aws.py).
LOCAL_TOPIC_NAME = "new-signups"
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "renotify",
        help="publish the notifications stored signups are still owed",
        description=(
            "Find stored signups whose notification never went out (notified = false) and "
            "publish each once, recording it on the item. Messages carry the signup's "
            "requestToken attribute, so a subscriber recognises a repeat."
        ),
    )
    parser.add_argument(
        "--older-than",
        default="1m",
        help="only signups created at least this long ago, Locust's form: 30s, 1m, 1h "
        "(default %(default)s: past any request still in flight)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what is owed, send nothing")
    parser.add_argument(
        "--aws", action="store_true", help="AWS itself, not the local stack's endpoint"
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or LOCAL_ENDPOINT,
        help="the AWS endpoint of the local stack (default: $AWS_ENDPOINT_URL or %(default)s)",
    )
    parser.add_argument(
        "--table",
        default=os.environ.get("STARTUP_SIGNUP_TABLE") or "signups",
        help="the signups table (default: $STARTUP_SIGNUP_TABLE or %(default)s)",
    )
    parser.add_argument(
        "--topic-arn",
        default=os.environ.get("NEW_SIGNUP_TOPIC") or "",
        help=f"the topic (default: $NEW_SIGNUP_TOPIC; locally the topic {LOCAL_TOPIC_NAME!r})",
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or "us-east-1",
        help="the region (default: $AWS_REGION or %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: `xray-signup --help` should not pay for boto3 and the X-Ray SDK.
    from aws_xray_sdk import global_sdk_config

    from loadgen.plan import parse_duration

    global_sdk_config.set_sdk_enabled(False)  # a repair command, not a traced request
    try:
        older_than = parse_duration(args.older_than)
    except ValueError as exc:
        print(f"xray-signup renotify: --older-than: {exc}", file=sys.stderr)
        return 2
    endpoint = None if args.aws else args.endpoint_url
    if endpoint:
        for name, value in _LOCAL_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    try:
        return _renotify(args, endpoint, older_than)
    except (StoreError, _NoTopic) as exc:
        print(f"xray-signup renotify: {exc}", file=sys.stderr)
        return 2


class _NoTopic(Exception):
    """No topic ARN was given and none could be found."""


def _renotify(args: argparse.Namespace, endpoint: str | None, older_than: float) -> int:
    from app.aws import build_clients
    from app.config import Settings
    from app.signups.notifier import SignupNotifier
    from app.signups.renotify import RenotifyReport, renotify
    from app.signups.service import SignupService
    from app.signups.store import SignupStore

    settings = Settings(table_name=args.table, region=args.region, endpoint_url=endpoint)
    clients = build_clients(settings)
    topic_arn = args.topic_arn or _local_topic(clients.sns, endpoint)
    service = SignupService(
        SignupStore(clients.dynamodb, args.table), SignupNotifier(clients.sns, topic_arn)
    )
    where = endpoint or f"AWS ({args.region})"
    print(f"renotify: table {args.table} at {where}, topic {topic_arn}", flush=True)

    def progress(report: RenotifyReport) -> None:
        if report.owed % 50 == 0:
            print(f"renotify: {report.owed} owed so far", flush=True)

    report = renotify(service, older_than, dry_run=args.dry_run, progress=progress)
    if args.dry_run:
        print(f"renotify: {report.owed} owed (older than {args.older_than}); dry run: none sent")
        for email in report.emails:
            print(f"  {email}")
        return 0
    print(
        f"renotify: {report.owed} owed (older than {args.older_than}): "
        f"{report.published} published, {report.failed} failed"
    )
    return 1 if report.failed else 0


def _local_topic(sns: SNSClient, endpoint: str | None) -> str:
    """Locally the stack's topic is found by its name, so no ARN has to be copied."""
    if not endpoint:
        raise _NoTopic("--topic-arn (or NEW_SIGNUP_TOPIC) is needed with --aws")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        topics = sns.list_topics()["Topics"]
    except (BotoCoreError, ClientError) as exc:
        message = f"cannot list topics at {endpoint}: is `xray-signup up` running? ({exc})"
        raise _NoTopic(message) from exc
    for topic in topics:
        if topic["TopicArn"].rsplit(":", 1)[-1] == LOCAL_TOPIC_NAME:
            return str(topic["TopicArn"])
    raise _NoTopic(f"no topic {LOCAL_TOPIC_NAME!r} at {endpoint}: pass --topic-arn")

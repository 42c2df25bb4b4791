"""Embedded AWS for the local stack: a moto server on loopback with the demo's resources.

The table, the topic and an SQS queue subscribed to the topic (so the notifications the app sends
can be read: `aws sqs receive-message --endpoint-url ...`) are created the way the Elastic
Beanstalk environment creates them on AWS: key `email` (string), on-demand billing.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from hostguard import LOOPBACK_NAMES, HostGuard, HostPolicy

__all__ = ["FAKE_CREDENTIALS", "LocalAws", "LocalAwsResources"]

#: moto accepts any credentials; these keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class LocalAwsResources:
    table_name: str
    topic_arn: str
    queue_url: str


class LocalAws:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5050,
        region: str = "us-east-1",
        table_name: str = "signups",
        topic_name: str = "new-signups",
        queue_name: str = "signup-notifications",
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self._names = (table_name, topic_name, queue_name)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.resources: LocalAwsResources | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(
        self, front_port: int | None = None, allowed_hosts: tuple[str, ...] = ()
    ) -> LocalAwsResources:
        """Serve and provision; `front_port` is the proxy in front, whose Host calls carry;
        `allowed_hosts` the names added to every listener of the stack."""
        self._server.start()
        self.port = self._server.get_host_and_port()[1]  # the real one when asked for port 0
        # moto's own loopback port is reachable too: the same guard as every local listener.
        fronts = [f"{name}:{front_port}" for name in LOOPBACK_NAMES] if front_port else []
        fronts += allowed_hosts
        wsgi = self._server._server  # ThreadedMotoServer keeps its werkzeug server here
        if wsgi is not None:
            wsgi.app = HostGuard(wsgi.app, HostPolicy.loopback(self.port, fronts))
        self.resources = self._provision()
        return self.resources

    def stop(self) -> None:
        self._server.stop()

    def _session(self) -> boto3.session.Session:
        return boto3.session.Session(
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def _provision(self) -> LocalAwsResources:
        table_name, topic_name, queue_name = self._names
        session = self._session()
        session.client("dynamodb", endpoint_url=self.endpoint_url).create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sns = session.client("sns", endpoint_url=self.endpoint_url)
        sqs = session.client("sqs", endpoint_url=self.endpoint_url)
        topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
        queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        return LocalAwsResources(table_name, topic_arn, queue_url)

"""Both templates deploy into moto's CloudFormation, and the app runs on what the stacks made.

The app is configured only from the environment stack's outputs (the environment properties EB
would resolve), plus `AWS_XRAY_SDK_ENABLED=false` because no daemon runs here. The instance
profile's policy, as IAM stored it, is checked against the ARNs the environment stack produced.

moto's CloudFormation has no model for the X-Ray resources (`AWS::XRay::SamplingRule`,
`AWS::XRay::ResourcePolicy`): it warns and creates nothing, and its X-Ray service answers
GetSamplingRules with "Not yet implemented". So they are left out of what is deployed here, by a
list that `test_moto_leaves_out_only_what_it_cannot_model` holds to moto's own registry (when moto
learns a type, that test says so). They are checked offline elsewhere: cfn-lint against
CloudFormation's schemas and the sampling rules against app/sampling-rules.json
(test_environment_template.py, test_ebextensions.py). moto also ignores the topic's
`TracingConfig`; test_ebextensions.py checks it in the configuration.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.parsing import resource_class_from_type

from infra.deploy.environment_template import CUSTOM_NAMESPACE, MergedTemplate, build_template

REGION = "us-east-1"
#: Elastic Beanstalk names an environment's stack awseb-<environment id>-stack.
EB_STACK = "awseb-e-abcd123456-stack"
IAM_STACK = "xray-signup-iam"
EMAIL = (CUSTOM_NAMESPACE, "NewSignupEmail")
#: The option's default: a reserved domain, so the subscription is never confirmed, never mailed.
NOBODY = "nobody@example.com"
#: Resource types of the environment that moto's CloudFormation cannot create (see the docstring).
NOT_IN_MOTO = frozenset({"AWS::XRay::SamplingRule", "AWS::XRay::ResourcePolicy"})


def moto_body(merged: MergedTemplate) -> str:
    """The template minus the resources moto cannot model; nothing left may refer to them."""
    template = json.loads(merged.to_json())
    dropped = {
        logical_id
        for logical_id, body in template["Resources"].items()
        if body["Type"] in NOT_IN_MOTO
    }
    for logical_id in dropped:
        del template["Resources"][logical_id]
    text = json.dumps(template)
    for logical_id in dropped:
        assert f'"{logical_id}"' not in text, f"{logical_id} is still referred to"
    return text


@pytest.fixture
def session(aws_credentials: None) -> Iterator[boto3.session.Session]:
    # AWS managed policies loaded, so the ARNs the IAM template names can be looked up.
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield boto3.session.Session(region_name=REGION)


def deploy(session: boto3.session.Session, name: str, body: str) -> dict[str, str]:
    """Create a stack, insist it completed, and return its outputs."""
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def physical_ids(session: boto3.session.Session, name: str) -> dict[str, str]:
    pages = session.client("cloudformation").get_paginator("list_stack_resources")
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in pages.paginate(StackName=name)
        for r in page["StackResourceSummaries"]
    }


@pytest.fixture
def environment_stack(
    session: boto3.session.Session, eb_configs: list[dict[str, Any]]
) -> tuple[MergedTemplate, dict[str, str]]:
    merged = build_template(eb_configs)
    return merged, deploy(session, EB_STACK, moto_body(merged))


def test_moto_leaves_out_only_what_it_cannot_model(eb_configs: list[dict[str, Any]]) -> None:
    types = {body["Type"] for body in build_template(eb_configs).template["Resources"].values()}
    assert {t for t in types if resource_class_from_type(t) is None} == NOT_IN_MOTO


def test_iam_stack_makes_the_roles_eb_create_takes(
    session: boto3.session.Session, repo_root: Path
) -> None:
    outputs = deploy(session, IAM_STACK, (repo_root / "infra/deploy/iam.yaml").read_text())
    iam = session.client("iam")
    assert outputs["InstanceProfileName"] == "xray-signup-ec2-profile"
    assert outputs["ServiceRoleName"] == "xray-signup-service-role"
    profile = iam.get_instance_profile(InstanceProfileName=outputs["InstanceProfileName"])
    (role,) = profile["InstanceProfile"]["Roles"]
    assert role["Arn"] == outputs["InstanceRoleArn"]

    # moto's CloudFormation does not attach ManagedPolicyArns, so check what the template names
    # against the AWS managed policies moto knows (a misspelt name or wrong path fails here).
    template = (repo_root / "infra/deploy/iam.yaml").read_text()
    managed = re.findall(r"arn:\$\{AWS::Partition\}:iam::aws:policy/([\w/-]+)", template)
    assert len(managed) == 4
    for name in managed:
        assert iam.get_policy(PolicyArn=f"arn:aws:iam::aws:policy/{name}")["Policy"]
    service = iam.get_role(RoleName=outputs["ServiceRoleName"])["Role"]
    (trust,) = service["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "elasticbeanstalk.amazonaws.com"}


def test_app_signs_up_on_the_environment_stack(
    session: boto3.session.Session, environment_stack: tuple[MergedTemplate, dict[str, str]]
) -> None:
    from app import create_app
    from app.config import Settings

    merged, outputs = environment_stack
    environ = merged.environment(outputs)
    ids = physical_ids(session, EB_STACK)
    assert environ["STARTUP_SIGNUP_TABLE"] == ids["SignupTable"]
    assert environ["NEW_SIGNUP_TOPIC"] == ids["NewSignupTopic"]
    assert environ["AWS_REGION"] == REGION
    assert environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == (
        f"https://xray.{REGION}.amazonaws.com/v1/traces"
    )
    assert environ["TRACER"] == "xray-sdk"
    subscribers = session.client("sns").list_subscriptions_by_topic(TopicArn=ids["NewSignupTopic"])
    # No email set: the option's default, which nobody can confirm.
    assert [(s["Protocol"], s["Endpoint"]) for s in subscribers["Subscriptions"]] == [
        ("email", NOBODY)
    ]

    table = session.client("dynamodb").describe_table(TableName=environ["STARTUP_SIGNUP_TABLE"])
    assert table["Table"]["KeySchema"] == [{"AttributeName": "email", "KeyType": "HASH"}]
    assert table["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    # Watch the topic from outside, as a subscriber would.
    sqs = session.client("sqs")
    queue_url = sqs.create_queue(QueueName="watch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    session.client("sns").subscribe(
        TopicArn=environ["NEW_SIGNUP_TOPIC"],
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
    )

    settings = Settings.from_env({**environ, "AWS_XRAY_SDK_ENABLED": "false"})
    client = create_app(settings).test_client()
    form = {"name": "Ada", "email": "ada@example.com", "previewAccess": "Yes", "theme": "slate"}
    assert client.get("/health").status_code == 200
    first = client.post("/signup", data=form)
    assert first.status_code == 201, first.get_json()
    again = client.post("/signup", data=form)
    assert again.status_code == 409, again.get_json()

    item = session.client("dynamodb").get_item(
        TableName=environ["STARTUP_SIGNUP_TABLE"], Key={"email": {"S": "ada@example.com"}}
    )
    assert item["Item"]["name"] == {"S": "Ada"}
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1  # the duplicate published nothing
    assert "ada@example.com" in json.loads(messages[0]["Body"])["Message"]


@pytest.mark.parametrize(
    ("overrides", "endpoint"),
    [
        ({}, NOBODY),
        ({EMAIL: "owner@example.com"}, "owner@example.com"),
    ],
    ids=["default", "set-on-the-environment"],
)
def test_email_subscription_goes_to_the_custom_option(
    session: boto3.session.Session,
    eb_configs: list[dict[str, Any]],
    overrides: dict[tuple[str, str], str],
    endpoint: str,
) -> None:
    merged = build_template(eb_configs, overrides)
    outputs = deploy(session, EB_STACK, moto_body(merged))
    topic = merged.environment(outputs)["NEW_SIGNUP_TOPIC"]
    subscriptions = session.client("sns").list_subscriptions_by_topic(TopicArn=topic)
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]] == [
        ("email", endpoint)
    ]


def test_instance_policy_covers_the_environment_resources_and_nothing_else(
    session: boto3.session.Session,
    repo_root: Path,
    environment_stack: tuple[MergedTemplate, dict[str, str]],
) -> None:
    iam_outputs = deploy(session, IAM_STACK, (repo_root / "infra/deploy/iam.yaml").read_text())
    role_name = iam_outputs["InstanceRoleArn"].rsplit("/", 1)[1]
    document = session.client("iam").get_role_policy(RoleName=role_name, PolicyName="signup-app")
    policy = document["PolicyDocument"]
    if isinstance(policy, str):  # moto renders a policy given to CloudFormation as a dict repr
        policy = ast.literal_eval(policy)
    statements = {s["Sid"]: s for s in policy["Statement"]}

    def allowed(sid: str, arn: str) -> bool:
        return any(fnmatchcase(arn, pattern) for pattern in statements[sid]["Resource"])

    merged, outputs = environment_stack
    environ = merged.environment(outputs)
    table = session.client("dynamodb").describe_table(TableName=environ["STARTUP_SIGNUP_TABLE"])
    assert allowed("SignupTable", table["Table"]["TableArn"])
    assert allowed("NewSignupTopic", environ["NEW_SIGNUP_TOPIC"])

    account = iam_outputs["InstanceRoleArn"].split(":")[4]
    assert not allowed("SignupTable", f"arn:aws:dynamodb:{REGION}:{account}:table/signups")
    assert not allowed(
        "SignupTable", f"arn:aws:dynamodb:{REGION}:{account}:table/mystack-SignupTable-X1"
    )
    assert not allowed(
        "SignupTable", f"arn:aws:dynamodb:{REGION}:999999999999:table/{EB_STACK}-SignupTable-X1"
    )
    assert not allowed("NewSignupTopic", f"arn:aws:sns:{REGION}:{account}:{EB_STACK}-Other-X1")
    # TRACER=opentelemetry: X-Ray's OTLP endpoint, as IAM stored the statement.
    otlp = statements["XRayOtlpEndpoint"]
    assert sorted(otlp["Action"]) == ["xray:PutSpans", "xray:PutSpansForIndexing"]
    assert otlp["Resource"] == "*"

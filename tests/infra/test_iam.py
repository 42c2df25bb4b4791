"""infra/deploy/iam.yaml: lints clean, least privilege for the app, the roles `eb create` needs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

IAM_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "deploy" / "iam.yaml"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Reads CloudFormation's short tags (!Sub, !Ref, !GetAtt) as their long forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def iam() -> dict[str, Any]:
    return yaml.load(IAM_TEMPLATE.read_text(), Loader=_CfnLoader)


def test_iam_template_lints_clean(cfn_lint: Callable[[str], list[str]]) -> None:
    assert cfn_lint(IAM_TEMPLATE.read_text()) == []


def test_app_policy_allows_exactly_what_the_app_does(iam: dict[str, Any]) -> None:
    (policy,) = iam["Resources"]["InstanceRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"SignupTable", "NewSignupTopic", "XRayOtlpEndpoint"}
    assert sorted(statements["SignupTable"]["Action"]) == [
        "dynamodb:DescribeTable",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert statements["NewSignupTopic"]["Action"] == ["sns:Publish"]
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
    for sid in ("SignupTable", "NewSignupTopic"):
        statement = statements[sid]
        for resource in statement["Resource"]:
            arn = resource["Fn::Sub"]
            assert "${AWS::AccountId}" in arn and "${EnvironmentStackPattern}" in arn
            assert arn.endswith(f"-{statement['Sid']}-*")


def test_instance_role_may_send_spans_to_the_xray_otlp_endpoint(iam: dict[str, Any]) -> None:
    """TRACER=opentelemetry: the app signs its OTLP exports with this role. The two actions are
    not in AWSXRayDaemonWriteAccess and take no resource ARN, so "*" and nothing else."""
    (policy,) = iam["Resources"]["InstanceRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    otlp = statements["XRayOtlpEndpoint"]
    assert sorted(otlp["Action"]) == ["xray:PutSpans", "xray:PutSpansForIndexing"]
    assert otlp["Resource"] == "*"
    assert "Condition" not in otlp


def test_cfn_lint_knows_the_actions(cfn_lint: Callable[[str], list[str]]) -> None:
    """The lint checks action names against AWS's published list: a misspelt one is reported,
    so the clean lint above vouches for xray:PutSpans and xray:PutSpansForIndexing."""
    misspelt = IAM_TEMPLATE.read_text().replace("xray:PutSpansForIndexing", "xray:PutSpanForIndex")
    assert any("putspanforindex" in finding for finding in cfn_lint(misspelt))


def test_managed_policies_and_trust(iam: dict[str, Any]) -> None:
    instance = iam["Resources"]["InstanceRole"]["Properties"]
    service = iam["Resources"]["ServiceRole"]["Properties"]

    def names(props: dict[str, Any]) -> set[str]:
        return {arn["Fn::Sub"].rsplit("/", 1)[1] for arn in props["ManagedPolicyArns"]}

    assert names(instance) == {"AWSElasticBeanstalkWebTier", "AWSXRayDaemonWriteAccess"}
    assert names(service) == {
        "AWSElasticBeanstalkEnhancedHealth",
        "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
    }
    (trust,) = instance["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    (trust,) = service["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "elasticbeanstalk.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}}


def test_outputs_name_what_eb_create_takes(iam: dict[str, Any]) -> None:
    outputs = iam["Outputs"]
    assert outputs["InstanceProfileName"]["Value"] == {"Ref": "InstanceProfile"}
    assert outputs["ServiceRoleName"]["Value"] == {"Ref": "ServiceRole"}


def test_ebextensions_default_profile_is_the_one_this_stack_names(
    iam: dict[str, Any], eb_options: dict[tuple[str, str], Any]
) -> None:
    prefix = iam["Parameters"]["NamePrefix"]["Default"]
    name = iam["Resources"]["InstanceProfile"]["Properties"]["InstanceProfileName"]["Fn::Sub"]
    profile = eb_options[("aws:autoscaling:launchconfiguration", "IamInstanceProfile")]
    assert name.replace("${NamePrefix}", prefix) == profile

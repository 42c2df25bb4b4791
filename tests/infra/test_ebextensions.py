"""The `.ebextensions` say what issue 4 asks of the environment, in options EB understands.

Only what Elastic Beanstalk documents for configuration files is allowed: the sections listed at
https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/ebextensions.html and the functions listed
at https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/ebextensions-functions.html, in
`Resources` and in backquoted option values (environments-cfg-softwaresettings.html). Anything
else (Conditions, Fn::If, AWS::NoValue...) is undocumented there, and a configuration file EB
cannot process makes a new environment's launch fail unrecoverably.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.deploy.environment_template import CUSTOM_NAMESPACE, ENVIRONMENT_NAMESPACE

Options = dict[tuple[str, str], Any]
ENV = ENVIRONMENT_NAMESPACE

#: The sections of a configuration file that EB documents.
DOCUMENTED_SECTIONS = {
    "option_settings",
    "packages",
    "groups",
    "users",
    "sources",
    "files",
    "commands",
    "services",
    "container_commands",
    "Resources",
}
#: The functions EB documents for configuration files: three of CloudFormation's and its own.
DOCUMENTED_FUNCTIONS = {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::GetOptionSetting"}
#: Pseudo parameters, which EB documents as backquoted Refs in environment properties.
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
#: The keys of a resource entry EB's examples use (no `Condition`: Conditions are undocumented).
RESOURCE_KEYS = {"Type", "Properties", "Metadata"}
_BACKQUOTED = re.compile(r"`([^`]*)`")


def functions(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (function name, argument) in a template fragment: keys `Ref` and `Fn::...`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" or key.startswith("Fn::"):
                yield key, value
            yield from functions(value)
    elif isinstance(node, list):
        for value in node:
            yield from functions(value)


def option_values(configs: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    """("namespace:option", value) for every option setting, in both of EB's syntaxes."""
    for config in configs:
        block = config.get("option_settings") or {}
        if isinstance(block, list):
            for entry in block:
                yield f"{entry.get('namespace', ENV)}:{entry['option_name']}", entry.get("value")
        else:
            for namespace, options in block.items():
                for name, value in (options or {}).items():
                    yield f"{namespace}:{name}", value


def undocumented(configs: list[dict[str, Any]]) -> list[str]:
    """What in these configuration files EB does not document; empty when all is documented."""
    findings: list[str] = []
    resources = {k: v for config in configs for k, v in (config.get("Resources") or {}).items()}
    for config in configs:
        findings += [f"section {key}" for key in sorted(set(config) - DOCUMENTED_SECTIONS)]

    def known(target: Any, extra: frozenset[str] = frozenset()) -> bool:
        # A resource of these files, one of EB's own (AWSEBAutoScalingGroup...), or `extra`.
        return target in resources or str(target).startswith("AWSEB") or target in extra

    for logical_id, body in resources.items():
        findings += [f"{logical_id}: key {k}" for k in sorted(set(body) - RESOURCE_KEYS)]
        for name, argument in functions(body):
            if name not in DOCUMENTED_FUNCTIONS:
                findings.append(f"{logical_id}: function {name}")
            elif name == "Ref" and not known(argument):
                findings.append(f"{logical_id}: Ref {argument}")
    for option, value in option_values(configs):
        for text in _BACKQUOTED.findall(str(value)):
            expression = json.loads(text)
            if not (isinstance(expression, dict) and len(expression) == 1):
                findings.append(f"{option}: not a single function: {text}")
            for name, argument in functions(expression):
                if name not in DOCUMENTED_FUNCTIONS:
                    findings.append(f"{option}: function {name}")
                elif name == "Ref" and not known(argument, PSEUDO_PARAMETERS):
                    findings.append(f"{option}: Ref {argument}")
    return findings


def test_every_config_uses_only_documented_sections_and_functions(
    eb_configs: list[dict[str, Any]],
) -> None:
    assert eb_configs
    assert undocumented(eb_configs) == []
    # The check saw what there is to see: resources with functions, backquoted option values.
    resources = [config["Resources"] for config in eb_configs if "Resources" in config]
    assert any(functions(resources))
    assert any("`" in str(value) for _, value in option_values(eb_configs))


TOPIC = "AWS::SNS::Topic"


@pytest.mark.parametrize(
    ("fragment", "finding"),
    [
        ({"Conditions": {"C": {"Fn::Equals": ["a", "b"]}}}, "section Conditions"),
        ({"Outputs": {"O": {"Value": "x"}}}, "section Outputs"),
        ({"Resources": {"T": {"Type": TOPIC, "Condition": "C"}}}, "T: key Condition"),
        (
            {"Resources": {"T": {"Type": TOPIC, "Properties": {"X": {"Fn::If": []}}}}},
            "T: function Fn::If",
        ),
        (
            {"Resources": {"T": {"Type": TOPIC, "Properties": {"X": {"Fn::Sub": "a"}}}}},
            "T: function Fn::Sub",
        ),
        (
            {"Resources": {"T": {"Type": TOPIC, "Properties": {"X": {"Ref": "AWS::NoValue"}}}}},
            "T: Ref AWS::NoValue",
        ),
        ({"option_settings": {ENV: {"X": '`{"Fn::Sub" : "a"}`'}}}, f"{ENV}:X: function Fn::Sub"),
        (
            {"option_settings": {ENV: {"X": '`{"Ref" : "AWS::NoValue"}`'}}},
            f"{ENV}:X: Ref AWS::NoValue",
        ),
        (
            {"option_settings": [{"option_name": "X", "value": '`{"Ref" : "Nowhere"}`'}]},
            f"{ENV}:X: Ref Nowhere",
        ),
    ],
)
def test_the_check_reports_undocumented_features(fragment: dict[str, Any], finding: str) -> None:
    assert undocumented([fragment]) == [finding]


def test_the_check_accepts_the_documented_forms() -> None:
    """The examples of EB's own documentation pass (custom option, pseudo parameter, GetAtt)."""
    configs: list[dict[str, Any]] = [
        {
            "option_settings": {
                CUSTOM_NAMESPACE: {"ELBAlarmEmail": "someone@example.com"},
                ENV: {
                    "AWS_REGION": '`{"Ref" : "AWS::Region"}`',
                    "TOPIC": '`{"Ref" : "MySNSTopic"}`',
                    "ROLE": '`{"Fn::GetAtt" : ["hookrole", "Arn"]}`',
                },
            },
            "Resources": {
                "hookrole": {"Type": "AWS::IAM::Role"},
                "MySNSTopic": {
                    "Type": TOPIC,
                    "Properties": {
                        "Subscription": [
                            {
                                "Endpoint": {
                                    "Fn::GetOptionSetting": {
                                        "OptionName": "ELBAlarmEmail",
                                        "DefaultValue": "nobody@example.com",
                                    }
                                },
                                "Protocol": "email",
                            }
                        ]
                    },
                },
                "hook": {
                    "Type": "AWS::AutoScaling::LifecycleHook",
                    "Properties": {
                        "AutoScalingGroupName": {"Ref": "AWSEBAutoScalingGroup"},
                        "RoleARN": {"Fn::GetAtt": ["hookrole", "Arn"]},
                    },
                },
            },
        }
    ]
    assert undocumented(configs) == []


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        ("aws:elasticbeanstalk:xray", "XRayEnabled", True),
        ("aws:elasticbeanstalk:application", "Application Healthcheck URL", "/health"),
        ("aws:elasticbeanstalk:environment:proxy:staticfiles", "/static", "app/static"),
        ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", True),
        (ENV, "XRAY_SAMPLING_RULES", "app/sampling-rules.json"),
        (ENV, "XRAY_PLUGINS", "EC2Plugin,ElasticBeanstalkPlugin"),
        (ENV, "AWS_XRAY_TRACING_NAME", "signup-app"),
        (CUSTOM_NAMESPACE, "NewSignupEmail", "nobody@example.com"),
    ],
)
def test_option_settings(eb_options: Options, namespace: str, name: str, expected: Any) -> None:
    assert eb_options[(namespace, name)] == expected


def test_log_retention_is_a_value_cloudwatch_accepts(eb_options: Options) -> None:
    allowed = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653}
    assert eb_options[("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays")] in allowed


@pytest.mark.parametrize(
    ("variable", "reference"),
    [
        ("STARTUP_SIGNUP_TABLE", "SignupTable"),
        ("NEW_SIGNUP_TOPIC", "NewSignupTopic"),
        ("AWS_REGION", "AWS::Region"),
    ],
)
def test_app_resources_reach_the_app_by_reference(
    eb_options: Options, eb_configs: list[dict[str, Any]], variable: str, reference: str
) -> None:
    value = eb_options[(ENV, variable)]
    assert value.startswith("`") and value.endswith("`")
    assert json.loads(value.strip("`")) == {"Ref": reference}
    resources = {name for config in eb_configs for name in config.get("Resources", {})}
    assert reference.startswith("AWS::") or reference in resources


def test_table_and_topic_resources(eb_configs: list[dict[str, Any]]) -> None:
    resources = {k: v for config in eb_configs for k, v in config.get("Resources", {}).items()}
    table = resources["SignupTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "email", "KeyType": "HASH"}]
    assert table["Properties"]["AttributeDefinitions"] == [
        {"AttributeName": "email", "AttributeType": "S"}
    ]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    topic = resources["NewSignupTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    (subscription,) = topic["Properties"]["Subscription"]
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == {
        "Fn::GetOptionSetting": {
            "Namespace": CUSTOM_NAMESPACE,
            "OptionName": "NewSignupEmail",
            "DefaultValue": "nobody@example.com",
        }
    }


def test_xray_daemon_log_is_in_tail_and_bundle_logs(eb_configs: list[dict[str, Any]]) -> None:
    files = {path: spec for config in eb_configs for path, spec in config.get("files", {}).items()}
    for kind in ("taillogs.d", "bundlelogs.d"):
        spec = files[f"/opt/elasticbeanstalk/tasks/{kind}/xray-daemon.conf"]
        assert spec["content"].split() == ["/var/log/xray/xray.log"]
        assert spec["mode"] == "000644"

"""The merge of `.ebextensions` into a template works as Elastic Beanstalk's, and lints clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.deploy.environment_template import (
    CUSTOM_NAMESPACE,
    ENVIRONMENT_NAMESPACE,
    build_template,
    main,
    option_settings,
)

EMAIL = (CUSTOM_NAMESPACE, "NewSignupEmail")
Lint = Callable[[str | dict[str, Any]], list[str]]


def test_both_option_settings_syntaxes_and_later_files_win() -> None:
    configs: list[dict[str, Any]] = [
        {
            "option_settings": [
                {"option_name": "A", "value": "1"},
                {"namespace": "aws:x", "option_name": "B", "value": "2"},
            ]
        },
        {"option_settings": {ENVIRONMENT_NAMESPACE: {"A": "3"}, "aws:x": {"C": True}}},
    ]
    assert option_settings(configs) == {
        (ENVIRONMENT_NAMESPACE, "A"): "3",
        ("aws:x", "B"): "2",
        ("aws:x", "C"): True,
    }


def test_get_option_setting_becomes_a_parameter_with_the_configured_default() -> None:
    configs: list[dict[str, Any]] = [
        {"option_settings": {CUSTOM_NAMESPACE: {"Size": "5"}}},
        {
            "Resources": {
                "Q": {
                    "Type": "AWS::SQS::Queue",
                    "Properties": {
                        "DelaySeconds": {
                            "Fn::GetOptionSetting": {"OptionName": "Size", "DefaultValue": 1}
                        },
                        "MaximumMessageSize": {
                            "Fn::GetOptionSetting": {"OptionName": "Max", "DefaultValue": 2048}
                        },
                    },
                }
            }
        },
    ]
    merged = build_template(configs)
    props = merged.template["Resources"]["Q"]["Properties"]
    assert props["DelaySeconds"] == {"Ref": "OptionSize"}
    assert merged.template["Parameters"]["OptionSize"]["Default"] == "5"
    assert merged.template["Parameters"]["OptionMax"]["Default"] == "2048"
    assert merged.parameters == {
        "OptionSize": (CUSTOM_NAMESPACE, "Size"),
        "OptionMax": (CUSTOM_NAMESPACE, "Max"),
    }
    overridden = build_template(configs, {(CUSTOM_NAMESPACE, "Size"): "9"})
    assert overridden.template["Parameters"]["OptionSize"]["Default"] == "9"


def test_backquoted_environment_properties_become_outputs() -> None:
    configs: list[dict[str, Any]] = [
        {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}},
        {
            "option_settings": {
                ENVIRONMENT_NAMESPACE: {
                    "TOPIC": '`{"Ref" : "T"}`',
                    "LABEL": 'topic-`{"Fn::GetAtt" : ["T", "TopicName"]}`-x',
                    "PLAIN": "hello",
                    "FLAG": True,
                }
            }
        },
    ]
    merged = build_template(configs)
    outputs = merged.template["Outputs"]
    assert outputs[merged.environment_outputs["TOPIC"]]["Value"] == {"Ref": "T"}
    assert outputs[merged.environment_outputs["LABEL"]]["Value"] == {
        "Fn::Join": ["", ["topic-", {"Fn::GetAtt": ["T", "TopicName"]}, "-x"]]
    }
    assert merged.static_environment == {"PLAIN": "hello", "FLAG": "true"}
    stack_outputs = {
        merged.environment_outputs["TOPIC"]: "arn:t",
        merged.environment_outputs["LABEL"]: "topic-t-x",
    }
    assert merged.environment(stack_outputs) == {
        "PLAIN": "hello",
        "FLAG": "true",
        "TOPIC": "arn:t",
        "LABEL": "topic-t-x",
    }


def test_beanstalk_resources_are_stubbed_and_unknown_refs_rejected() -> None:
    hook = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "AWSEBEnvironmentName"}}}
    merged = build_template([{"Resources": {"H": hook}}])
    assert merged.template["Parameters"]["AWSEBEnvironmentName"]["Type"] == "String"
    with pytest.raises(ValueError, match="Nowhere"):
        build_template(
            [
                {
                    "Resources": {
                        "H": {
                            "Type": "AWS::SNS::Topic",
                            "Properties": {"TopicName": {"Ref": "Nowhere"}},
                        }
                    }
                }
            ]
        )


def test_resources_of_the_same_id_merge_across_files() -> None:
    merged = build_template(
        [
            {"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "a"}}}},
            {"Resources": {"T": {"Properties": {"FifoTopic": False}}}},
        ]
    )
    assert merged.template["Resources"]["T"] == {
        "Type": "AWS::SNS::Topic",
        "Properties": {"DisplayName": "a", "FifoTopic": False},
    }


@pytest.mark.parametrize("email", [None, "someone@example.com"])
def test_the_environment_template_lints_clean(
    eb_configs: list[dict[str, Any]], email: str | None, cfn_lint: Lint
) -> None:
    merged = build_template(eb_configs, {EMAIL: email} if email else None)
    assert cfn_lint(merged.template) == []
    param = merged.template["Parameters"]["OptionNewSignupEmail"]
    assert param["Default"] == (email or "nobody@example.com")
    assert merged.parameters == {"OptionNewSignupEmail": EMAIL}
    (subscription,) = merged.template["Resources"]["NewSignupTopic"]["Properties"]["Subscription"]
    assert subscription == {"Protocol": "email", "Endpoint": {"Ref": "OptionNewSignupEmail"}}
    assert "Conditions" not in merged.template
    assert set(merged.environment_outputs) == {
        "STARTUP_SIGNUP_TABLE",
        "NEW_SIGNUP_TOPIC",
        "AWS_REGION",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    }
    # What cfn-lint checked includes the tracing resources, not only the table and the topic.
    types = {body["Type"] for body in merged.template["Resources"].values()}
    assert types == {
        "AWS::DynamoDB::Table",
        "AWS::SNS::Topic",
        "AWS::XRay::ResourcePolicy",
        "AWS::XRay::SamplingRule",
    }
    topic = merged.template["Resources"]["NewSignupTopic"]["Properties"]
    assert topic["TracingConfig"] == "Active"
    assert merged.static_environment["TRACER"] == "xray-sdk"


def test_cfn_lint_catches_a_broken_template(
    eb_configs: list[dict[str, Any]], cfn_lint: Lint
) -> None:
    """The lint check is live: a table without its key schema is reported."""
    merged = build_template(eb_configs)
    del merged.template["Resources"]["SignupTable"]["Properties"]["KeySchema"]
    assert any("KeySchema" in finding for finding in cfn_lint(merged.template))


@pytest.mark.parametrize(
    ("logical_id", "field", "value", "finding"),
    [
        ("SamplingRule1", "Priority", 10000, "10000 is greater than the maximum of 9999"),
        ("SamplingRule1", "FixedRate", 1.5, "1.5 is greater than the maximum of 1"),
        ("SamplingRuleDefault", "RuleName", "x" * 33, "is longer than 32"),
        ("SamplingRule2", "Host", None, "'Host' is a required property"),
    ],
)
def test_cfn_lint_checks_the_sampling_rules(
    eb_configs: list[dict[str, Any]],
    cfn_lint: Lint,
    logical_id: str,
    field: str,
    value: Any,
    finding: str,
) -> None:
    """The lint reaches into AWS::XRay::SamplingRule: values X-Ray refuses are reported."""
    merged = build_template(eb_configs)
    rule = merged.template["Resources"][logical_id]["Properties"]["SamplingRule"]
    if value is None:
        del rule[field]
    else:
        rule[field] = value
    assert any(finding in line for line in cfn_lint(merged.template)), cfn_lint(merged.template)


def test_command_line_prints_the_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", f"{CUSTOM_NAMESPACE}:NewSignupEmail=a@example.com"]) == 0
    template = json.loads(capsys.readouterr().out)
    assert template["Parameters"]["OptionNewSignupEmail"]["Default"] == "a@example.com"
    (subscription,) = template["Resources"]["NewSignupTopic"]["Properties"]["Subscription"]
    assert subscription["Endpoint"] == {"Ref": "OptionNewSignupEmail"}


def test_logical_ids_from_option_names_of_either_style() -> None:
    configs: list[dict[str, Any]] = [
        {
            "option_settings": {ENVIRONMENT_NAMESPACE: {"NEW_SIGNUP_TOPIC": '`{"Ref" : "T"}`'}},
            "Resources": {
                "T": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {
                        "DisplayName": {"Fn::GetOptionSetting": {"OptionName": "TopicLabel"}}
                    },
                }
            },
        }
    ]
    merged = build_template(configs)
    assert merged.parameters == {"OptionTopicLabel": (CUSTOM_NAMESPACE, "TopicLabel")}
    assert merged.environment_outputs == {"NEW_SIGNUP_TOPIC": "EnvNewSignupTopic"}

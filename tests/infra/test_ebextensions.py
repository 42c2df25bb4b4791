"""The `.ebextensions` say what issue 4 asks of the environment, in options EB understands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.eb_template import ENVIRONMENT_NAMESPACE

Options = dict[tuple[str, str], Any]
ENV = ENVIRONMENT_NAMESPACE


def test_every_config_is_yaml_with_known_top_level_keys(eb_configs: list[dict[str, Any]]) -> None:
    known = {
        "option_settings",
        "Resources",
        "Conditions",
        "Outputs",
        "files",
        "commands",
        "container_commands",
        "packages",
    }
    assert eb_configs
    for config in eb_configs:
        assert set(config) <= known


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
    condition, (subscription,), otherwise = topic["Properties"]["Subscription"]["Fn::If"]
    assert condition == "HasNewSignupEmail"
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"]["Fn::GetOptionSetting"]["OptionName"] == "NEW_SIGNUP_EMAIL"
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_xray_daemon_log_is_in_tail_and_bundle_logs(eb_configs: list[dict[str, Any]]) -> None:
    files = {path: spec for config in eb_configs for path, spec in config.get("files", {}).items()}
    for kind in ("taillogs.d", "bundlelogs.d"):
        spec = files[f"/opt/elasticbeanstalk/tasks/{kind}/xray-daemon.conf"]
        assert spec["content"].split() == ["/var/log/xray/xray.log"]
        assert spec["mode"] == "000644"

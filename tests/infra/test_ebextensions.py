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
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import sampling_rules
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

    def known(target: Any) -> bool:
        # A resource of these files, one of EB's own (AWSEBAutoScalingGroup...), or a pseudo
        # parameter: EB documents Refs to pseudo parameters for environment properties, which
        # CloudFormation resolves in the environment's stack, the same template that holds
        # these resources (AWS::StackName names per-environment things: sampling rules, the
        # X-Ray resource policy).
        return target in resources or str(target).startswith("AWSEB") or target in PSEUDO_PARAMETERS

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
                elif name == "Ref" and not known(argument):
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
        (ENV, "TRACER", "xray-sdk"),
        (ENV, "OTEL_SERVICE_NAME", "signup-app"),
        (ENV, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
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
    assert topic["Properties"]["TracingConfig"] == "Active"
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


def resolve(node: Any, values: dict[str, str]) -> Any:
    """A template fragment with Ref and Fn::Join worked out, given the values of the Refs."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return values[node["Ref"]]
    if isinstance(node, dict) and set(node) == {"Fn::Join"}:
        separator, parts = node["Fn::Join"]
        return separator.join(str(resolve(part, values)) for part in parts)
    if isinstance(node, dict):
        return {key: resolve(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, values) for value in node]
    return node


#: Plausible values for the Refs of the environment's resources, as CloudFormation would give them.
STACK = "awseb-e-abcd123456-stack"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:123456789012:{STACK}-NewSignupTopic-1A2B3C4D5E6F"
REF_VALUES = {
    "AWS::StackName": STACK,
    "AWS::AccountId": "123456789012",
    "AWS::Region": "eu-west-1",
    "NewSignupTopic": TOPIC_ARN,
}


def test_otlp_endpoint_is_xray_in_the_environments_region(eb_options: Options) -> None:
    value = eb_options[(ENV, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    assert value.startswith("`") and value.endswith("`")
    expression = json.loads(value.strip("`"))
    assert resolve(expression, REF_VALUES) == "https://xray.eu-west-1.amazonaws.com/v1/traces"
    assert resolve(expression, {"AWS::Region": "us-east-1"}).endswith(".amazonaws.com/v1/traces")


def test_opentelemetry_service_node_is_the_beanstalk_environment(eb_options: Options) -> None:
    """Same service name as the X-Ray SDK's segments; cloud.provider aws and cloud.platform
    aws_elastic_beanstalk are what X-Ray's OpenTelemetry mapping turns into the origin
    AWS::ElasticBeanstalk::Environment (opentelemetry-collector-contrib awsxrayexporter,
    translator/segment.go determineAwsOrigin)."""
    assert eb_options[(ENV, "OTEL_SERVICE_NAME")] == eb_options[(ENV, "AWS_XRAY_TRACING_NAME")]
    pairs = dict(
        item.split("=", 1) for item in eb_options[(ENV, "OTEL_RESOURCE_ATTRIBUTES")].split(",")
    )
    assert pairs == {"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk"}
    assert eb_options[(ENV, "TRACER")] in {"xray-sdk", "opentelemetry"}


def test_sns_may_write_the_topics_segments_to_xray(eb_configs: list[dict[str, Any]]) -> None:
    """Active tracing needs an X-Ray resource policy for SNS; it is scoped to this topic."""
    resources = {k: v for config in eb_configs for k, v in config.get("Resources", {}).items()}
    policy = resources["NewSignupTopicTracing"]
    assert policy["Type"] == "AWS::XRay::ResourcePolicy"
    properties = resolve(policy["Properties"], REF_VALUES)
    assert properties["PolicyName"] == f"{STACK}-sns-tracing"
    assert re.fullmatch(r"[\w+=,.@-]{1,128}", properties["PolicyName"])
    document = json.loads(properties["PolicyDocument"])
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert "xray:PutTraceSegments" in statement["Action"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "StringLike": {"aws:SourceArn": TOPIC_ARN},
    }
    assert len(properties["PolicyDocument"]) <= 5120


# The sampling rules: .ebextensions/04-sampling-rules.config is generated from the app's file.

RULES_DOCUMENT = json.loads(sampling_rules.RULES_PATH.read_text(encoding="utf-8"))


def sampling_rule_resources(configs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: body["Properties"]["SamplingRule"]
        for config in configs
        for logical_id, body in (config.get("Resources") or {}).items()
        if body.get("Type") == "AWS::XRay::SamplingRule"
    }


def test_sampling_rules_config_is_generated_from_the_apps_rules() -> None:
    """One source of truth: the committed config is exactly what the JSON renders to."""
    committed = sampling_rules.CONFIG_PATH.read_text(encoding="utf-8")
    assert committed == sampling_rules.render_config(RULES_DOCUMENT)
    assert sampling_rules.main(["--check"]) == 0


def test_a_stale_sampling_rules_config_is_reported(tmp_path: Path) -> None:
    changed = json.loads(json.dumps(RULES_DOCUMENT))
    changed["rules"][0]["rate"] = 0.5
    rules, config = tmp_path / "rules.json", tmp_path / "04.config"
    rules.write_text(json.dumps(changed))
    config.write_text(sampling_rules.CONFIG_PATH.read_text(encoding="utf-8"))
    paths = ["--rules", str(rules), "--config", str(config)]
    assert sampling_rules.main(["--check", *paths]) == 1
    assert sampling_rules.main(paths) == 0
    assert sampling_rules.main(["--check", *paths]) == 0
    with pytest.raises(ValueError, match="version 2"):
        sampling_rules.sampling_rule_resources({"version": 1, "rules": []})


def test_sampling_rule_resources_are_the_apps_rules(
    eb_configs: list[dict[str, Any]], eb_options: Options
) -> None:
    """Same rules, in the same order, with the same reservoir, rate, host, method and path."""
    deployed = sampling_rule_resources(eb_configs)
    rules = RULES_DOCUMENT["rules"]
    numbered = [f"SamplingRule{n}" for n in range(1, len(rules) + 1)]
    assert set(deployed) == {*numbered, "SamplingRuleDefault"}
    ordered = [deployed[logical_id] for logical_id in numbered]
    for rule, resource in zip(rules, ordered, strict=True):
        assert (resource["Host"], resource["HTTPMethod"], resource["URLPath"]) == (
            rule["host"],
            rule["http_method"],
            rule["url_path"],
        )
        assert (resource["ReservoirSize"], resource["FixedRate"]) == (
            rule["fixed_target"],
            rule["rate"],
        )
    priorities = [resource["Priority"] for resource in ordered]
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)
    default = deployed["SamplingRuleDefault"]
    expected = RULES_DOCUMENT["default"]
    assert (default["ReservoirSize"], default["FixedRate"]) == (
        expected["fixed_target"],
        expected["rate"],
    )
    assert (default["Host"], default["HTTPMethod"], default["URLPath"]) == ("*", "*", "*")
    # After every rule of the file, before the account's Default (priority 10000).
    assert priorities[-1] < default["Priority"] <= 9999
    for resource in deployed.values():
        assert resource["ServiceName"] == eb_options[(ENV, "AWS_XRAY_TRACING_NAME")]
        assert resource["ServiceType"] == "*" and resource["ResourceARN"] == "*"
        assert resource["Version"] == 1 and 1 <= resource["Priority"] <= 9999


def test_sampling_rule_names_fit_and_differ_per_environment(
    eb_configs: list[dict[str, Any]],
) -> None:
    """RuleName: at most 32 characters, unique in the account and Region. EB names the stack
    awseb-<environment id>-stack, with environment ids of e- and 10 characters."""
    deployed = sampling_rule_resources(eb_configs)
    names_by_stack: list[set[str]] = []
    for stack in (STACK, "awseb-e-zyxw987654-stack"):
        names = [resolve(rule["RuleName"], {"AWS::StackName": stack}) for rule in deployed.values()]
        assert len(set(names)) == len(names)
        assert all(len(name) <= 32 and name.startswith(f"{stack}-") for name in names), names
        names_by_stack.append(set(names))
    first, second = names_by_stack
    assert not first & second

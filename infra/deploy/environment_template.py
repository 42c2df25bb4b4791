"""The environment's CloudFormation resources as a template of their own, merged the way EB does.

Elastic Beanstalk adds the `Resources` of every `.ebextensions/*.config` to the stack it builds
for an environment, resolves `Fn::GetOptionSetting` against the environment's option settings,
and resolves backquoted references in option values (`'`{"Ref" : "SignupTable"}`'`) once the
stack exists. None of that can run offline, so this module does the same merge into a standalone
template that cfn-lint can check and moto can deploy:

- each `Fn::GetOptionSetting` becomes a `Ref` to a template Parameter whose default is the
  option's value in the config files (or an override, or the function's `DefaultValue`);
- each environment property holding backquoted references becomes an Output, so the app's
  environment can be rebuilt from the deployed stack's outputs (`MergedTemplate.environment`);
- references to Elastic Beanstalk's own resources (`AWSEB...`) become stub Parameters.

Other template sections found in configuration files (`Parameters`, `Mappings`, `Conditions`,
`Outputs`) are merged too, so that a template can be inspected whatever the files hold; EB
documents only `Resources`, and tests/infra/test_ebextensions.py keeps the project's files to it.

Only the dev/test tools use this (PyYAML comes with cfn-lint); the deployed app never does.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CUSTOM_NAMESPACE",
    "ENVIRONMENT_NAMESPACE",
    "MergedTemplate",
    "OptionKey",
    "build_template",
    "load_configs",
    "main",
    "option_settings",
]

#: Where option settings without a namespace go (EB's default for `option_settings`).
ENVIRONMENT_NAMESPACE = "aws:elasticbeanstalk:application:environment"
#: Where `Fn::GetOptionSetting` looks when it names no namespace.
CUSTOM_NAMESPACE = "aws:elasticbeanstalk:customoption"
#: The template sections EB merges from configuration files.
MERGED_SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs")

OptionKey = tuple[str, str]
"""(namespace, option name)."""

_BACKQUOTED = re.compile(r"`([^`]*)`")
_DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / ".ebextensions"


def load_configs(directory: Path = _DEFAULT_CONFIG_DIR) -> list[dict[str, Any]]:
    """Parse every `*.config` in `directory`, in the alphabetical order EB applies them."""
    configs: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.config")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"{path}: a configuration file must be a YAML/JSON mapping")
        configs.append(document)
    return configs


def option_settings(configs: Iterable[Mapping[str, Any]]) -> dict[OptionKey, Any]:
    """All option settings, later files overriding earlier ones, in both of EB's syntaxes.

    The list form (`- namespace: ..., option_name: ..., value: ...`, namespace optional) and the
    shorthand (`namespace: {option: value}`) both end up keyed by (namespace, option name).
    """
    settings: dict[OptionKey, Any] = {}
    for config in configs:
        block = config.get("option_settings") or {}
        if isinstance(block, list):
            for entry in block:
                namespace = entry.get("namespace", ENVIRONMENT_NAMESPACE)
                settings[(namespace, entry["option_name"])] = entry.get("value")
        elif isinstance(block, dict):
            for namespace, options in block.items():
                for name, value in (options or {}).items():
                    settings[(namespace, name)] = value
        else:
            raise ValueError("option_settings must be a list or a mapping")
    return settings


@dataclass
class MergedTemplate:
    """A deployable template plus what is needed to read the app's environment back from it."""

    template: dict[str, Any]
    #: template Parameter logical id -> the option setting it stands for
    parameters: dict[str, OptionKey] = field(default_factory=dict)
    #: environment property -> Output logical id holding its resolved value
    environment_outputs: dict[str, str] = field(default_factory=dict)
    #: environment properties with literal values
    static_environment: dict[str, str] = field(default_factory=dict)

    def environment(self, outputs: Mapping[str, str]) -> dict[str, str]:
        """The environment properties as the instances would see them, given the stack outputs."""
        resolved = dict(self.static_environment)
        for name, output_id in self.environment_outputs.items():
            resolved[name] = outputs[output_id]
        return resolved

    def to_json(self) -> str:
        return json.dumps(self.template, indent=2, sort_keys=True)


class _Merger:
    """One merge: turns EB-only constructs into plain CloudFormation while walking the sections."""

    def __init__(self, settings: Mapping[OptionKey, Any]) -> None:
        self.settings = settings
        self.parameters: dict[str, dict[str, Any]] = {}
        self.parameter_options: dict[str, OptionKey] = {}

    def parameter_for(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """`Fn::GetOptionSetting` -> `{"Ref": <parameter>}` (or the inlined default function)."""
        key: OptionKey = (args.get("Namespace", CUSTOM_NAMESPACE), args["OptionName"])
        value = self.settings.get(key, args.get("DefaultValue", ""))
        if isinstance(value, dict):  # a default computed by a function: keep the function
            return {k: self.transform(v) for k, v in value.items()}
        for logical_id, option in self.parameter_options.items():
            if option == key:
                return {"Ref": logical_id}
        base = "Option" + _logical_name(key[1])
        logical_id, n = base, 1
        while logical_id in self.parameters:
            n += 1
            logical_id = f"{base}{n}"
        self.parameters[logical_id] = {
            "Type": "String",
            "Default": _as_string(value),
            "Description": f"Elastic Beanstalk option {key[0]} / {key[1]}",
        }
        self.parameter_options[logical_id] = key
        return {"Ref": logical_id}

    def transform(self, node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::GetOptionSetting"}:
                return self.parameter_for(node["Fn::GetOptionSetting"])
            return {k: self.transform(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.transform(v) for v in node]
        return node

    def backquoted(self, value: str) -> Any | None:
        """An option value with backquoted JSON functions -> a CloudFormation value, else None."""
        pieces = _BACKQUOTED.split(value)
        if len(pieces) == 1:
            return None
        parts: list[Any] = []
        for index, piece in enumerate(pieces):
            if index % 2:
                parts.append(self.transform(json.loads(piece)))
            elif piece:
                parts.append(piece)
        return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}


def build_template(
    configs: Sequence[Mapping[str, Any]],
    overrides: Mapping[OptionKey, Any] | None = None,
    description: str = "Elastic Beanstalk environment resources from .ebextensions (merged)",
) -> MergedTemplate:
    """Merge the configuration files' template sections into one template, as EB would.

    `overrides` plays the settings applied directly to the environment (console, `eb create
    --envvars`, `eb setenv`), which take precedence over the configuration files.
    """
    settings = {**option_settings(configs), **(overrides or {})}
    merger = _Merger(settings)
    sections: dict[str, dict[str, Any]] = {name: {} for name in MERGED_SECTIONS}
    for config in configs:
        for name in MERGED_SECTIONS:
            for logical_id, body in (config.get(name) or {}).items():
                merged = sections[name].setdefault(logical_id, {})
                _deep_merge(merged, merger.transform(copy.deepcopy(body)))

    result = MergedTemplate(template={})
    for (namespace, name), value in sorted(settings.items()):
        if namespace != ENVIRONMENT_NAMESPACE or value is None:
            continue
        text = _as_string(value)
        function = merger.backquoted(text)
        if function is None:
            result.static_environment[name] = text
            continue
        output_id = "Env" + _logical_name(name)
        sections["Outputs"][output_id] = {
            "Description": f"environment property {name}",
            "Value": function,
        }
        result.environment_outputs[name] = output_id

    sections["Parameters"].update(merger.parameters)
    _stub_beanstalk_refs(sections)
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
    }
    template.update({name: body for name, body in sections.items() if body})
    result.template = template
    result.parameters = dict(merger.parameter_options)
    return result


def _logical_name(name: str) -> str:
    """An option name in a logical id: NEW_SIGNUP_EMAIL and NewSignupEmail -> NewSignupEmail."""
    words = (w for w in re.split(r"[^A-Za-z0-9]+", name) if w)
    return "".join(w[:1].upper() + (w[1:].lower() if w.isupper() else w[1:]) for w in words)


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _deep_merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Later configuration files add to (and override within) a resource of the same id."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and isinstance(node["Ref"], str):
            yield node["Ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _stub_beanstalk_refs(sections: dict[str, dict[str, Any]]) -> None:
    """EB's own resources (`AWSEBEnvironmentName`, `AWSEBAutoScalingGroup`...) -> Parameters."""
    known = set(sections["Resources"]) | set(sections["Parameters"])
    for target in set(_refs(sections)):
        if target in known or target.startswith("AWS::"):
            continue
        if not target.startswith("AWSEB"):
            raise ValueError(f"Ref to {target!r}, which no configuration file defines")
        sections["Parameters"][target] = {
            "Type": "String",
            "Default": f"stub-{target}",
            "Description": "Stands for a resource Elastic Beanstalk creates itself",
        }


def _parse_override(text: str) -> tuple[OptionKey, str]:
    option, sep, value = text.partition("=")
    namespace, colon, name = option.rpartition(":") if option.count(":") else ("", "", option)
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected [NAMESPACE:]OPTION=VALUE")
    return (namespace if colon else ENVIRONMENT_NAMESPACE, name), value


def main(argv: Sequence[str] | None = None) -> int:
    """Print the merged template (for cfn-lint, `aws cloudformation validate-template`, moto)."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy.environment_template",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config-dir", type=Path, default=_DEFAULT_CONFIG_DIR)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_parse_override,
        default=[],
        metavar="[NAMESPACE:]OPTION=VALUE",
        help="an option setting applied to the environment (no NAMESPACE: an environment "
        "property), e.g. aws:elasticbeanstalk:customoption:NewSignupEmail=you@example.com",
    )
    args = parser.parse_args(argv)
    merged = build_template(load_configs(args.config_dir), dict(args.overrides))
    sys.stdout.write(merged.to_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

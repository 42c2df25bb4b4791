"""The EB configuration against the app it deploys: names it reads, files it needs, its Procfile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.deploy.environment_template import ENVIRONMENT_NAMESPACE

Options = dict[tuple[str, str], Any]
ENV = ENVIRONMENT_NAMESPACE
ROOT = Path(__file__).resolve().parents[2]


def test_environment_uses_only_names_the_app_reads(eb_options: Options) -> None:
    from app.config import DEFAULTS

    names = {name for namespace, name in eb_options if namespace == ENV}
    # Besides its own names, the app honours OpenTelemetry's OTEL_* variables as the OTel SDK
    # defines them (DESIGN.md, Interfaces), which the SDK reads itself.
    assert {name for name in names if not name.startswith("OTEL_")} <= set(DEFAULTS)
    assert "AWS_ENDPOINT_URL" not in names  # local only


def test_static_folder_ships_with_the_app(eb_options: Options) -> None:
    static = eb_options[("aws:elasticbeanstalk:environment:proxy:staticfiles", "/static")]
    assert (ROOT / static).is_dir()
    assert any((ROOT / static).iterdir())


def test_procfile_runs_gunicorn_on_loopback_8000() -> None:
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    web = processes["web"].split()
    assert web[0] == "gunicorn" and web[-1] == "app.wsgi:application"
    from app import gunicorn_conf

    assert gunicorn_conf.bind == "127.0.0.1:8000"


def test_sampling_rules_file_ships_with_the_app(eb_options: Options) -> None:
    """XRAY_SAMPLING_RULES is relative to /var/app/current: the file must be in the bundle."""
    path = eb_options[(ENV, "XRAY_SAMPLING_RULES")]
    rules = json.loads((ROOT / path).read_text())
    assert rules["version"] == 2
    assert {"fixed_target", "rate"} <= set(rules["default"])
    from infra.deploy.bundle import bundle_files

    assert Path(path) in bundle_files(ROOT)

"""Gloo Edge OSS reaches end of life on 2026-12-31 (solo-io/gloo README, main and v1.22.1): a
production stack on `glooEdition: oss` is warned in one line; the dev stack stays on OSS quietly."""

from __future__ import annotations

import pulumi
import pytest

from components.config.load import parse_settings
from components.config.rules import config_warnings
from tests.harness import LICENSE, dev_config, run_program

EOL = "Gloo Edge OSS reaches end of life on 2026-12-31"


def warnings_for(edition: str, stack: str, environment: str | None = None) -> list[str]:
    config = {"clusterName": "edge", "glooEdition": edition}
    if environment:
        config["environment"] = environment
    secrets = {"vaultToken": pulumi.Output.secret("t"), "glooLicenseKey": pulumi.Output.secret(LICENSE)}
    settings = parse_settings(config.get, secrets.get, {}, stack)
    return config_warnings(settings)


@pytest.mark.parametrize(("stack", "environment"), [("prod", None), ("eu-prd", None), ("dev", "production")])
def test_oss_in_a_production_stack_is_warned_about_in_one_line(stack: str, environment: str | None) -> None:
    [warning] = warnings_for("oss", stack, environment)
    assert warning == (
        f"gloo-vault-irsa:glooEdition: {EOL}: no releases, bug fixes or security patches after it; "
        'use glooEdition: enterprise in production (README, "Gloo Edge OSS end of life")'
    )


@pytest.mark.parametrize(("edition", "stack"), [("oss", "dev"), ("oss", "staging"), ("enterprise", "prod")])
def test_a_dev_stack_on_oss_or_enterprise_in_production_is_not(edition: str, stack: str) -> None:
    assert warnings_for(edition, stack) == []


def test_the_warning_reaches_the_engine_once(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: said.append(message))
    run_program(dev_config(), stack="prod")
    assert [w for w in said if EOL in w] == [said[0]] and len(said) == 1

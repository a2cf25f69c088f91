"""components/config/rules.py: rules across keys and the warnings (Gloo versions without token
renewal, a CA that cannot be used, config that would break the deployment, the grant's size).

Gloo Edge OSS reaches end of life on 2026-12-31 (solo-io/gloo README, main and v1.22.1): a
production stack on `glooEdition: oss` is warned in one line; the dev stack stays on OSS quietly."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import rules as config_rules
from components.config.load import parse_settings
from components.config.rules import config_warnings
from tests.harness import (
    ACCOUNT_ID,
    EXTERNAL_VAULT,
    LICENSE,
    assert_names_key,
    dev_config,
    fleet,
    parse,
    run_program,
    run_program_failure,
    stack_config,
)

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
        'use glooEdition: enterprise in production (docs/configuration.md, "Gloo Edge OSS end of life")'
    )


@pytest.mark.parametrize(("edition", "stack"), [("oss", "dev"), ("oss", "staging"), ("enterprise", "prod")])
def test_a_dev_stack_on_oss_or_enterprise_in_production_is_not(edition: str, stack: str) -> None:
    assert warnings_for(edition, stack) == []


def test_the_warning_reaches_the_engine_once(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: said.append(message))
    run_program(dev_config(), stack="prod")
    assert [w for w in said if EOL in w] == [said[0]] and len(said) == 1


@pytest.mark.parametrize(
    ("version", "warns"),
    [("1.22.1", False), ("1.15.19", False), ("1.15.18", True), ("1.15.3", True), ("1.22.2-beta1", True)],
)
def test_versions_without_token_renewal_and_pre_releases_warn_in_one_line(version: str, warns: bool) -> None:
    warnings = config_rules.config_warnings(parse({"clusterName": "edge", "glooChartVersion": version}))
    assert len(warnings) == (1 if warns else 0)
    assert all("\n" not in w and "glooChartVersion" in w for w in warnings)


def test_the_warnings_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: said.append(message))
    run_program({**dev_config(), "glooChartVersion": "1.15.10"})
    assert len(said) == 1 and "1.15.19" in said[0]


REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    *[("kvPath", "kvPath", {"kvPath": p}) for p in ("sys", "sys/foo", "auth", "cubbyhole", "identity", "token")],
    *[("kvPath", "kvPath", {"kvPath": p}) for p in (".", "dev/..", "../sys")],
    *[("authMountPath", "authMountPath", {"authMountPath": p}) for p in ("sys", "token", "identity", "dev/..")],
    ("glooRootKey", "glooRootKey", {"glooRootKey": "../other"}),
    (
        "principal-other-account",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::210987654321:role/vault-server"},
    ),
    (
        "principal-china-partition",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": f"arn:aws-cn:iam::{ACCOUNT_ID}:role/vault-server"},
    ),
    (
        "cross-principal-govcloud-partition",
        "vaultCrossAccountPrincipalArn",
        {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws-us-gov:iam::210987654321:role/vault"},
    ),
    ("sa-not-in-the-chart", "glooServiceAccounts", {"glooServiceAccounts": ["foo"]}),
    ("sa-default", "glooServiceAccounts", {"glooServiceAccounts": ["gloo", "default"]}),
    ("sa-without-gloo", "glooServiceAccounts", {"glooServiceAccounts": ["discovery"]}),
    (
        "releases-collide",
        "glooReleaseName",
        {"glooNamespace": "vault", "glooReleaseName": "vault"},
    ),
    ("vault-sa-is-glooss", "vaultServiceAccount", {"vaultNamespace": "gloo-system", "vaultServiceAccount": "gloo"}),
]


@pytest.mark.parametrize(("case", "key", "overrides"), REFUSED, ids=[c[0] + ":" + str(c[2]) for c in REFUSED])
def test_config_that_breaks_the_deployment_stops_it_naming_the_key(
    case: str, key: str, overrides: dict[str, Any]
) -> None:
    failed = run_program_failure({**dev_config(), **overrides})
    assert_names_key(failed.error, key)
    assert [r.type for r in failed.resources if r.type != "pulumi:providers:aws"] == []


SECRETS = {"vaultToken": "hvs.test"}


def test_the_grant_limit_counts_the_role_path_and_principal_kind() -> None:
    """40 clusters fit a role's 10,240 characters, not a user's 2,048; a long path shrinks the room."""
    forty = {f"cluster-{i:02d}": {"clusterName": f"edge-{i:02d}"} for i in range(40)}
    run_program(fleet(forty), secrets=SECRETS)
    long_path = "/" + "/".join(["platform-identity-and-access"] * 8) + "/"
    failed = run_program_failure(fleet(forty, iamRolePath=long_path), secrets=SECRETS)
    assert "over IAM's 10240 for a role policy" in str(failed.error)


PROD = stack_config("prod")
EXTERNAL_HTTP = {
    "vaultTopology": "external",
    "vaultAddress": "http://vault.example.com:8200",
    "vaultAwsPrincipalArn": PROD["vaultAwsPrincipalArn"],
}


@pytest.mark.parametrize(
    ("key", "overrides"),
    [
        ("vaultCaCert", {"vaultCaCert": "not a certificate"}),
        ("vaultCaCert", {"vaultCaCert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
        ("vaultCaCert", {**EXTERNAL_HTTP, "vaultCaCert": PROD["vaultCaCert"]}),
        ("vaultCaCert", {"vaultCaCert": PROD["vaultCaCert"]}),  # in-cluster through the API server: its CA
        ("glooVaultCaCertPath", {"glooVaultCaCertPath": "ca.pem"}),
        ("glooVaultCaCertPath", {"glooVaultCaCertPath": "/etc/my ca.pem"}),
        ("glooVaultCaCertPath", {**EXTERNAL_HTTP, "glooVaultCaCertPath": "/etc/ca.pem"}),
    ],
)
def test_a_ca_that_cannot_be_used_is_refused(key: str, overrides: dict[str, str]) -> None:
    with pytest.raises(Exception) as raised:
        parse({**dev_config(), **overrides})
    assert_names_key(raised.value, key)

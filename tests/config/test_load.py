"""components/config/load.py: settings as read (values, empty values as defaults, the Vault token
from the environment), unknown keys, production by stack name, and validation before any resource."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws
import pytest

from components import settings as settings_module
from components.config import keys as config_keys
from components.config import load as config_load
from components.config.load import parse_settings
from components.settings import Settings
from tests.harness import (
    BOUNDARY_ARN,
    DEFAULT_TAGS,
    EXTERNAL_VAULT,
    ORG_IAM,
    ROLE_PATH,
    TOKEN,
    assert_names_key,
    dev_config,
    parse,
    run_program,
    run_program_failure,
)

CLUSTER = "gloo-ee-vault-integration"
ROLE_PRINCIPAL = "arn:aws:iam::123456789012:role/vault-server"
CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault-server"


def test_empty_values_mean_the_default() -> None:
    # Pulumi.yaml declares `default: ""` for optional keys; "" must read as unset.
    s = parse({"clusterName": CLUSTER, "vaultAddress": "", "kubeconfig": "", "region": "", "tokenMaxTtl": ""})
    assert s.vault.address == "http://vault-internal.vault:8200"
    assert s.cluster.targets[0].kubeconfig is None
    assert s.region == "us-east-1"
    assert s.vault.token_max_ttl_seconds == 86400


def test_values_are_read() -> None:
    s = parse(
        {
            "clusterName": "edge",
            "region": "eu-west-1",
            "adoptOidcProvider": "true",
            "glooServiceAccounts": '["gloo", "discovery"]',
            "vaultNamespace": "secrets",
            "kvPath": "/teams/edge/",
            "tokenMaxTtl": "1h30m",
            "glooChartVersion": "v1.17.0",
        }
    )
    assert s.region == "eu-west-1"
    assert s.sts_endpoint == "https://sts.eu-west-1.amazonaws.com"
    assert s.cluster.targets[0].adopt_oidc_provider is True
    assert s.gloo.service_accounts == ("gloo", "discovery")
    assert s.vault.address == "http://vault-internal.secrets:8200"
    assert s.vault.kv_path == "teams/edge"
    assert s.vault.token_max_ttl_seconds == 5400
    assert s.gloo.chart_version == "1.17.0"
    assert parse({"clusterName": "edge", "environment": "production"}).environment == "production"


def test_vault_token_falls_back_to_the_environment() -> None:
    s = parse({"clusterName": CLUSTER}, secrets={}, env={"VAULT_TOKEN": "hvs.env"})
    assert s.vault.token is not None


def test_external_topology_settings() -> None:
    s = parse({"clusterName": CLUSTER, **EXTERNAL_VAULT, "vaultAwsPrincipalArn": ROLE_PRINCIPAL})
    assert s.vault.address == "https://vault.example.com:8200"
    assert s.vault.aws_principal is not None
    assert (s.vault.aws_principal.arn, s.vault.aws_principal.kind) == (ROLE_PRINCIPAL, "role")
    assert (s.vault.aws_principal.account, s.vault.aws_principal.name) == ("123456789012", "vault-server")
    s = parse({"clusterName": CLUSTER, **EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL})
    assert s.vault.cross_account_principal is not None
    assert s.vault.cross_account_principal.arn == CROSS_PRINCIPAL
    assert s.vault.cross_account_principal.account == "210987654321"


def test_enterprise_settings() -> None:
    s = parse({"clusterName": CLUSTER, "glooEdition": "enterprise"}, secrets={**TOKEN, "glooLicenseKey": "LIC"})
    assert s.gloo.chart == ("gloo-ee", "https://storage.googleapis.com/gloo-ee-helm")
    assert s.gloo.license_key is not None


def test_a_registration_before_validation_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a resource registered before the config error is recorded."""
    real = config_load.load_settings

    def registers_first() -> Settings:
        aws.Provider("early", region="us-east-1")
        return real()

    monkeypatch.setattr(config_load, "load_settings", registers_first)
    failed = run_program_failure({**dev_config(), "region": "us-east-7"})
    assert_names_key(failed.error, "region")
    assert [(r.type, r.name) for r in failed.resources] == [("pulumi:providers:aws", "early")]


def test_vault_token_from_the_environment_runs_the_program() -> None:
    run = run_program(secrets={}, env={"VAULT_TOKEN": "hvs.from-env"})
    provider = run.one("pulumi:providers:vault")
    assert provider.inputs["token"] == "hvs.from-env"
    assert provider.secret("token")


def test_only_the_cluster_name_deploys_the_guide() -> None:
    run = run_program({"clusterName": CLUSTER})
    assert run.outputs["region"] == "us-east-1"
    assert run.outputs["vaultAddress"] == "http://vault-internal.vault:8200"
    assert run.outputs["glooNamespace"] == "gloo-system"
    assert run.outputs["vaultAuthMountPath"] == "aws"
    assert run.outputs["vaultKvPath"] == "dev"
    assert run.outputs["vaultPolicyName"] == "dev"
    assert run.outputs["iamServerIdHeader"] == "vault.gloo.example.com"
    assert run.outputs["glooChart"] == "gloo"


@pytest.mark.parametrize(
    ("given", "nearest"),
    [("regoin", "region"), ("kvpath", "kvPath"), ("Region", "region"), ("glooServiceAccount", "glooServiceAccounts")],
)
def test_a_misspelt_key_is_refused_naming_the_nearest_known_key(given: str, nearest: str) -> None:
    failed = run_program_failure({**dev_config(), given: "eu-west-1"})
    assert str(failed.error) == (
        f"gloo-vault-irsa:{given}: expected no such key: not one of this program's keys "
        f"(docs/configuration.md); did you mean {nearest}?"
    )
    assert failed.resources == []


def test_an_unknown_key_with_nothing_near_is_refused_without_a_guess() -> None:
    failed = run_program_failure({**dev_config(), "fooBarBaz": "1"})
    assert str(failed.error).endswith("(docs/configuration.md)"), failed.error
    assert failed.resources == []


def test_keys_of_other_namespaces_are_not_the_programs_to_refuse() -> None:
    config_load.refuse_unknown_keys({"aws:region": "x", "kubernetes:context": "y", "gloo-vault-irsa:region": "z"})


PRODUCTION_NAMES = ["prod", "production", "prd", "live", "prod1", "prod2", "production2", "eu-prd", "org/prod"]
NOT_PRODUCTION_NAMES = ["dev", "product", "preprod", "liveness", "staging", "prodx"]


@pytest.mark.parametrize("stack", PRODUCTION_NAMES + NOT_PRODUCTION_NAMES)
def test_production_by_stack_name_is_the_policy_packs_rule(stack: str) -> None:
    """The program protects what the pack treats as production: one rule, checked name by name."""
    import guardrails  # policy-pack/, as the Pulumi CLI loads it

    settings = parse_settings({"clusterName": CLUSTER}.get, lambda _: pulumi.Output.secret("t"), {}, stack)
    assert settings.production == guardrails.is_production(stack, None) == (stack in PRODUCTION_NAMES)


def test_the_keys_are_read() -> None:
    s = parse({**dev_config(), **{k: v if isinstance(v, str) else json.dumps(v) for k, v in ORG_IAM.items()}})
    assert s.iam.role_path == ROLE_PATH
    assert s.iam.permissions_boundary_arn == BOUNDARY_ARN
    assert s.iam.max_session_seconds == 7200
    assert s.iam.aws_default_tags == DEFAULT_TAGS
    assert parse({**dev_config(), "iamMaxSessionDuration": "43200"}).iam.max_session_seconds == 12 * 3600
    managed = "arn:aws:iam::aws:policy/PowerUserAccess"  # an AWS-managed boundary: it only caps
    assert parse({**dev_config(), "iamPermissionsBoundaryArn": managed}).iam.permissions_boundary_arn == managed


def test_a_new_key_reaches_its_section_with_its_row_and_its_field_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONTRIBUTING.md's worked example: a key's row in KEYS (naming its section) and a field in
    that section are all the reading needs; no rule, loader or `Settings` code changes."""
    row = config_keys.Key("glooReleaseDescription", None, "A note Helm records.", section="gloo")
    gloo = dataclasses.make_dataclass(
        "GlooSettings",
        [("release_description", "str | None")],
        bases=(settings_module.GlooSettings,),
        frozen=True,
    )
    monkeypatch.setattr(config_load, "KEYS", (*config_keys.KEYS, row))
    monkeypatch.setitem(settings_module.SECTIONS, "gloo", gloo)
    secret = lambda key: pulumi.Output.secret("t") if key == "vaultToken" else None  # noqa: E731
    config = {"clusterName": "edge", "glooReleaseDescription": "from the platform team"}
    settings = parse_settings(config.get, secret, {})
    assert settings.gloo.release_description == "from the platform team"  # type: ignore[attr-defined]
    assert settings.gloo.namespace == "gloo-system"

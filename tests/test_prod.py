"""The production stack (`Pulumi.prod.yaml`, its secrets supplied): an external Vault over https
with its CA, Vault's own AWS identity, Gloo Enterprise, every version pinned, the cluster from
its stack, protection, and a Vault provider whose child token outlives one run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.checks import MAX_TOKEN_TTL_SECONDS
from components.project import HELM_TIMEOUT_SECONDS, IAM_PROPAGATION_WAITS
from components.vault_provider import PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS, child_token_ttl_seconds
from tests.harness import (
    EKS_CLUSTER,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    OIDC_PROVIDER,
    ROOT,
    VARIANT_STACKS,
    VARIANTS,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_PROVIDER,
    ProgramRun,
    dev_config,
    run_program,
    stack_config,
)
from tests.test_config import assert_names_key, parse

PROD = stack_config("prod")


@pytest.fixture(scope="module")
def prod(runs: dict[str, ProgramRun]) -> ProgramRun:
    return runs["prod"]


def gloo_vault_source(run: ProgramRun) -> dict[str, Any]:
    values = run.one(HELM_RELEASE, "gloo").inputs["values"]
    gloo = values["gloo"] if "license_key" in values else values
    source: dict[str, Any] = gloo["settings"]["secretOptions"]["sources"][0]["vault"]
    return source


# ---------------------------------------------------------------------------- what production is


def test_prod_is_production_by_key_and_by_name(prod: ProgramRun) -> None:
    assert PROD["environment"] == "production"
    settings = parse(PROD, secrets={"vaultToken": "t", "glooLicenseKey": "l"})
    assert settings.production and settings.vault_topology == "external"


def test_the_external_vault_is_reached_over_https_verified_with_its_ca() -> None:
    # A run of its own: other tests replace the session's CA files on purpose.
    config, secrets = VARIANTS["prod"]
    prod = run_program(config, secrets=secrets, stack="prod")
    provider = prod.one(VAULT_PROVIDER)
    assert provider.inputs["address"] == PROD["vaultAddress"] and PROD["vaultAddress"].startswith("https://")
    assert Path(provider.inputs["caCertFile"]).read_text() == PROD["vaultCaCert"]
    assert "skipTlsVerify" not in provider.inputs
    source = gloo_vault_source(prod)
    assert source["address"] == PROD["vaultAddress"]
    assert source["tlsConfig"] == {"caCert": PROD["glooVaultCaCertPath"]}
    assert "insecure" not in json.dumps(source)


def test_vaults_own_identity_is_the_role_its_servers_run_as(prod: ProgramRun) -> None:
    assert prod.outputs["vaultAwsIdentityArn"] == PROD["vaultAwsPrincipalArn"]
    grant = prod.one(IAM_ROLE_POLICY)
    assert grant.inputs["role"] == PROD["vaultAwsPrincipalArn"].rsplit("/", 1)[1]  # by name; its path is not
    assert [r.name for r in prod.of_type(IAM_ROLE)] == ["gloo"]  # nothing made for Vault


def test_gloo_enterprise_with_every_version_pinned(prod: ProgramRun) -> None:
    release = prod.one(HELM_RELEASE, "gloo")
    assert release.inputs["chart"] == "gloo-ee"
    assert release.inputs["version"] == PROD["glooChartVersion"]  # set in the file, not a default
    assert prod.of_type(HELM_RELEASE) == [release]  # no in-cluster Vault chart to pin
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)  # the program's SDKs and providers


def test_the_cluster_comes_from_its_stack(prod: ProgramRun) -> None:
    assert prod.outputs["clusterName"] == EKS_CLUSTER
    assert prod.of_type(OIDC_PROVIDER) == []


def test_production_protects_the_roles_and_mounts(prod: ProgramRun) -> None:
    for res in [*prod.of_type(IAM_ROLE), prod.one(VAULT_MOUNT), prod.one(VAULT_AUTH_BACKEND)]:
        assert res.options["protect"] is True, (res.type, res.name)
    assert prod.one(VAULT_MOUNT).options["retainOnDelete"] is True
    assert prod.one(VAULT_AWS_ROLE).options["protect"] is not True


def test_prod_keeps_to_the_organisations_iam(prod: ProgramRun) -> None:
    [role] = prod.of_type(IAM_ROLE)
    assert role.inputs["path"] == PROD["iamRolePath"]
    assert role.inputs["permissionsBoundary"] == PROD["iamPermissionsBoundaryArn"]
    assert json.loads(prod.one("pulumi:providers:aws").inputs["defaultTags"]) == {
        "tags": json.loads(PROD["awsDefaultTags"])
    }


def test_it_assumes_pulumi_cloud_as_the_readme_says() -> None:
    """README, "Team state": Pulumi Cloud, organization `acme`; a DIY backend would add the stack's
    KMS secrets provider to the file and name references `organization/...`."""
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    assert "secretsprovider:" not in text and "encryptedkey:" not in text
    assert PROD["clusterStackRef"].startswith("acme/")
    readme = (ROOT / "docs" / "production.md").read_text()
    team = readme[readme.index("## Team state") : readme.index("## Guardrails")]
    assert "**Pulumi Cloud: what `Pulumi.prod.yaml` assumes** (organization `acme`" in team


def test_its_secrets_are_not_in_the_file() -> None:
    raw = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert not {"gloo-vault-irsa:vaultToken", "gloo-vault-irsa:glooLicenseKey"} & set(raw)


# ---------------------------------------------------------------------------- the provider's child token


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_vault_providers_child_token_outlives_one_run(runs: dict[str, ProgramRun], variant: str) -> None:
    """pulumi-vault works with a child of the given token, 20 minutes by default; here it lives
    past every Helm timeout and the IAM retries one run can wait through before its last Vault call."""
    provider = runs[variant].one(VAULT_PROVIDER)
    ttl = int(provider.inputs["maxLeaseTtlSeconds"])
    assert ttl == child_token_ttl_seconds()
    assert ttl >= 2 * HELM_TIMEOUT_SECONDS + sum(IAM_PROPAGATION_WAITS) + PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS
    assert ttl < MAX_TOKEN_TTL_SECONDS  # still a short-lived token
    assert provider.inputs["skipChildToken"] == "false"  # provider config travels as strings
    stack = "prod" if variant == "prod" else "dev"
    assert provider.inputs["tokenName"] == f"pulumi-gloo-vault-irsa-{stack}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_helm_release_waits_at_most_the_timeout_the_token_is_sized_by(
    runs: dict[str, ProgramRun], variant: str
) -> None:
    for release in runs[variant].of_type(HELM_RELEASE):
        assert release.inputs["timeout"] == HELM_TIMEOUT_SECONDS, release.name


def test_the_child_token_grows_with_the_waits() -> None:
    assert child_token_ttl_seconds((600, 300), (10.0,)) == 900 + 10 + PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS
    assert child_token_ttl_seconds((), (0.5,)) == 1 + PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS


# ---------------------------------------------------------------------------- the CA keys


def test_without_a_ca_the_provider_and_gloo_use_the_system_trust(runs: dict[str, ProgramRun]) -> None:
    run = runs["external-role"]
    assert "caCertFile" not in run.one(VAULT_PROVIDER).inputs
    assert "tlsConfig" not in gloo_vault_source(run)


def test_a_ca_for_an_https_port_forward_to_the_in_cluster_vault_is_used() -> None:
    run = run_program(
        {**dev_config(), "vaultProviderAddress": "https://127.0.0.1:8200", "vaultCaCert": PROD["vaultCaCert"]}
    )
    assert Path(run.one(VAULT_PROVIDER).inputs["caCertFile"]).read_text() == PROD["vaultCaCert"]


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


DESTROY_GUARD = "gloo-vault-irsa:stack:DestroyGuard"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_production_destroy_meets_the_protected_guard_before_any_other_resource(
    runs: dict[str, ProgramRun], name: str
) -> None:
    """The engine deletes dependents first: a protected guard that depends on every resource but the
    providers is the first a destroy deletes, and refuses (tests/engines/test_cli_stacks.py runs it:
    with `--skip-preview` a destroy of production deleted nine resources before this guard existed)."""
    run = runs[name]
    guards = run.of_type(DESTROY_GUARD)
    import guardrails  # policy-pack/: production as the pack rules it

    if not guardrails.is_production(VARIANT_STACKS.get(name, "dev"), VARIANTS[name][0].get("environment")):
        assert guards == []
        return
    [guard] = guards
    assert guard.options["protect"] is True
    deletable = {r.urn for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")}
    assert deletable - {r.urn for r in run.resources if r.type == "pulumi:pulumi:StackReference"} <= set(
        guard.dependencies
    )
    assert not any(guard.urn in r.dependencies for r in run.resources)

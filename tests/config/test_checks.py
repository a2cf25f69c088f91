"""components/config/checks.py: each key's check: values at the edges accepted, every refusal naming
its key (when parsed, and in a run or preview before any resource)."""

from __future__ import annotations

import json

import pytest

from components.config import checks
from components.config.checks import ConfigError
from components.config.keys import KEYS
from tests.harness import (
    EXTERNAL_VAULT,
    TOKEN,
    assert_names_key,
    dev_config,
    parse,
    run_program_failure,
)

CLUSTER = "gloo-ee-vault-integration"
ROLE_PRINCIPAL = "arn:aws:iam::123456789012:role/vault-server"
CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault-server"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("vaultPolicyName", "gloo_edge.dev-1"),
        ("glooReleaseName", "g" * 53),
        ("vaultAddress", "https://10.0.12.7:8200"),
        ("vaultAddress", "https://vault.example.com/"),
        ("vaultProviderAddress", "http://127.0.0.1:8200"),
    ],
)
def test_edge_values_within_the_rules_are_accepted(key: str, value: str) -> None:
    parse({"clusterName": CLUSTER, key: value})


def test_china_regions_use_the_china_sts_domain() -> None:
    assert parse({"clusterName": CLUSTER, "region": "cn-north-1"}).sts_endpoint == (
        "https://sts.cn-north-1.amazonaws.com.cn"
    )


@pytest.mark.parametrize("version", ["1.15.3", "1.15.19", "1.16.0", "v1.15.3", "1.15.4-beta1", "2.0.0"])
def test_gloo_versions_from_1_15_3_are_accepted(version: str) -> None:
    assert parse({"clusterName": CLUSTER, "glooChartVersion": version}).gloo.chart_version == version.lstrip("v")


# (id, key named in the error, config on top of Pulumi.dev.yaml, secrets)
BAD: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
    ("no-cluster", "clusterName", {"clusterName": ""}, TOKEN),
    ("bad-cluster-name", "clusterName", {"clusterName": "my cluster"}, TOKEN),
    ("unknown-region", "region", {"region": "us-east-7"}, TOKEN),
    ("region-typo", "region", {"region": "useast1"}, TOKEN),
    ("adopt-not-bool", "adoptOidcProvider", {"adoptOidcProvider": "yes"}, TOKEN),
    ("unknown-environment", "environment", {"environment": "prod"}, TOKEN),
    ("gloo-ns-uppercase", "glooNamespace", {"glooNamespace": "Gloo-System"}, TOKEN),
    ("gloo-ns-underscore", "glooNamespace", {"glooNamespace": "gloo_system"}, TOKEN),
    ("gloo-ns-too-long", "glooNamespace", {"glooNamespace": "g" * 64}, TOKEN),
    ("vault-ns-dot", "vaultNamespace", {"vaultNamespace": "vault.ns"}, TOKEN),
    ("vault-sa-dash", "vaultServiceAccount", {"vaultServiceAccount": "-vault"}, TOKEN),
    ("sa-not-label", "glooServiceAccounts", {"glooServiceAccounts": '["gloo", "Discovery"]'}, TOKEN),
    ("sa-empty-list", "glooServiceAccounts", {"glooServiceAccounts": "[]"}, TOKEN),
    ("sa-not-a-list", "glooServiceAccounts", {"glooServiceAccounts": "gloo"}, TOKEN),
    ("sa-duplicate", "glooServiceAccounts", {"glooServiceAccounts": '["gloo", "gloo"]'}, TOKEN),
    ("header-space", "iamServerIdHeader", {"iamServerIdHeader": "vault gloo.example.com"}, TOKEN),
    ("header-tab", "iamServerIdHeader", {"iamServerIdHeader": "vault.gloo.example.com\t"}, TOKEN),
    ("header-newline", "iamServerIdHeader", {"iamServerIdHeader": "vault.gloo\nexample.com"}, TOKEN),
    ("unknown-topology", "vaultTopology", {"vaultTopology": "in-cluster"}, TOKEN),
    ("address-no-scheme", "vaultAddress", {"vaultAddress": "vault-internal.vault:8200"}, TOKEN),
    ("address-space", "vaultAddress", {"vaultAddress": "http://vault internal:8200"}, TOKEN),
    ("provider-address-ftp", "vaultProviderAddress", {"vaultProviderAddress": "ftp://vault:8200"}, TOKEN),
    ("missing-token", "vaultToken", {}, {}),
    ("vault-chart-not-semver", "vaultChartVersion", {"vaultChartVersion": "latest"}, TOKEN),
    ("vault-chart-two-parts", "vaultChartVersion", {"vaultChartVersion": "0.29"}, TOKEN),
    ("gloo-chart-not-semver", "glooChartVersion", {"glooChartVersion": "1.15"}, TOKEN),
    ("gloo-1.15.2", "glooChartVersion", {"glooChartVersion": "1.15.2"}, TOKEN),
    ("gloo-v1.15.2", "glooChartVersion", {"glooChartVersion": "v1.15.2"}, TOKEN),
    ("gloo-1.14.99", "glooChartVersion", {"glooChartVersion": "1.14.99"}, TOKEN),
    ("gloo-0.99.0", "glooChartVersion", {"glooChartVersion": "0.99.0"}, TOKEN),
    ("gloo-1.15.3-prerelease", "glooChartVersion", {"glooChartVersion": "1.15.3-beta1"}, TOKEN),
    ("unknown-edition", "glooEdition", {"glooEdition": "ee"}, TOKEN),
    ("enterprise-no-license", "glooLicenseKey", {"glooEdition": "enterprise"}, TOKEN),
    ("unknown-policy-mode", "vaultPolicyMode", {"vaultPolicyMode": "admin"}, TOKEN),
    ("ttl-days", "tokenMaxTtl", {"tokenMaxTtl": "1d"}, TOKEN),
    ("ttl-too-short", "tokenMaxTtl", {"tokenMaxTtl": "30s"}, TOKEN),
    ("ttl-too-long", "tokenMaxTtl", {"tokenMaxTtl": "721h"}, TOKEN),
    ("ttl-over-7-days", "tokenMaxTtl", {"tokenMaxTtl": "169h"}, TOKEN),
    ("kv-path-empty-part", "kvPath", {"kvPath": "dev//gloo"}, TOKEN),
    ("mount-path-space", "authMountPath", {"authMountPath": "aws eks"}, TOKEN),
    ("root-key-star", "glooRootKey", {"glooRootKey": "*"}, TOKEN),
    ("policy-name-upper", "vaultPolicyName", {"vaultPolicyName": "Dev"}, TOKEN),
    ("policy-name-root", "vaultPolicyName", {"vaultPolicyName": "root"}, TOKEN),
    ("policy-name-default", "vaultPolicyName", {"vaultPolicyName": "default"}, TOKEN),
    ("policy-name-slash", "vaultPolicyName", {"vaultPolicyName": "gloo/dev"}, TOKEN),
    ("release-name-upper", "glooReleaseName", {"glooReleaseName": "Gloo"}, TOKEN),
    ("release-name-54", "glooReleaseName", {"glooReleaseName": "g" * 54}, TOKEN),
    ("address-dash-host", "vaultAddress", {"vaultAddress": "http://-:8200"}, TOKEN),
    ("address-empty-label", "vaultAddress", {"vaultAddress": "http://vault..vault:8200"}, TOKEN),
    ("address-unicode-host", "vaultAddress", {"vaultAddress": "http://vaült.vault:8200"}, TOKEN),
    ("context-without-kubeconfig", "kubeContext", {"kubeContext": "admin@edge"}, TOKEN),
    # A Vault address is scheme, host and port: a path, query or fragment would be ignored or misused.
    ("address-path", "vaultAddress", {"vaultAddress": "https://vault.example.com:8200/ui"}, TOKEN),
    ("address-query", "vaultAddress", {"vaultAddress": "https://vault.example.com:8200?x=1"}, TOKEN),
    ("address-empty-query", "vaultAddress", {"vaultAddress": "https://vault.example.com:8200/?"}, TOKEN),
    ("address-fragment", "vaultAddress", {"vaultAddress": "https://vault.example.com:8200/#f"}, TOKEN),
    ("address-all", "vaultAddress", {"vaultAddress": "https://vault.example.com:8200/ui?x=1#f"}, TOKEN),
    ("provider-address-path", "vaultProviderAddress", {"vaultProviderAddress": "http://127.0.0.1:8200/v1/"}, TOKEN),
    # Pulumi reads `eks/prod` as organisation `eks`, stack `prod` of this project: never an EKS stack.
    ("stack-ref-two-parts", "clusterStackRef", {"clusterName": "", "clusterStackRef": "eks/prod"}, TOKEN),
    ("stack-ref-one-part", "clusterStackRef", {"clusterName": "", "clusterStackRef": "prod"}, TOKEN),
    (
        "external-no-address",
        "vaultAddress",
        {"vaultTopology": "external", "vaultAwsPrincipalArn": ROLE_PRINCIPAL},
        TOKEN,
    ),
    ("external-no-principal", "vaultAwsPrincipalArn", EXTERNAL_VAULT, TOKEN),
    (
        "external-both-principals",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": ROLE_PRINCIPAL, "vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL},
        TOKEN,
    ),
    ("in-cluster-with-principal", "vaultAwsPrincipalArn", {"vaultAwsPrincipalArn": ROLE_PRINCIPAL}, TOKEN),
    (
        "in-cluster-with-cross-principal",
        "vaultCrossAccountPrincipalArn",
        {"vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL},
        TOKEN,
    ),
    (
        "arn-short-account",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::12345:role/v"},
        TOKEN,
    ),
    (
        "arn-assumed-role",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:sts::123456789012:assumed-role/vault/i-0abc"},
        TOKEN,
    ),
    ("arn-not-arn", "vaultAwsPrincipalArn", {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "vault-server"}, TOKEN),
    (
        "arn-unicode-name",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vaült"},
        TOKEN,
    ),
    # IAM as organisations require it (tests/test_iam.py)
    ("path-no-slashes", "iamRolePath", {"iamRolePath": "platform"}, TOKEN),
    ("path-no-trailing-slash", "iamRolePath", {"iamRolePath": "/platform"}, TOKEN),
    ("path-empty-part", "iamRolePath", {"iamRolePath": "/platform//gloo/"}, TOKEN),
    ("path-space", "iamRolePath", {"iamRolePath": "/plat form/"}, TOKEN),
    (
        "boundary-a-role",
        "iamPermissionsBoundaryArn",
        {"iamPermissionsBoundaryArn": "arn:aws:iam::123456789012:role/b"},
        TOKEN,
    ),
    ("boundary-name-only", "iamPermissionsBoundaryArn", {"iamPermissionsBoundaryArn": "workload-boundary"}, TOKEN),
    (
        "boundary-other-partition",
        "iamPermissionsBoundaryArn",
        {"region": "cn-north-1", "iamPermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/b"},
        TOKEN,
    ),
    ("session-too-short", "iamMaxSessionDuration", {"iamMaxSessionDuration": "30m"}, TOKEN),
    ("session-too-long", "iamMaxSessionDuration", {"iamMaxSessionDuration": "13h"}, TOKEN),
    ("session-words", "iamMaxSessionDuration", {"iamMaxSessionDuration": "one hour"}, TOKEN),
    ("tags-not-a-map", "awsDefaultTags", {"awsDefaultTags": '["team"]'}, TOKEN),
    ("tags-number", "awsDefaultTags", {"awsDefaultTags": '{"cost-center": 4711}'}, TOKEN),
    ("tags-aws-prefix", "awsDefaultTags", {"awsDefaultTags": '{"aws:team": "edge"}'}, TOKEN),
    ("tags-bad-char", "awsDefaultTags", {"awsDefaultTags": '{"team": "edge!"}'}, TOKEN),
    ("tags-long-value", "awsDefaultTags", {"awsDefaultTags": json.dumps({"team": "e" * 257})}, TOKEN),
    ("tags-too-many", "awsDefaultTags", {"awsDefaultTags": json.dumps({f"t{i}": "x" for i in range(49)})}, TOKEN),
    ("tags-the-programs-own", "awsDefaultTags", {"awsDefaultTags": '{"eks-cluster": "other"}'}, TOKEN),
    (
        "cross-arn-group",
        "vaultCrossAccountPrincipalArn",
        {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:group/vault"},
        TOKEN,
    ),
]


BAD_IDS = [case[0] for case in BAD]


def test_the_base_of_every_bad_case_is_valid() -> None:
    """Each refusal below is caused by its own override, not by the base config."""
    parse(dev_config())


@pytest.mark.parametrize(("case", "key", "overrides", "secrets"), BAD, ids=BAD_IDS)
def test_bad_config_is_refused_naming_the_key(
    case: str, key: str, overrides: dict[str, str], secrets: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse({**dev_config(), **overrides}, secrets=secrets)
    assert_names_key(raised.value, key)


BOOLEAN_KEYS = [key.name for key in KEYS if key.check is checks.boolean]


@pytest.mark.parametrize("key", BOOLEAN_KEYS)
def test_a_misspelt_boolean_is_refused_showing_what_it_got(key: str) -> None:
    """`loginCheck: ture`: the line says which value it could not read, not only what it expected."""
    with pytest.raises(ConfigError) as raised:
        parse({**dev_config(), key: "ture"})
    assert_names_key(raised.value, key)
    assert str(raised.value) == f"gloo-vault-irsa:{key}: expected true or false (got 'ture')"


@pytest.mark.parametrize(("case", "key", "overrides", "secrets"), BAD, ids=BAD_IDS)
def test_bad_config_stops_the_program_before_any_resource(
    case: str, key: str, overrides: dict[str, str], secrets: dict[str, str]
) -> None:
    failed = run_program_failure({**dev_config(), **overrides}, secrets=secrets)
    assert_names_key(failed.error, key)
    assert failed.resources == [], [(r.type, r.name) for r in failed.resources]


@pytest.mark.parametrize("case", ["unknown-region", "missing-token", "external-no-principal"])
def test_bad_config_stops_a_preview_too(case: str) -> None:
    _, key, overrides, secrets = BAD[BAD_IDS.index(case)]
    failed = run_program_failure({**dev_config(), **overrides}, secrets=secrets, preview=True)
    assert_names_key(failed.error, key)
    assert failed.resources == []


def test_a_password_in_the_vault_address_is_refused_without_printing_it() -> None:
    failed = run_program_failure({**dev_config(), "vaultAddress": "https://admin:s3cr3t-pw@vault.example.com:8200"})
    assert_names_key(failed.error, "vaultAddress")
    assert "s3cr3t-pw" not in str(failed.error)


@pytest.mark.parametrize("address", ["http://[::1]:8200", "https://[2001:db8::7]:8200/", "http://127.0.0.1:8200"])
def test_ip_literal_vault_addresses_are_accepted(address: str) -> None:
    assert parse({"clusterName": "edge", "vaultProviderAddress": address}).vault.provider_address == address


@pytest.mark.parametrize("address", ["http://[::1", "http://[not-ip]:8200", "http://vault:99999"])
def test_malformed_addresses_are_still_refused(address: str) -> None:
    with pytest.raises(checks.ConfigError):
        parse({"clusterName": "edge", "vaultAddress": address})

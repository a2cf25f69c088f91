"""Config keys: the guide's defaults, every refusal, and the three places the keys are declared."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from components.config import checks
from components.config import keys as config_keys
from components.config import load as config_load
from components.config.checks import ConfigError
from components.config.keys import KEYS
from components.config.load import parse_settings
from components.settings import Settings
from tests.harness import EXTERNAL_VAULT, ROOT, config_text, dev_config, run_program, run_program_failure
from tooling import config_docs

CLUSTER = "gloo-ee-vault-integration"
ROLE_PRINCIPAL = "arn:aws:iam::123456789012:role/vault-server"
CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault-server"
TOKEN = {"vaultToken": "hvs.test"}


def parse(
    config: Mapping[str, str],
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """`parse_settings` over plain dicts, as the CLI stores values (strings, lists as JSON)."""
    secret_values = dict(TOKEN if secrets is None else secrets)

    def secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(secret_values[key]) if key in secret_values else None

    return parse_settings(dict(config).get, secret, dict(env or {}))


# ---------------------------------------------------------------------------- defaults


def test_defaults_are_the_guides_values() -> None:
    s = parse({"clusterName": CLUSTER})
    assert s.cluster_name == CLUSTER
    assert s.region == "us-east-1"  # AWS_REGION
    assert s.environment == "development"  # production only when asked (or by stack name, policy-pack/)
    assert s.gloo_namespace == "gloo-system"  # NAMESPACE
    # The guide's two subjects were its chart's two accounts; Gloo 1.22's chart has discovery off.
    assert s.gloo_service_accounts == ("gloo",)
    assert [sa.subject for sa in s.gloo_subjects] == ["system:serviceaccount:gloo-system:gloo"]
    assert parse({"clusterName": CLUSTER, "glooChartVersion": "1.15.19"}).gloo_service_accounts == (
        "gloo",
        "discovery",
    )
    assert s.iam_server_id_header == "vault.gloo.example.com"  # IAM_SERVER_ID_HEADER_VALUE
    assert s.vault_topology == "in-cluster-dev"  # helm install vault ... server.dev.enabled=true
    assert s.vault_namespace == "vault"  # --namespace vault
    assert s.vault_address == "http://vault-internal.vault:8200"  # VAULT_ADDRESS
    assert s.vault_provider_address is None
    assert s.auth_mount_path == "aws"  # vault auth enable aws
    assert s.kv_path == "dev"  # vault secrets enable -path="dev" -version=2 kv
    assert s.vault_policy_name == "dev"  # vault policy write dev
    assert s.gloo_root_key == "gloo"  # "The value of root_key is gloo by default"
    assert s.token_max_ttl_seconds == 24 * 3600  # max_ttl=24h
    assert s.sts_endpoint == "https://sts.us-east-1.amazonaws.com"  # sts_endpoint=https://sts.${AWS_REGION}...
    assert s.gloo_edition == "oss"  # helm install gloo gloo/gloo
    assert s.gloo_chart == ("gloo", "https://storage.googleapis.com/solo-public-helm")
    assert s.gloo_release_name == "gloo"
    assert s.gloo_chart_version == "1.22.1"  # the newest maintained line (the guide's 1.15 line has ended)
    assert s.kv_retain_on_delete is True
    assert s.vault_service_account == "vault"
    assert s.vault_policy_mode == "least-privilege"
    assert s.adopt_oidc_provider is False
    assert s.kubeconfig is None and s.kube_context is None
    assert s.vault_aws_principal is None and s.vault_cross_account_principal is None
    assert s.gloo_license_key is None


def test_empty_values_mean_the_default() -> None:
    # Pulumi.yaml declares `default: ""` for optional keys; "" must read as unset.
    s = parse({"clusterName": CLUSTER, "vaultAddress": "", "kubeconfig": "", "region": "", "tokenMaxTtl": ""})
    assert s.vault_address == "http://vault-internal.vault:8200"
    assert s.kubeconfig is None
    assert s.region == "us-east-1"
    assert s.token_max_ttl_seconds == 86400


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
    assert s.adopt_oidc_provider is True
    assert s.gloo_service_accounts == ("gloo", "discovery")
    assert s.vault_address == "http://vault-internal.secrets:8200"
    assert s.kv_path == "teams/edge"
    assert s.token_max_ttl_seconds == 5400
    assert s.gloo_chart_version == "1.17.0"
    assert parse({"clusterName": "edge", "environment": "production"}).environment == "production"


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
    assert parse({"clusterName": CLUSTER, "glooChartVersion": version}).gloo_chart_version == version.lstrip("v")


def test_vault_token_falls_back_to_the_environment() -> None:
    s = parse({"clusterName": CLUSTER}, secrets={}, env={"VAULT_TOKEN": "hvs.env"})
    assert s.vault_token is not None


def test_external_topology_settings() -> None:
    s = parse({"clusterName": CLUSTER, **EXTERNAL_VAULT, "vaultAwsPrincipalArn": ROLE_PRINCIPAL})
    assert s.vault_address == "https://vault.example.com:8200"
    assert s.vault_aws_principal is not None
    assert (s.vault_aws_principal.arn, s.vault_aws_principal.kind) == (ROLE_PRINCIPAL, "role")
    assert (s.vault_aws_principal.account, s.vault_aws_principal.name) == ("123456789012", "vault-server")
    s = parse({"clusterName": CLUSTER, **EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL})
    assert s.vault_cross_account_principal is not None
    assert s.vault_cross_account_principal.arn == CROSS_PRINCIPAL
    assert s.vault_cross_account_principal.account == "210987654321"


def test_enterprise_settings() -> None:
    s = parse({"clusterName": CLUSTER, "glooEdition": "enterprise"}, secrets={**TOKEN, "glooLicenseKey": "LIC"})
    assert s.gloo_chart == ("gloo-ee", "https://storage.googleapis.com/gloo-ee-helm")
    assert s.gloo_license_key is not None


# ---------------------------------------------------------------------------- refusals

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
    # IAM as organisations require it (tests/test_org_iam.py)
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


def assert_names_key(error: BaseException, key: str) -> None:
    assert isinstance(error, ConfigError), repr(error)
    assert isinstance(error, pulumi.RunError)  # printed by Pulumi as one line, no stack trace
    assert error.key == key
    message = str(error)
    assert message.startswith(f"gloo-vault-irsa:{key}: expected "), message
    assert "\n" not in message and "\r" not in message


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


# ---------------------------------------------------------------------------- declarations

PULUMI_TYPES = {bool: "boolean", list: "array", str: "string"}


def pulumi_yaml_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    return config


@pytest.mark.parametrize("key", [k for k in KEYS if k.declared], ids=lambda k: k.name)
def test_pulumi_yaml_declares_every_key_with_its_default(key: config_keys.Key) -> None:
    declared = pulumi_yaml_config()
    assert key.name in declared, f"Pulumi.yaml's config block lacks {key.name}"
    entry = declared[key.name]
    if key.default is None:
        # An optional key: no default, or "" which parse_settings reads as unset.
        assert entry.get("default", "") in ("", None), entry
        assert entry["type"] == (key.pulumi_type or "string")
    else:
        assert "default" in entry, f"Pulumi.yaml gives {key.name} no default"
        assert entry["default"] == key.default
        assert type(entry["default"]) is type(key.default)
        assert entry["type"] == PULUMI_TYPES[type(key.default)]


def test_pulumi_yaml_declares_no_key_the_cli_would_require() -> None:
    """The CLI (`pkg/v3` workspace/config.go, `mergeConfig`) refuses `preview` and `up` of a stack that
    leaves unset a project key declared without a default: such a key is required. Only the program
    knows which keys are (`clusterName` unless `clusterStackRef` or `clusters`), so none is declared so."""
    without_default = sorted(name for name, entry in pulumi_yaml_config().items() if "default" not in entry)
    assert without_default == []


def test_keys_with_derived_defaults_are_not_declared_but_still_documented() -> None:
    """`loginCheck` and `glooServiceAccounts` default from other keys: no value of their type could mean
    unset, so the CLI cannot be told their default; the README's table still lists them."""
    declared = pulumi_yaml_config()
    assert "loginCheck" not in declared and "glooServiceAccounts" not in declared
    table = config_docs.render_readme_table()
    assert "| `loginCheck` |" in table and "| `glooServiceAccounts` |" in table


@pytest.mark.parametrize(
    ("given", "nearest"),
    [("regoin", "region"), ("kvpath", "kvPath"), ("Region", "region"), ("glooServiceAccount", "glooServiceAccounts")],
)
def test_a_misspelt_key_is_refused_naming_the_nearest_known_key(given: str, nearest: str) -> None:
    failed = run_program_failure({**dev_config(), given: "eu-west-1"})
    assert str(failed.error) == (
        f"gloo-vault-irsa:{given}: expected no such key: not one of this program's keys "
        f'(README, "Configuration"); did you mean {nearest}?'
    )
    assert failed.resources == []


def test_an_unknown_key_with_nothing_near_is_refused_without_a_guess() -> None:
    failed = run_program_failure({**dev_config(), "fooBarBaz": "1"})
    assert str(failed.error).endswith('(README, "Configuration")'), failed.error
    assert failed.resources == []


def test_keys_of_other_namespaces_are_not_the_programs_to_refuse() -> None:
    config_load.refuse_unknown_keys({"aws:region": "x", "kubernetes:context": "y", "gloo-vault-irsa:region": "z"})


def test_pulumi_yaml_declares_no_unknown_key_and_no_secret_default() -> None:
    names = {k.name for k in KEYS}
    declared = pulumi_yaml_config()
    assert set(declared) <= names, set(declared) - names
    # A project's config types have no map: a declared map key would make the CLI refuse its value.
    assert [k.name for k in KEYS if k.pulumi_type == "object" and k.name in declared] == []
    for key in KEYS:
        if key.secret and key.name in declared:
            assert "default" not in declared[key.name], f"{key.name} is a secret: no default in Pulumi.yaml"


STACK_FILES = sorted(p.name for p in ROOT.glob("Pulumi.*.yaml"))
STACK_SECRETS = {"vaultToken": "hvs.test", "glooLicenseKey": "LICENSE", "kubeconfig": "/home/ops/.kube/config"}


def stack_file_problems(path: Path) -> list[str]:
    """What is wrong with a stack file: a key outside this project (a typo in the namespace) or
    outside KEYS (a typo in the name), a secret in plain text, or a value the config refuses (the
    secrets it declares encrypted, `secure:`, supplied by the test)."""
    names, secret_names = {k.name for k in KEYS}, {k.name for k in KEYS if k.secret}
    problems: list[str] = []
    values: dict[str, str] = {}
    secrets = dict(TOKEN)
    for key, value in (yaml.safe_load(path.read_text()).get("config") or {}).items():
        project, _, name = key.partition(":")
        encrypted = isinstance(value, dict) and set(value) == {"secure"}
        if project != "gloo-vault-irsa" or name not in names:
            problems.append(f"{key}: not a key of this program (KEYS)")
        elif name in secret_names and not encrypted:
            problems.append(f"{key}: a secret in plain text; use pulumi config set --secret")
        elif encrypted:
            secrets[name] = STACK_SECRETS[name]
        else:
            values[name] = config_text(value)
    if "glooEdition" in values and values["glooEdition"] == "enterprise":
        secrets.setdefault("glooLicenseKey", STACK_SECRETS["glooLicenseKey"])  # from ESC or --secret
    try:
        parse(values, secrets=secrets)
    except ConfigError as refused:
        problems.append(str(refused))
    return problems


def test_the_stack_files_are_dev_and_prod() -> None:
    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml"} <= set(STACK_FILES)


@pytest.mark.parametrize("name", STACK_FILES)
def test_every_stack_file_sets_known_keys_to_values_the_config_takes(name: str) -> None:
    assert stack_file_problems(ROOT / name) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"gloo-vault-irsa:vaultAdress": "https://vault.example.com"}, "not a key of this program"),
        ({"gloo-vault-iras:region": "us-east-1"}, "not a key of this program"),
        ({"gloo-vault-irsa:region": "us-east-7"}, "gloo-vault-irsa:region: expected"),
        ({"gloo-vault-irsa:awsDefaultTags": {"aws:team": "edge"}}, "gloo-vault-irsa:awsDefaultTags: expected"),
        ({"gloo-vault-irsa:vaultToken": "hvs.in-plain-text"}, "a secret in plain text"),
    ],
    ids=["key-typo", "namespace-typo", "refused-value", "refused-map", "plain-secret"],
)
@pytest.mark.parametrize("name", ["Pulumi.dev.yaml", "Pulumi.prod.yaml"])
def test_a_stack_file_that_drifts_from_the_schema_is_caught(
    tmp_path: Path, name: str, change: dict[str, Any], problem: str
) -> None:
    data = yaml.safe_load((ROOT / name).read_text())
    data["config"].update(change)
    drifted = tmp_path / name
    drifted.write_text(yaml.safe_dump(data))
    problems = stack_file_problems(drifted)
    assert any(problem in p for p in problems), problems


def test_an_encrypted_secret_in_a_stack_file_is_fine(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    data["config"]["gloo-vault-irsa:vaultToken"] = {"secure": "v1:AAAABBBBCCCC"}
    encrypted = tmp_path / "Pulumi.prod.yaml"
    encrypted.write_text(yaml.safe_dump(data))
    assert stack_file_problems(encrypted) == []


# README.md is written by the docs engineer; this test keeps its config table in step with KEYS.
@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_readme_config_table_lists_every_key(key: config_keys.Key) -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"^\| `{re.escape(key.name)}` ", readme, flags=re.MULTILINE), (
        f"README.md's config table has no row starting with | `{key.name}`"
    )


def test_pulumi_yaml_config_block_is_generated_from_keys() -> None:
    """Run `.venv/bin/python -m tooling.config_docs` after changing KEYS."""
    assert pulumi_yaml_config() == config_docs.pulumi_yaml_config()
    text = (ROOT / "Pulumi.yaml").read_text()
    assert text.endswith(config_docs.render_pulumi_yaml_config()), "Pulumi.yaml's config block is not KEYS'"


def test_readme_config_table_is_generated_from_keys() -> None:
    """Run `.venv/bin/python -m tooling.config_docs` after changing KEYS."""
    readme = (ROOT / "README.md").read_text()
    assert config_docs.readme_table(readme) == config_docs.render_readme_table()


def test_every_key_fills_exactly_one_settings_field() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert [k.settings_field for k in KEYS if k.settings_field not in fields] == []
    assert len({k.settings_field for k in KEYS}) == len(KEYS) == len(fields - {"stack"})


PRODUCTION_NAMES = ["prod", "production", "prd", "live", "prod1", "prod2", "production2", "eu-prd", "org/prod"]
NOT_PRODUCTION_NAMES = ["dev", "product", "preprod", "liveness", "staging", "prodx"]


@pytest.mark.parametrize("stack", PRODUCTION_NAMES + NOT_PRODUCTION_NAMES)
def test_production_by_stack_name_is_the_policy_packs_rule(stack: str) -> None:
    """The program protects what the pack treats as production: one rule, checked name by name."""
    import guardrails  # policy-pack/, as the Pulumi CLI loads it

    settings = parse_settings({"clusterName": CLUSTER}.get, lambda _: pulumi.Output.secret("t"), {}, stack)
    assert settings.production == guardrails.is_production(stack, None) == (stack in PRODUCTION_NAMES)

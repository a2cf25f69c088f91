"""Vault layer: the in-cluster dev Vault, the Vault provider, and the guide's Vault steps 2-6."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    CA_PEM,
    EKS_TOKEN,
    ENDPOINT,
    EXTERNAL_VAULT,
    GET_CLUSTER_AUTH,
    HELM_RELEASE,
    TEST_VAULT_TOKEN,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_POLICY,
    VAULT_PROVIDER,
    VAULT_STS_ROLE,
    ProgramRun,
    Registered,
    dev_config,
    mock_physical_name,
    mock_role_arn,
    run_program,
)
from tests.test_documents import parse_policy_hcl

CLUSTER = "gloo-ee-vault-integration"
GLOO_ROLE_ARN = mock_role_arn("gloo")
VAULT_IDENTITY_ARN = mock_role_arn("vault-identity")
PROXY_URL = f"{ENDPOINT}/api/v1/namespaces/vault/services/http:vault:8200/proxy"


TOPOLOGIES: dict[str, dict[str, Any]] = {
    "in-cluster": {},
    "in-cluster-port-forward": {"vaultProviderAddress": "http://127.0.0.1:8200"},
    "external-role": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server"},
    "external-user": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:user/vault"},
    "cross-account": {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault"},
    "external-own-provider-address": {
        **EXTERNAL_VAULT,
        "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
        "vaultProviderAddress": "https://vault.internal.example.com:8200",
    },
}
GRANT_TYPE = {
    "in-cluster": "aws:iam/rolePolicy:RolePolicy",
    "in-cluster-port-forward": "aws:iam/rolePolicy:RolePolicy",
    "external-role": "aws:iam/rolePolicy:RolePolicy",
    "external-user": "aws:iam/userPolicy:UserPolicy",
    "cross-account": "aws:iam/rolePolicy:RolePolicy",
    "external-own-provider-address": "aws:iam/rolePolicy:RolePolicy",
}


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {name: run_program({**dev_config(), **overrides}) for name, overrides in TOPOLOGIES.items()}


@pytest.fixture(scope="module")
def run(runs: dict[str, ProgramRun]) -> ProgramRun:
    return runs["in-cluster"]


def uses_provider(res: Registered, provider: Registered) -> bool:
    return res.provider.rsplit("::", 1)[0] == provider.urn


# ---------------------------------------------------------------------------- guide steps 2-6


def test_aws_auth_is_enabled_at_aws(run: ProgramRun) -> None:
    backend = run.one(VAULT_AUTH_BACKEND)
    assert backend.inputs["type"] == "aws"
    assert backend.inputs["path"] == "aws"


def test_kv_v2_is_mounted_at_dev(run: ProgramRun) -> None:
    mount = run.one(VAULT_MOUNT)
    assert mount.inputs["path"] == "dev"
    assert mount.inputs["type"] == "kv"
    assert mount.inputs["options"] == {"version": "2"}


def test_policy_dev_lets_gloo_read_and_list_its_secrets_only(run: ProgramRun) -> None:
    policy = run.one(VAULT_POLICY)
    assert policy.inputs["name"] == "dev"
    assert parse_policy_hcl(policy.inputs["policy"]) == {"dev/data/gloo/*": {"read"}, "dev/metadata/gloo/*": {"list"}}


def test_guide_policy_mode_writes_the_guides_policy() -> None:
    run = run_program({**dev_config(), "vaultPolicyMode": "guide"})
    assert parse_policy_hcl(run.one(VAULT_POLICY).inputs["policy"]) == {
        "dev/*": {"create", "read", "update", "delete", "list"},
        "dev/": {"list"},
        "sys/mounts": {"read", "list"},
    }


def test_client_config_is_the_guides_step_5(run: ProgramRun) -> None:
    client = run.one(VAULT_AWS_CLIENT)
    assert client.inputs["iamServerIdHeaderValue"] == "vault.gloo.example.com"
    assert client.inputs["stsEndpoint"] == "https://sts.us-east-1.amazonaws.com"
    assert client.inputs["stsRegion"] == "us-east-1"
    assert client.inputs["backend"] == "aws"
    assert run.one(VAULT_AUTH_BACKEND).urn in client.property_dependencies["backend"]


def test_role_is_the_guides_step_6_without_deprecated_fields(run: ProgramRun) -> None:
    role = run.one(VAULT_AWS_ROLE)
    assert role.inputs["authType"] == "iam"
    assert role.inputs["boundIamPrincipalArns"] == [GLOO_ROLE_ARN]
    assert role.inputs["tokenPolicies"] == ["dev"]
    assert role.inputs["tokenMaxTtl"] == 86400  # max_ttl=24h
    assert role.inputs["role"] == mock_physical_name("gloo")  # named after the IAM role, as in the guide
    assert role.inputs["backend"] == "aws"
    # Bound to the role's unique ID (Vault's default, hence the GetRole grant): a role deleted and
    # re-created under the same name does not inherit the login.
    assert role.inputs.get("resolveAwsUniqueIds", True) is True
    for deprecated in ("policies", "maxTtl", "ttl", "period", "boundIamPrincipalArn"):
        assert deprecated not in role.inputs, deprecated


def test_role_is_bound_to_the_gloo_role_outputs(run: ProgramRun) -> None:
    role = run.one(VAULT_AWS_ROLE)
    gloo_role = run.one("aws:iam/role:Role", "gloo")
    assert gloo_role.urn in role.property_dependencies["boundIamPrincipalArns"]
    assert gloo_role.urn in role.property_dependencies["role"]
    assert run.one(VAULT_POLICY).urn in role.property_dependencies["tokenPolicies"]
    assert run.one(VAULT_AUTH_BACKEND).urn in role.property_dependencies["backend"]
    assert run.outputs["vaultRoleName"] == run.outputs["glooRoleName"] == mock_physical_name("gloo")


def test_settings_flow_into_vault() -> None:
    run = run_program(
        {
            **dev_config(),
            "region": "eu-west-1",
            "authMountPath": "aws-eks",
            "kvPath": "secret",
            "glooRootKey": "edge",
            "vaultPolicyName": "gloo-read",
            "tokenMaxTtl": "1h",
            "iamServerIdHeader": "vault.edge.example.org",
        }
    )
    assert run.one(VAULT_AUTH_BACKEND).inputs["path"] == "aws-eks"
    assert run.one(VAULT_MOUNT).inputs["path"] == "secret"
    policy = run.one(VAULT_POLICY)
    assert policy.inputs["name"] == "gloo-read"
    assert parse_policy_hcl(policy.inputs["policy"]) == {
        "secret/data/edge/*": {"read"},
        "secret/metadata/edge/*": {"list"},
    }
    client = run.one(VAULT_AWS_CLIENT)
    assert client.inputs["stsEndpoint"] == "https://sts.eu-west-1.amazonaws.com"
    assert client.inputs["stsRegion"] == "eu-west-1"
    assert client.inputs["iamServerIdHeaderValue"] == "vault.edge.example.org"
    role = run.one(VAULT_AWS_ROLE)
    assert role.inputs["tokenMaxTtl"] == 3600
    assert role.inputs["tokenPolicies"] == ["gloo-read"]
    assert role.inputs["backend"] == "aws-eks"


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_role_waits_for_vaults_get_role_grant_and_the_client_config(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    role = run.one(VAULT_AWS_ROLE)
    assert run.depends_on(role, run.one(GRANT_TYPE[topology]))
    assert run.depends_on(role, run.one(VAULT_AWS_CLIENT))
    if topology == "cross-account":
        assert run.depends_on(role, run.one(VAULT_STS_ROLE))
    else:
        assert run.of_type(VAULT_STS_ROLE) == []


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_every_vault_resource_uses_the_explicit_vault_provider(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    provider = run.one(VAULT_PROVIDER)
    vault_resources = [r for r in run.resources if r.custom and r.type.startswith("vault:")]
    assert len(vault_resources) >= 5
    for res in vault_resources:
        assert uses_provider(res, provider), (res.type, res.provider)
        assert run.by_urn(res.parent).type == "gloo-vault-irsa:vault:VaultAwsAuth"


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_provider_token_is_secret(runs: dict[str, ProgramRun], topology: str) -> None:
    provider = runs[topology].one(VAULT_PROVIDER)
    assert provider.inputs["token"] == TEST_VAULT_TOKEN
    assert provider.secret("token")


# ---------------------------------------------------------------------------- in-cluster Vault


def test_in_cluster_vault_is_the_guides_helm_release(run: ProgramRun) -> None:
    release = run.one(HELM_RELEASE, "vault")
    assert release.inputs["name"] == "vault"
    assert release.inputs["chart"] == "vault"
    assert release.inputs["repositoryOpts"] == {"repo": "https://helm.releases.hashicorp.com"}
    assert release.inputs["version"] == "0.32.0"
    assert release.inputs["namespace"] == "vault"
    assert release.inputs["createNamespace"] is False  # the program makes it, with Vault's account
    assert release.secret("values")  # the dev root token is in them
    server = release.inputs["values"]["server"]
    assert server["dev"]["enabled"] is True
    assert server["dev"]["devRootToken"] == TEST_VAULT_TOKEN  # the provider's token is the root token
    assert server["service"]["type"] == "ClusterIP"
    assert server["serviceAccount"] == {"create": False, "name": "vault"}
    account = run.one("kubernetes:core/v1:ServiceAccount", "vault")
    assert account.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == VAULT_IDENTITY_ARN
    assert run.outputs["vaultAwsIdentityArn"] == VAULT_IDENTITY_ARN
    assert run.by_urn(release.parent).type == "gloo-vault-irsa:vault:InClusterVault"
    k8s = run.one("pulumi:providers:kubernetes")
    assert uses_provider(release, k8s)


def test_vault_chart_version_is_configurable() -> None:
    run = run_program({**dev_config(), "vaultChartVersion": "0.28.0"})
    assert run.one(HELM_RELEASE, "vault").inputs["version"] == "0.28.0"


def test_vault_namespace_flows_everywhere() -> None:
    run = run_program({**dev_config(), "vaultNamespace": "secrets", "vaultServiceAccount": "vault-server"})
    release = run.one(HELM_RELEASE, "vault")
    assert release.inputs["namespace"] == "secrets"
    assert release.inputs["values"]["server"]["serviceAccount"]["name"] == "vault-server"
    trust = json.loads(run.one("aws:iam/role:Role", "vault-identity").inputs["assumeRolePolicy"])
    [sub] = [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert sub == ["system:serviceaccount:secrets:vault-server"]
    assert run.one(VAULT_PROVIDER).inputs["address"] == (
        f"{ENDPOINT}/api/v1/namespaces/secrets/services/http:vault:8200/proxy"
    )
    assert run.outputs["vaultAddress"] == "http://vault-internal.secrets:8200"


def test_provider_reaches_in_cluster_vault_through_the_api_server(run: ProgramRun) -> None:
    provider = run.one(VAULT_PROVIDER)
    assert provider.inputs["address"] == PROXY_URL
    assert provider.secret("headers")
    assert json.loads(provider.inputs["headers"]) == [{"name": "Authorization", "value": f"Bearer {EKS_TOKEN}"}]
    assert Path(provider.inputs["caCertFile"]).read_bytes() == CA_PEM
    auth_invokes = [(args, via) for token, args, via in run.invokes if token == GET_CLUSTER_AUTH]
    [(args, via)] = auth_invokes
    assert args == {"name": CLUSTER}
    assert via.rsplit("::", 1)[0] == run.one("pulumi:providers:aws").urn


@pytest.mark.parametrize("topology", ["in-cluster", "in-cluster-port-forward"])
def test_provider_waits_for_the_in_cluster_vault(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    assert run.depends_on(run.one(VAULT_PROVIDER), run.one(HELM_RELEASE, "vault"))


def test_provider_address_override_for_in_cluster(runs: dict[str, ProgramRun]) -> None:
    provider = runs["in-cluster-port-forward"].one(VAULT_PROVIDER)
    assert provider.inputs["address"] == "http://127.0.0.1:8200"
    assert "headers" not in provider.inputs


# ---------------------------------------------------------------------------- external Vault


@pytest.mark.parametrize("topology", ["external-role", "external-user", "cross-account"])
def test_external_vault_is_reached_at_its_address(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    provider = run.one(VAULT_PROVIDER)
    assert provider.inputs["address"] == "https://vault.example.com:8200"
    assert [r.name for r in run.of_type(HELM_RELEASE)] == ["gloo"]  # no in-cluster Vault
    assert run.of_type("gloo-vault-irsa:vault:InClusterVault") == []
    assert provider.dependencies == []
    assert run.outputs["vaultAddress"] == "https://vault.example.com:8200"


def test_external_provider_address_override(runs: dict[str, ProgramRun]) -> None:
    run = runs["external-own-provider-address"]
    assert run.one(VAULT_PROVIDER).inputs["address"] == "https://vault.internal.example.com:8200"
    assert run.outputs["vaultAddress"] == "https://vault.example.com:8200"  # Gloo still uses vaultAddress

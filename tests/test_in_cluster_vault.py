"""components/in_cluster_vault.py: the guide's dev Vault Helm release, its namespace and IRSA
service account, and the provider that reaches it through the API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness import (
    CA_PEM,
    EKS_TOKEN,
    ENDPOINT,
    GET_CLUSTER_AUTH,
    HELM_RELEASE,
    TEST_VAULT_TOKEN,
    VAULT_PROVIDER,
    ProgramRun,
    dev_config,
    mock_role_arn,
    run_program,
    trust_subjects,
    uses_provider,
    vault_topology_run,
    vault_topology_runs,
)

# This module's `runs` and `run` are the Vault topologies' (tests/harness.py), not the stack variants.
runs, run = vault_topology_runs, vault_topology_run

CLUSTER = "gloo-ee-vault-integration"
VAULT_IDENTITY_ARN = mock_role_arn("vault-identity")
PROXY_URL = f"{ENDPOINT}/api/v1/namespaces/vault/services/http:vault:8200/proxy"


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


SA = "kubernetes:core/v1:ServiceAccount"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE_ARN = "eks.amazonaws.com/role-arn"
REGIONAL = "eks.amazonaws.com/sts-regional-endpoints"


def test_the_dev_vault_runs_as_a_service_account_the_program_annotates(run: ProgramRun) -> None:
    """The chart drops `server.serviceAccount.annotations` in dev mode: the program owns the account."""
    sa = run.one(SA, "vault")
    assert sa.inputs["metadata"]["name"] == "vault"
    assert sa.inputs["metadata"]["namespace"] == "vault"
    assert sa.inputs["metadata"]["annotations"] == {
        ROLE_ARN: run.outputs["vaultAwsIdentityArn"],
        REGIONAL: "true",
    }
    values = run.one(HELM_RELEASE, "vault").inputs["values"]
    assert values["server"]["dev"]["enabled"] is True
    assert values["server"]["serviceAccount"] == {"create": False, "name": "vault"}


def test_the_vault_release_waits_for_its_namespace_and_service_account(run: ProgramRun) -> None:
    release = run.one(HELM_RELEASE, "vault")
    assert run.depends_on(release, run.one(SA, "vault"))
    assert run.depends_on(release, run.one(NAMESPACE, "vault"))
    assert run.depends_on(run.one(SA, "vault"), run.one(NAMESPACE, "vault"))
    assert release.inputs["createNamespace"] is False
    assert run.one(NAMESPACE, "vault").inputs["metadata"]["name"] == "vault"


def test_vault_namespace_and_account_follow_config() -> None:
    run = run_program({**dev_config(), "vaultNamespace": "secrets", "vaultServiceAccount": "vault-server"})
    assert run.one(SA, "vault").inputs["metadata"]["namespace"] == "secrets"
    assert run.one(HELM_RELEASE, "vault").inputs["values"]["server"]["serviceAccount"]["name"] == "vault-server"
    assert trust_subjects(run, "vault-identity") == ["system:serviceaccount:secrets:vault-server"]

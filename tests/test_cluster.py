"""components/cluster.py: the issuer read from EKS, the IAM OIDC provider (created or adopted), kubeconfig."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.harness import (
    CA_DATA,
    ENDPOINT,
    GET_CLUSTER,
    GET_OIDC_PROVIDER,
    ISSUER_URL,
    OIDC_PROVIDER,
    GuideMocks,
    ProgramRun,
    Registered,
    dev_config,
    oidc_provider_arn,
    run_program,
)

CLUSTER = "gloo-ee-vault-integration"
ISSUER_HOST = ISSUER_URL.removeprefix("https://")
# What the adopted-provider lookup answers in these tests: different from the ARN the mocks give a
# created provider, so the trust policy provably takes the lookup's answer.
ADOPTED_ARN = oidc_provider_arn(ISSUER_URL, account_id="111122223333")


class AdoptedProviderMocks(GuideMocks):
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        result, failures = super().call(args)
        if args.token == GET_OIDC_PROVIDER:
            result = {**result, "arn": ADOPTED_ARN}
        return result, failures


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program()


@pytest.fixture(scope="module")
def adopted() -> ProgramRun:
    return run_program({**dev_config(), "adoptOidcProvider": True}, mocks=AdoptedProviderMocks)


@pytest.fixture(scope="module")
def elsewhere() -> ProgramRun:
    return run_program({**dev_config(), "clusterName": "edge-prod", "region": "eu-west-1"})


def aws_provider(run: ProgramRun) -> Registered:
    return run.one("pulumi:providers:aws")


def provider_urn(ref: str) -> str:
    """A provider reference is `<urn>::<id>`."""
    return ref.rsplit("::", 1)[0]


def invokes(run: ProgramRun, token: str) -> list[tuple[dict[str, Any], str]]:
    return [(args, provider) for t, args, provider in run.invokes if t == token]


def trust_federated_principals(run: ProgramRun) -> set[str]:
    principals = set()
    for role in run.of_type("aws:iam/role:Role"):
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            if "Federated" in statement.get("Principal", {}):
                principals.add(statement["Principal"]["Federated"])
    return principals


def kubeconfig_of(run: ProgramRun) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(run.one("pulumi:providers:kubernetes").inputs["kubeconfig"])
    return config


def test_the_cluster_is_read_by_name_through_the_explicit_aws_provider(run: ProgramRun) -> None:
    provider = aws_provider(run)
    assert provider.name == "aws"
    assert provider.inputs["region"] == "us-east-1"
    [(args, via)] = invokes(run, GET_CLUSTER)
    assert args == {"name": CLUSTER}
    assert provider_urn(via) == provider.urn


def test_the_region_and_cluster_name_come_from_config(elsewhere: ProgramRun) -> None:
    provider = aws_provider(elsewhere)
    assert provider.inputs["region"] == "eu-west-1"
    [(args, via)] = invokes(elsewhere, GET_CLUSTER)
    assert args == {"name": "edge-prod"}
    assert provider_urn(via) == provider.urn


def test_the_oidc_provider_is_created_for_the_clusters_issuer(run: ProgramRun) -> None:
    oidc = run.one(OIDC_PROVIDER)
    assert oidc.inputs["url"] == ISSUER_URL
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider_urn(oidc.provider) == aws_provider(run).urn
    assert run.by_urn(oidc.parent).type == "gloo-vault-irsa:cluster:EksOidcCluster"
    assert invokes(run, GET_OIDC_PROVIDER) == []


def test_the_issuer_outputs_come_from_the_cluster(run: ProgramRun) -> None:
    assert run.outputs["oidcIssuerUrl"] == ISSUER_URL
    assert run.outputs["oidcIssuer"] == ISSUER_HOST
    assert run.outputs["oidcProviderArn"] == oidc_provider_arn(ISSUER_URL)
    assert trust_federated_principals(run) == {oidc_provider_arn(ISSUER_URL)}


def test_an_adopted_provider_is_looked_up_not_created(adopted: ProgramRun) -> None:
    assert adopted.of_type(OIDC_PROVIDER) == []
    [(args, via)] = invokes(adopted, GET_OIDC_PROVIDER)
    assert args == {"url": ISSUER_URL}
    assert provider_urn(via) == aws_provider(adopted).urn


def test_an_adopted_providers_arn_is_what_the_roles_trust(adopted: ProgramRun) -> None:
    assert trust_federated_principals(adopted) == {ADOPTED_ARN}
    assert adopted.outputs["oidcProviderArn"] == ADOPTED_ARN


def test_kubernetes_provider_authenticates_with_aws_eks_get_token(run: ProgramRun) -> None:
    k8s = run.one("pulumi:providers:kubernetes")
    assert run.by_urn(k8s.parent).type == "gloo-vault-irsa:cluster:EksOidcCluster"
    config = kubeconfig_of(run)
    [context] = [c["context"] for c in config["contexts"] if c["name"] == config["current-context"]]
    [cluster] = [c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]]
    [user] = [u["user"] for u in config["users"] if u["name"] == context["user"]]
    assert cluster == {"server": ENDPOINT, "certificate-authority-data": CA_DATA}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == ["eks", "get-token", "--cluster-name", CLUSTER, "--region", "us-east-1"]
    assert not k8s.inputs.get("context")


def test_kubeconfig_follows_cluster_name_and_region(elsewhere: ProgramRun) -> None:
    [user] = kubeconfig_of(elsewhere)["users"]
    assert user["user"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", "edge-prod", "--region", "eu-west-1"]


def test_configured_kubeconfig_and_context_are_used_as_given() -> None:
    run = run_program({**dev_config(), "kubeconfig": "/home/ops/.kube/edge", "kubeContext": "admin@edge"})
    k8s = run.one("pulumi:providers:kubernetes")
    assert k8s.inputs["kubeconfig"] == "/home/ops/.kube/edge"
    assert k8s.inputs["context"] == "admin@edge"
    assert "get-token" not in json.dumps(k8s.inputs)


def test_a_secret_kubeconfig_stays_secret() -> None:
    run = run_program(secrets={"vaultToken": "hvs.test", "kubeconfig": "apiVersion: v1\nkind: Config\n"})
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.secret("kubeconfig")

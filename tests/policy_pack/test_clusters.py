"""`gloo-clusters-isolated` (guardrails/clusters.py): with several clusters in one stack
(`clusters`), each cluster's Gloo logs in with its own IRSA role, trusted by its own cluster's
OIDC provider alone, and its own Vault role. The real fleet passes; a twin that lets one
cluster's Gloo reach another's role fails, each way, although every other policy passes it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

import guardrails
from guardrails import StackResource
from guardrails.trust import trusted_issuers
from tests.harness import FLEET, ProgramRun
from tests.policy_pack.engine import DEV, Resources, gloo_root, only, pack_violations, stack_resources, vault_source

POLICY = "gloo-clusters-isolated"


@pytest.fixture(scope="module")
def fleet(runs: dict[str, ProgramRun]) -> Resources:
    """The `clusters` stack (east-a: its OIDC provider made here; east-b: from its own stack)."""
    return stack_resources(runs["clusters"])


def one(resources: Resources, type_: str, name: str) -> StackResource:
    [found] = [r for r in resources if r.type == type_ and r.name == name]
    return found


def changed(resources: Resources, type_: str, name: str, change: Callable[[dict[str, Any]], None]) -> Resources:
    """The stack with resource `type_` `name`'s properties changed (on a copy)."""
    props = copy.deepcopy(dict(one(resources, type_, name).props))
    change(props)
    return [r._replace(props=props) if r.type == type_ and r.name == name else r for r in resources]


def issuer_of(resources: Resources, role: str) -> str:
    [issuer] = trusted_issuers(json.loads(one(resources, guardrails.ROLE, role).props["assumeRolePolicy"]))
    return issuer


def trusting(resources: Resources, role: str, issuer: str) -> Resources:
    """The stack with role `role` trusting `issuer` instead of its own cluster's OIDC provider."""
    own = issuer_of(resources, role)
    return changed(
        resources,
        guardrails.ROLE,
        role,
        lambda p: p.update(assumeRolePolicy=p["assumeRolePolicy"].replace(own, issuer)),
    )


def isolation(resources: Resources) -> list[str]:
    """What the pack says, and that only this policy says it."""
    found = pack_violations(resources, DEV)
    assert all(v.startswith(f"{POLICY}: ") for v in found), found
    return found


def test_the_fleet_keeps_each_cluster_apart(fleet: Resources) -> None:
    """Each cluster's release, on its own Kubernetes provider, annotates its own role (trusting
    its own OIDC provider) and names its own Vault role; the pack passes it."""
    releases = [one(fleet, guardrails.HELM_RELEASE, f"{key}-gloo") for key in FLEET]
    assert len({r.provider for r in releases}) == len(FLEET)
    assert len({issuer_of(fleet, f"{key}-gloo") for key in FLEET}) == len(FLEET)
    assert len({vault_source(dict(r.props["values"]))["aws"]["vaultRole"] for r in releases}) == len(FLEET)
    assert guardrails.check_cluster_isolation(fleet, DEV) == []
    assert pack_violations(fleet, DEV) == []


def annotate(role_arn: str, vault_role: str) -> Callable[[dict[str, Any]], None]:
    """Gloo's values made to log in as `role_arn` (annotation) and `vault_role`."""

    def change(props: dict[str, Any]) -> None:
        root = gloo_root(props["values"])
        root["gloo"]["serviceAccount"]["extraAnnotations"][guardrails.IRSA_ANNOTATION] = role_arn
        vault_source(props["values"])["aws"]["vaultRole"] = vault_role

    return change


def test_a_role_annotated_in_two_clusters_is_refused(fleet: Resources) -> None:
    """east-b's Gloo annotated with east-a's role and logging in as east-a's Vault role: the
    Vault side agrees, each role's subjects are the annotated ones (the same namespace and
    name in both clusters), so only isolation sees that one role serves two clusters. (east-b's
    own Vault role, bound to a role no Gloo annotates any more, is gone: that is another rule's.)"""
    east_a_arn = one(fleet, guardrails.ROLE, "east-a-gloo").props["arn"]
    east_a_vault_role = one(fleet, guardrails.VAULT_AWS_ROLE, "gloo-east-a").props["role"]
    unused = [r for r in fleet if (r.type, r.name) != (guardrails.VAULT_AWS_ROLE, "gloo-east-b")]
    shared = changed(unused, guardrails.HELM_RELEASE, "east-b-gloo", annotate(east_a_arn, east_a_vault_role))
    only(isolation(shared), f"IRSA role {east_a_arn!r} is annotated on service accounts in 2 clusters")


def test_a_vault_role_named_in_two_clusters_is_refused(fleet: Resources) -> None:
    """Vault's roles configured elsewhere (not in the stack, so the agreement has nothing to
    compare): east-b's Gloo naming east-a's Vault role still logs in as another cluster's role."""
    elsewhere = [r for r in fleet if r.type != guardrails.VAULT_AWS_ROLE]
    east_a_role = vault_source(dict(one(fleet, guardrails.HELM_RELEASE, "east-a-gloo").props["values"]))["aws"]
    shared = changed(
        elsewhere,
        guardrails.HELM_RELEASE,
        "east-b-gloo",
        lambda p: vault_source(p["values"])["aws"].update(vaultRole=east_a_role["vaultRole"]),
    )
    only(isolation(shared), f"Vault role {east_a_role['vaultRole']!r} on mount 'aws'")


def test_an_oidc_provider_trusted_by_two_clusters_roles_is_refused(fleet: Resources) -> None:
    """east-b's role trusting east-a's OIDC provider: east-a's `gloo-system:gloo` can assume it."""
    east_a_issuer = issuer_of(fleet, "east-a-gloo")
    only(
        isolation(trusting(fleet, "east-b-gloo", east_a_issuer)),
        f"OIDC provider {east_a_issuer!r} is trusted by IRSA roles annotated in 2 clusters",
    )


def test_two_clusters_roles_trusting_each_others_oidc_provider_are_refused(fleet: Resources) -> None:
    """Swapped: no provider is shared, but east-a's OIDC provider (made in this stack, next to
    east-a's Kubernetes provider) is not the one east-a's role trusts."""
    east_a_issuer, east_b_issuer = issuer_of(fleet, "east-a-gloo"), issuer_of(fleet, "east-b-gloo")
    swapped = trusting(trusting(fleet, "east-a-gloo", east_b_issuer), "east-b-gloo", east_a_issuer)
    only(isolation(swapped), f"trusts {east_b_issuer!r}, not its cluster's own OIDC provider {east_a_issuer!r}")


OTHER_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"


def test_a_role_trusting_an_oidc_provider_of_no_cluster_of_the_stack_is_refused(run: ProgramRun) -> None:
    """One cluster (the dev stack, its OIDC provider made here): Gloo's role trusting another
    cluster's provider lets that cluster's `gloo-system:gloo` assume it, and Gloo's logins fail."""
    resources = stack_resources(run)
    own = issuer_of(resources, "gloo")
    only(
        isolation(trusting(resources, "gloo", OTHER_ISSUER)),
        f"trusts {OTHER_ISSUER!r}, not its cluster's own OIDC provider {own!r}",
    )


def test_without_the_clusters_oidc_provider_in_the_stack_its_own_is_not_known(runs: dict[str, ProgramRun]) -> None:
    """An adopted provider (or one from the cluster's stack) is not a resource of this stack: the
    pack cannot tell which issuer is the cluster's, so only sharing one is refused."""
    resources = stack_resources(runs["adopted-oidc"])
    assert not [r for r in resources if r.type == guardrails.OIDC_PROVIDER]
    assert pack_violations(trusting(resources, "gloo", OTHER_ISSUER), DEV) == []


# ------------------------------------------------------------------ one EKS cluster twice


def kubeconfig_server(provider: StackResource) -> str:
    config = json.loads(provider.props["kubeconfig"])
    [cluster] = config["clusters"]
    server: str = cluster["cluster"]["server"]
    return server


def reaching(resources: Resources, provider: str, server: str) -> Resources:
    """The stack with Kubernetes provider `provider`'s kubeconfig reaching `server`."""
    own = kubeconfig_server(one(resources, guardrails.K8S_PROVIDER, provider))
    return changed(
        resources,
        guardrails.K8S_PROVIDER,
        provider,
        lambda p: p.update(kubeconfig=p["kubeconfig"].replace(own, server)),
    )


def test_each_cluster_of_the_fleet_has_its_own_endpoint_and_issuer(fleet: Resources) -> None:
    """Guards the checks below against passing by reading nothing: the fleet's providers reach
    two API servers, its roles trust two issuers."""
    servers = {kubeconfig_server(one(fleet, guardrails.K8S_PROVIDER, f"{key}-cluster")) for key in FLEET}
    assert len(servers) == len(FLEET) and all(s.startswith("https://") for s in servers)
    assert len({issuer_of(fleet, f"{key}-gloo") for key in FLEET}) == len(FLEET)


def test_one_cluster_listed_twice_is_refused(fleet: Resources) -> None:
    """`{a: {clusterName: edge-prod}, b: {clusterStackRef: acme/eks/prod}}` when that stack's cluster
    is edge-prod: config sees two names; the outputs show one API server and one issuer."""
    east_a_server = kubeconfig_server(one(fleet, guardrails.K8S_PROVIDER, "east-a-cluster"))
    twice = trusting(reaching(fleet, "east-b-cluster", east_a_server), "east-b-gloo", issuer_of(fleet, "east-a-gloo"))
    found = isolation(twice)
    normalised = f"{east_a_server.lower()}:443"  # the port HTTPS implies, the host in lower case
    only(found, f"Kubernetes providers 'east-a-cluster' and 'east-b-cluster' reach one API server ({normalised!r})")
    only(found, "is trusted by IRSA roles annotated in 2 clusters")


def test_two_providers_reaching_one_api_server_are_refused(fleet: Resources) -> None:
    """Only the endpoint shows it (each role trusts an issuer of its own, as two clusters' would)."""
    server = kubeconfig_server(one(fleet, guardrails.K8S_PROVIDER, "east-a-cluster"))
    only(isolation(reaching(fleet, "east-b-cluster", server.upper() + "/")), "reach one API server")


def test_two_oidc_providers_for_one_issuer_are_refused(fleet: Resources) -> None:
    """A second IAM OIDC provider for an issuer the stack already registers (each cluster component
    makes its own): one cluster, listed twice."""
    east_a_oidc = one(fleet, guardrails.OIDC_PROVIDER, "east-a-cluster")
    east_b_parent = one(fleet, guardrails.K8S_PROVIDER, "east-b-cluster").parent
    second = east_a_oidc._replace(
        name="east-b-cluster", urn=east_a_oidc.urn.replace("east-a", "east-b"), parent=east_b_parent
    )
    only(
        pack_violations([*fleet, second], DEV),
        f"gloo-clusters-isolated: IAM OIDC providers 'east-a-cluster' and 'east-b-cluster' register one issuer "
        f"({east_a_oidc.props['url'].removeprefix('https://')!r})",
    )

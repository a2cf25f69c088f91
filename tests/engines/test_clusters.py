"""Several clusters on one Vault (`clusters`) on the local engines: the `clusters` variant's own
registrations (tests/harness.py FLEET_CONFIG: east-a looked up by name, east-b from its EKS stack,
an external Vault whose role is `vault-server`) applied to moto and OpenBao, each cluster's Gloo
run as its pod (its release's values, its cluster's issuer).

What is shown: each Gloo logs in with its own IRSA role and its own Vault role and reads; neither
can log in with the other's Vault role (Vault refuses the principal); each Gloo role trusts its own
cluster's issuer only (moto issues credentials for any web identity token, so that part is the
trust documents). Removing a cluster runs through the real engine (tests/engines/test_cli_stacks.py:
only its resources deleted, Vault's grant narrowed, the other cluster still logging in, its token
from before still renewing); here, what removing one changes in the registrations.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engines.apply import ROLE_POLICY, Deployment, _policy_document, eks_issuer_region
from tests.engines.conftest import Deployer, Scenario
from tests.engines.gloo_client import (
    GLOO_SERVICE_ACCOUNT,
    IRSA_ANNOTATION,
    GlooSecretClient,
    assume_role_with_web_identity,
    web_identity_token,
)
from tests.engines.servers import Engines
from tests.engines.test_auth_chain import EXTERNAL_ROLE, UPSTREAM_SECRET, VAULT_ROLE
from tests.harness import (
    ACCOUNT_ID,
    EKS_ISSUER_URL,
    FLEET,
    FLEET_CONFIG,
    mock_role_arn,
)

pytestmark = pytest.mark.engines

KEYS = tuple(FLEET)
PAIRS = [(own, other) for own in KEYS for other in KEYS if own != other]


def _given_vault_and_the_eks_stacks_provider(engines: Engines) -> None:
    """What exists before the program runs: the external Vault's own role, and the OIDC provider of
    the cluster that comes from its stack (east-b: the EKS stack owns it, this program only names it)."""
    assert EXTERNAL_ROLE.given is not None
    EXTERNAL_ROLE.given(engines)
    engines.moto.client("iam").create_open_id_connect_provider(
        Url=EKS_ISSUER_URL, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[]
    )


FLEET_SCENARIO = Scenario(
    "external, clusters east-a and east-b", config=FLEET_CONFIG, given=_given_vault_and_the_eks_stacks_provider
)


def without(removed: str) -> Scenario:
    """The same stack with cluster `removed` taken out of `clusters`."""
    clusters = {key: value for key, value in FLEET.items() if key != removed}
    return Scenario(f"clusters without {removed}", config={**FLEET_CONFIG, "clusters": clusters})


def cluster(dep: Deployment, key: str) -> dict[str, Any]:
    """Cluster `key`'s stack outputs (`clusters.<key>`)."""
    outputs: dict[str, Any] = dep.run.outputs["clusters"][key]
    return outputs


def seed(dep: Deployment) -> None:
    """The operator writes a Gloo secret in the shared kv mount (once per deployment)."""
    settings = dep.gloo_settings(KEYS[0])
    operator = GlooSecretClient(settings, dep.engines.bao.root_token)
    if operator.read(settings.namespace, "upstream-aws").status != 200:
        operator.write(settings.namespace, "upstream-aws", UPSTREAM_SECRET).expect(200, 204)


def vault_role(dep: Deployment, name: str) -> dict[str, Any]:
    """The aws auth role `name` as Vault stores it."""
    stored: dict[str, Any] = (
        dep.operator("GET", f"auth/{dep.run.outputs['vaultAuthMountPath']}/role/{name}").expect(200).data
    )
    return stored


@pytest.fixture
def fleet(deployer: Deployer) -> Deployment:
    dep = deployer(FLEET_SCENARIO)
    seed(dep)
    return dep


# ---------------------------------------------------------------------------- each cluster on its own


def test_each_cluster_has_its_own_issuer_gloo_role_and_vault_role(fleet: Deployment) -> None:
    """The program's per-cluster resources, as registered: `<key>-gloo` roles, `gloo-<key>` Vault
    roles each bound to exactly its cluster's Gloo role, nothing shared between the two."""
    for key in KEYS:
        out = cluster(fleet, key)
        assert out["glooRoleArn"] == mock_role_arn(f"{key}-gloo")
        declared = fleet.run.one(VAULT_ROLE, f"gloo-{key}").inputs
        assert declared["role"] == out["vaultRoleName"] == out["glooRoleName"]
        assert declared["boundIamPrincipalArns"] == [out["glooRoleArn"]]
    for field in ("oidcIssuerUrl", "oidcProviderArn", "glooRoleArn", "vaultRoleName"):
        assert len({cluster(fleet, key)[field] for key in KEYS}) == len(KEYS), field


@pytest.mark.parametrize("key", KEYS)
def test_each_clusters_gloo_logs_in_with_its_own_roles_and_reads(fleet: Deployment, key: str) -> None:
    """Gloo's own client as the cluster's pod: its release's values (its Vault role, its IRSA role
    annotated), its cluster's issuer and region. Vault says which IAM role and Vault role it used."""
    out = cluster(fleet, key)
    pod = fleet.gloo_pod(key)
    assert pod.issuer_url == out["oidcIssuerUrl"]
    assert pod.annotations[IRSA_ANNOTATION] == out["glooRoleArn"]
    assert pod.vault_source["aws"]["vaultRole"] == out["vaultRoleName"]

    run = fleet.run_gloo(pod).ok()
    [login] = run.logins
    assert login["request"]["role"] == out["vaultRoleName"]
    token = fleet.operator("POST", "auth/token/lookup", {"token": login["client_token"]}).expect(200).data
    assert token["display_name"].startswith(f"aws-{out['glooRoleName']}/")  # the IAM role it assumed
    stored = vault_role(fleet, out["vaultRoleName"])
    assert token["meta"]["role_id"] == stored["role_id"]  # the Vault role it logged in with
    moto_role = fleet.engines.moto.client("iam").get_role(RoleName=out["glooRoleName"])["Role"]
    assert stored["bound_iam_principal_id"] == [moto_role["RoleId"]]
    assert run.reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}
    # The pod's SDK calls STS in its cluster's region (east-b's is eu-west-1), and Gloo still signs
    # the login for Vault's region.
    assert {call["host"] for call in run.transcript["sts_calls"]} == {
        f"sts.{eks_issuer_region(pod.issuer_url)}.amazonaws.com"
    }
    assert login["request"]["signed_region"] == fleet.run.outputs["region"]


# ---------------------------------------------------------------------------- neither uses the other's


@pytest.mark.parametrize(("own", "other"), PAIRS)
def test_a_clusters_gloo_is_refused_with_the_other_clusters_vault_role(fleet: Deployment, own: str, other: str) -> None:
    """The cluster's Gloo pod (its web identity, its IAM role) configured with the other cluster's
    Vault role: Vault sees the caller's IAM role is not the one that Vault role binds."""
    mine, theirs = cluster(fleet, own), cluster(fleet, other)
    pod = fleet.gloo_pod(own).with_vault_settings(vaultRole=theirs["vaultRoleName"])
    run = fleet.run_gloo(pod).refused()
    assert [request["role"] for request in run.transcript["login_requests"]] == [theirs["vaultRoleName"]]
    assert run.status == 400
    principal = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{mine['glooRoleName']}/"
    assert f'IAM Principal "{principal}' in run.error
    assert f'does not belong to the role "{theirs["vaultRoleName"]}"' in run.error


def trusted_issuers(trust: dict[str, Any]) -> set[str]:
    """Every issuer a trust policy's web identity statements name: federated providers and the
    `<issuer>:aud` / `<issuer>:sub` condition keys."""
    issuers: set[str] = set()
    for statement in trust["Statement"]:
        if statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        federated = statement["Principal"]["Federated"]
        for arn in [federated] if isinstance(federated, str) else federated:
            issuers.add(arn.split(":oidc-provider/", 1)[1])
        for condition in statement.get("Condition", {}).values():
            issuers.update(key.rsplit(":", 1)[0] for key in condition)
    return issuers


@pytest.mark.parametrize(("own", "other"), PAIRS)
def test_a_clusters_token_is_not_trusted_by_the_other_clusters_gloo_role(
    fleet: Deployment, own: str, other: str
) -> None:
    """The other cluster's Gloo role, as moto holds it, trusts the other cluster's issuer only, so
    STS would refuse this cluster's service account token. moto does not: it reads neither the
    token nor the trust policy (it even assumes a role that does not exist), as asserted last, so
    that a moto that starts enforcing shows here and this test can assert the refusal instead."""
    mine, theirs = cluster(fleet, own), cluster(fleet, other)
    iam = fleet.engines.moto.client("iam")
    trust = _policy_document(iam.get_role(RoleName=theirs["glooRoleName"])["Role"]["AssumeRolePolicyDocument"])
    assert trusted_issuers(trust) == {theirs["oidcIssuer"]} != {mine["oidcIssuer"]}
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=theirs["oidcProviderArn"])
    assert provider["Url"] == theirs["oidcIssuer"]

    # The same namespace and service account in both clusters: only the issuer tells them apart.
    subject = f"system:serviceaccount:{fleet.run.outputs['glooNamespace']}:{GLOO_SERVICE_ACCOUNT}"
    token = web_identity_token(mine["oidcIssuerUrl"], subject)
    creds = assume_role_with_web_identity(
        fleet.rewrites.pod_sts_endpoint(), fleet.run.outputs["region"], theirs["glooRoleArn"], token, "not-enforced"
    )
    assert creds.session_token  # moto's gap, not the program's: AWS STS refuses this call


# ---------------------------------------------------------------------------- removing a cluster


def test_removing_a_cluster_changes_no_registration_of_the_other(deployer: Deployer) -> None:
    """Run again without one cluster: every resource left keeps its URN and declared inputs, except
    Vault's shared grant, which now names the kept cluster's Gloo role only; everything gone is the
    removed cluster's."""
    for kept, removed in PAIRS:
        first, second = deployer.program_run(FLEET_SCENARIO), deployer.program_run(without(removed))
        before = {r.urn: r for r in first.resources}
        for res in second.resources:
            assert res.urn in before, f"{res.type} {res.name} is new"
            old = before[res.urn]
            if res.type == ROLE_POLICY:
                assert {k for k in res.inputs if res.inputs[k] != old.inputs.get(k)} == {"policy"}
                assert grant_resources(res.inputs["policy"]) == [second.outputs["clusters"][kept]["glooRoleArn"]]
            else:
                assert (res.inputs, res.options) == (old.inputs, old.options), f"{res.type} {res.name} changed"
        gone = [r.name for urn, r in before.items() if urn not in {r.urn for r in second.resources}]
        assert gone and all(removed in name for name in gone), gone
        assert second.outputs["clusters"] == {kept: first.outputs["clusters"][kept]}


def grant_resources(policy: str | dict[str, Any]) -> list[str]:
    """The roles Vault's grant lets it iam:GetRole."""
    [statement] = _policy_document(policy)["Statement"]
    assert statement["Action"] == "iam:GetRole"
    resources = statement["Resource"]
    return [resources] if isinstance(resources, str) else list(resources)


def assert_a_removed_clusters_token_cannot_renew(stale: GlooSecretClient) -> None:
    """The removed cluster's Gloo token from before: Vault re-checks the role on renewal and refuses;
    deleting the role revokes nothing, so the token reads until its TTL runs out (tokenMaxTtl)."""
    settings = stale.settings
    renewal = stale.call("PUT", "auth/token/renew-self", {})
    assert renewal.status == 500 and "role entry not found" in "; ".join(renewal.errors), renewal.errors
    assert stale.read(settings.namespace, "upstream-aws").status == 200  # not revoked: see the docstring

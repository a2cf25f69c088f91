"""Several clusters on one Vault (`clusters`): each cluster its own OIDC provider, Gloo role, Vault
role and Gloo release; Vault's identity, provider, mounts and policy shared. Config checks, the
graph's isolation between clusters, and what adding, removing or moving to `clusters` changes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.checks import ConfigError
from components.project import CLUSTER_TAG
from tests.harness import (
    EKS_ISSUER_URL,
    EKS_STACK,
    FLEET,
    FLEET_CONFIG,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    OIDC_PROVIDER,
    VAULT_AWS_ROLE,
    ProgramRun,
    Registered,
    cluster_issuer_url,
    oidc_provider_arn,
    run_program,
    run_program_failure,
)
from tests.test_config import assert_names_key, parse
from tests.test_real_cluster import NoOidcProviderMocks

SECRETS = {"vaultToken": "hvs.test"}
KEYS = tuple(FLEET)


def fleet(clusters: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The two-cluster variant's config, with other clusters or keys."""
    return {**FLEET_CONFIG, "clusters": FLEET if clusters is None else clusters, **overrides}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program(fleet(), secrets=SECRETS)


def cluster_resources(run: ProgramRun, key: str) -> list[Registered]:
    """The custom resources one cluster owns: named `<key>-...`, or its Vault role `gloo-<key>`."""
    return [r for r in run.resources if r.custom and (r.name.startswith(f"{key}-") or r.name == f"gloo-{key}")]


# ---------------------------------------------------------------------------- config


def test_each_entry_becomes_a_cluster_the_stack_serves() -> None:
    settings = parse({k: json.dumps(v) if isinstance(v, dict) else v for k, v in fleet().items()})
    assert [(t.key, t.cluster_name, t.stack_ref, t.named("gloo")) for t in settings.targets] == [
        ("east-a", "edge-east-a", None, "east-a-gloo"),
        ("east-b", None, EKS_STACK, "east-b-gloo"),
    ]


def test_without_clusters_the_one_cluster_keeps_its_names() -> None:
    [target] = parse({"clusterName": "edge"}).targets
    assert (target.key, target.output_key, target.named("gloo")) == (None, "default", "gloo")


BAD_CLUSTERS: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("not-a-map", "clusters", ["edge-a"], {}),
    ("empty", "clusters", {}, {}),
    ("upper-case-name", "clusters", {"East": {"clusterName": "e"}}, {}),
    ("long-name", "clusters", {"a" * 21: {"clusterName": "e"}}, {}),
    ("entry-not-a-map", "clusters.a", {"a": "edge-a"}, {}),
    ("unknown-field", "clusters.a.kubeconfig", {"a": {"clusterName": "e", "kubeconfig": "x"}}, {}),
    ("both", "clusters.a", {"a": {"clusterName": "e", "clusterStackRef": EKS_STACK}}, {}),
    ("neither", "clusters.a", {"a": {"adoptOidcProvider": True}}, {}),
    ("bad-cluster-name", "clusters.a.clusterName", {"a": {"clusterName": "my cluster"}}, {}),
    ("bad-stack", "clusters.a.clusterStackRef", {"a": {"clusterStackRef": "a b"}}, {}),
    ("bad-flag", "clusters.a.adoptOidcProvider", {"a": {"clusterName": "e", "adoptOidcProvider": "yes"}}, {}),
    ("same-cluster-twice", "clusters", {"a": {"clusterName": "e"}, "b": {"clusterName": "e"}}, {}),
    ("same-stack-twice", "clusters", {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": EKS_STACK}}, {}),
    # YAML nulls (`clusterName:` with nothing after it) are no value at all, named where they stand.
    ("null-cluster-name", "clusters.a.clusterName", {"a": {"clusterName": None}}, {}),
    ("null-stack", "clusters.a.clusterStackRef", {"a": {"clusterStackRef": None}}, {}),
    ("null-flag", "clusters.a.adoptOidcProvider", {"a": {"clusterName": "e", "adoptOidcProvider": None}}, {}),
    ("null-entry", "clusters.a", {"a": None}, {}),
    # A stack named without its organisation or project is refused (Pulumi would read `eks/prod` as
    # organisation `eks`, stack `prod` of this project), so no stack can be spelt two ways.
    (
        "stack-org-omitted",
        "clusters.b.clusterStackRef",
        {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": "eks/prod"}},
        {},
    ),
    (
        "stack-name-only",
        "clusters.b.clusterStackRef",
        {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": "prod"}},
        {},
    ),
    (
        "adopt-with-stack",
        "clusters.a.adoptOidcProvider",
        {"a": {"clusterStackRef": EKS_STACK, "adoptOidcProvider": True}},
        {},
    ),
    (
        "two-from-single",
        "clusters",
        {"a": {"clusterName": "e", "fromSingleCluster": True}, "b": {"clusterName": "f", "fromSingleCluster": True}},
        {},
    ),
    ("and-clusterName", "clusterName", FLEET, {"clusterName": "edge"}),
    ("and-clusterStackRef", "clusterStackRef", FLEET, {"clusterStackRef": EKS_STACK}),
    ("and-kubeconfig", "kubeconfig", FLEET, {"kubeconfig": "apiVersion: v1"}),
    ("and-kubeContext", "kubeContext", FLEET, {"kubeContext": "admin"}),
    ("and-adoptOidcProvider", "adoptOidcProvider", FLEET, {"adoptOidcProvider": True}),
    ("in-cluster-vault", "vaultTopology", FLEET, {"vaultTopology": "in-cluster-dev", "vaultAwsPrincipalArn": ""}),
    (
        "grant-over-iams-limit",
        "clusters",
        {f"cluster-{i:02d}": {"clusterName": f"edge-{i:02d}"} for i in range(40)},
        {"vaultAwsPrincipalArn": "arn:aws:iam::123456789012:user/vault-server"},
    ),
]


@pytest.mark.parametrize(("case", "key", "clusters", "overrides"), BAD_CLUSTERS, ids=[c[0] for c in BAD_CLUSTERS])
def test_bad_clusters_stop_the_program_before_any_resource_naming_the_key(
    case: str, key: str, clusters: Any, overrides: dict[str, Any]
) -> None:
    failed = run_program_failure(fleet(clusters, **overrides), secrets=SECRETS)
    assert_names_key(failed.error, key)
    assert isinstance(failed.error, ConfigError)
    assert [(r.type, r.name) for r in failed.resources] == [], case


def test_the_grant_limit_counts_the_role_path_and_principal_kind() -> None:
    """40 clusters fit a role's 10,240 characters, not a user's 2,048; a long path shrinks the room."""
    forty = {f"cluster-{i:02d}": {"clusterName": f"edge-{i:02d}"} for i in range(40)}
    run_program(fleet(forty), secrets=SECRETS)
    long_path = "/" + "/".join(["platform-identity-and-access"] * 8) + "/"
    failed = run_program_failure(fleet(forty, iamRolePath=long_path), secrets=SECRETS)
    assert "over IAM's 10240 for a role policy" in str(failed.error)


# ---------------------------------------------------------------------------- isolation


def test_each_gloo_role_trusts_only_its_own_clusters_issuer(run: ProgramRun) -> None:
    issuers = {"east-a": cluster_issuer_url("edge-east-a"), "east-b": EKS_ISSUER_URL}
    assert len(set(issuers.values())) == 2
    for key, issuer in issuers.items():
        role = run.one(IAM_ROLE, f"{key}-gloo")
        [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        host = issuer.removeprefix("https://")
        assert statement["Principal"] == {"Federated": oidc_provider_arn(issuer)}
        assert statement["Condition"] == {
            "StringEquals": {
                f"{host}:aud": "sts.amazonaws.com",
                f"{host}:sub": ["system:serviceaccount:gloo-system:gloo"],
            }
        }
        assert run.outputs["clusters"][key]["oidcIssuerUrl"] == issuer


def test_each_clusters_vault_role_binds_only_its_own_gloo_role(run: ProgramRun) -> None:
    roles = {r.name: r for r in run.of_type(VAULT_AWS_ROLE)}
    assert set(roles) == {f"gloo-{key}" for key in KEYS}
    for key in KEYS:
        out = run.outputs["clusters"][key]
        vault_role = roles[f"gloo-{key}"].inputs
        assert vault_role["boundIamPrincipalArns"] == [out["glooRoleArn"]]
        assert vault_role["role"] == out["vaultRoleName"] == out["glooRoleName"]
        assert roles[f"gloo-{key}"].options["replacementTrigger"] == out["glooRoleUniqueId"]
    shared = {json.dumps(r.inputs["tokenPolicies"]) + r.inputs["backend"] for r in roles.values()}
    assert len(shared) == 1  # one mount, one policy


def test_each_release_logs_in_with_its_own_role_on_its_own_cluster(run: ProgramRun) -> None:
    for key in KEYS:
        out = run.outputs["clusters"][key]
        release = run.one(HELM_RELEASE, f"{key}-gloo")
        values = release.inputs["values"]
        [vault] = [s["vault"] for s in values["settings"]["secretOptions"]["sources"] if "vault" in s]
        assert vault["aws"]["vaultRole"] == out["vaultRoleName"]
        assert values["gloo"]["serviceAccount"]["extraAnnotations"]["eks.amazonaws.com/role-arn"] == out["glooRoleArn"]
        assert run.provider_of(release).name == f"{key}-cluster"


def test_vaults_identity_may_resolve_every_gloo_role_and_nothing_else(run: ProgramRun) -> None:
    [grant] = run.of_type(IAM_ROLE_POLICY)
    [statement] = json.loads(grant.inputs["policy"])["Statement"]
    assert statement["Action"] == "iam:GetRole"
    assert statement["Resource"] == sorted(run.outputs["clusters"][key]["glooRoleArn"] for key in KEYS)


def test_no_cluster_waits_for_another(run: ProgramRun) -> None:
    """Each cluster's chain runs beside the others: nothing of one depends on anything of another."""
    for key in KEYS:
        others = {r.urn for other in KEYS if other != key for r in cluster_resources(run, other)}
        for res in cluster_resources(run, key):
            assert not any(run.depends_on(res, run.by_urn(urn)) for urn in others), res.name


def test_every_cluster_gets_its_own_oidc_provider(run: ProgramRun) -> None:
    """east-a's is created from its EKS issuer; east-b's comes from its stack (not created here)."""
    [provider] = run.of_type(OIDC_PROVIDER)
    assert (provider.name, provider.inputs["url"]) == ("east-a-cluster", cluster_issuer_url("edge-east-a"))


# ---------------------------------------------------------------------------- changes


def shape(res: Registered) -> tuple[str, str]:
    return res.urn, json.dumps(res.inputs, sort_keys=True)


@pytest.mark.parametrize("key", KEYS)
def test_removing_a_cluster_changes_nothing_of_the_others_but_the_shared_grant(run: ProgramRun, key: str) -> None:
    [kept] = [k for k in KEYS if k != key]
    smaller = run_program(fleet({kept: FLEET[kept]}), secrets=SECRETS)
    before = {r.urn: shape(r) for r in run.resources if r.custom}
    after = {r.urn: shape(r) for r in smaller.resources if r.custom}
    assert set(before) - set(after) == {r.urn for r in cluster_resources(run, key)}
    assert set(after) <= set(before)
    changed = {urn for urn in after if after[urn] != before[urn]}
    assert changed == {smaller.one(IAM_ROLE_POLICY).urn}


def test_a_stack_of_one_cluster_moves_to_clusters_without_replacing_anything() -> None:
    """`fromSingleCluster` aliases the cluster's resources to their one-cluster names: with Pulumi's
    alias rules (a child named after its parent follows the parent's alias) every resource of the
    one-cluster stack is found again under its new name."""
    base = {k: v for k, v in FLEET_CONFIG.items() if k != "clusters"}
    single = run_program({**base, "clusterName": "edge-east-a"}, secrets=SECRETS)
    moved = run_program(
        fleet({"east-a": {"clusterName": "edge-east-a", "fromSingleCluster": True}, "east-b": FLEET["east-b"]}),
        secrets=SECRETS,
    )
    old_urns = {_urn_before_move(moved, res) for res in moved.resources}
    assert {res.urn for res in single.resources} <= old_urns
    unaliased = run_program(
        fleet({"east-a": {"clusterName": "edge-east-a"}, "east-b": FLEET["east-b"]}), secrets=SECRETS
    )
    assert not {res.urn for res in single.resources if res.custom} <= {
        _urn_before_move(unaliased, r) for r in unaliased.resources
    }


def _urn_before_move(run: ProgramRun, res: Registered) -> str:
    """The URN `res` answers to through its aliases: its own alias name, else its parent's alias
    carried over when its name starts with the parent's (the engine's inherited child alias)."""
    name = res.name
    aliases = [a["spec"]["name"] for a in res.options.get("aliases", []) if isinstance(a, dict)]
    if aliases:
        name = aliases[0]
    elif (parent := next((r for r in run.resources if r.urn == res.parent), None)) is not None:
        parent_old = _urn_before_move(run, parent).rsplit("::", 1)[1]
        if parent_old != parent.name and name.startswith(parent.name):
            name = parent_old + name[len(parent.name) :]
    return res.urn.rsplit("::", 1)[0] + "::" + name


def test_a_preview_of_several_clusters_registers_what_the_update_does(run: ProgramRun) -> None:
    """Nothing is created inside an `apply`: the pull request's preview shows every cluster's resources."""
    preview = run_program(fleet(), secrets=SECRETS, preview=True)
    assert sorted((r.type, r.name, r.parent) for r in preview.resources) == sorted(
        (r.type, r.name, r.parent) for r in run.resources
    )


def test_each_cluster_adopts_its_own_oidc_provider() -> None:
    clusters = {"east-a": {"clusterName": "edge-east-a", "adoptOidcProvider": True}, "east-b": FLEET["east-b"]}
    run = run_program(fleet(clusters), secrets=SECRETS)
    assert run.of_type(OIDC_PROVIDER) == []  # east-a's adopted, east-b's from its stack
    assert run.outputs["clusters"]["east-a"]["oidcProviderArn"] == oidc_provider_arn(cluster_issuer_url("edge-east-a"))


def test_a_cluster_whose_provider_to_adopt_is_missing_is_named() -> None:
    clusters = {"east-a": {"clusterName": "edge-east-a", "adoptOidcProvider": True}, "east-b": FLEET["east-b"]}
    failed = run_program_failure(fleet(clusters), secrets=SECRETS, mocks=NoOidcProviderMocks)
    assert_names_key(failed.error, "clusters.east-a.adoptOidcProvider")
    assert "set clusters.east-a.adoptOidcProvider false" in str(failed.error)
    assert [r.type for r in failed.resources if r.type != "pulumi:providers:aws"] == []


@pytest.mark.parametrize("clusters", [FLEET, {"east-a": FLEET["east-a"]}], ids=["two", "one"])
def test_vaults_shared_role_is_tagged_with_no_one_cluster(clusters: dict[str, Any]) -> None:
    """Cross-account: the role Vault assumes serves every cluster of `clusters`, however many are
    left: a cluster's tag on it would change (an update) each time the count falls to one."""
    cross = {"vaultAwsPrincipalArn": "", "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault"}
    run = run_program(fleet(clusters, **cross), secrets=SECRETS)
    vault_role = run.one(IAM_ROLE, "vault-identity")
    assert CLUSTER_TAG not in (vault_role.inputs.get("tags") or {})
    assert all(run.one(IAM_ROLE, f"{key}-gloo").inputs["tags"][CLUSTER_TAG] for key in clusters)

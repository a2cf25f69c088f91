"""components/stack.py, the graph: the whole program on the real stack files (dev, prod, several
clusters): the output contract README documents, secrets that never leak, the conventions every
resource keeps (component types, explicit providers), preview, and README's import commands."""

from __future__ import annotations

import gc
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.checks import MAX_TOKEN_TTL_SECONDS
from components.project import CLUSTER_TAG, HELM_TIMEOUT_SECONDS, IAM_PROPAGATION_WAITS
from components.vault_provider import PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS, child_token_ttl_seconds
from tests.harness import (
    EKS_CLUSTER,
    EKS_ISSUER_URL,
    EKS_STACK,
    FLEET,
    FLEET_CONFIG,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    ISSUER_URL,
    LICENSE,
    OIDC_PROVIDER,
    ROOT,
    TEST_VAULT_TOKEN,
    VARIANTS,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_PROVIDER,
    NoOidcProviderMocks,
    ProgramRun,
    Registered,
    assert_names_key,
    cluster_issuer_url,
    dev_config,
    fleet,
    gloo_values,
    is_secret,
    mock_physical_name,
    mock_role_arn,
    mock_role_unique_id,
    oidc_provider_arn,
    parse,
    run_program,
    run_program_failure,
    stack_config,
)

COMPONENT_TYPE = re.compile(r"^gloo-vault-irsa:(cluster|iam|vault|gloo|stack):[A-Z][A-Za-z0-9]*$")


# ---------------------------------------------------------------------------- outputs contract

OUTPUTS = {
    "clusterName",
    "loginCheck",
    "region",
    "oidcProviderArn",
    "oidcIssuer",
    "oidcIssuerUrl",
    "glooRoleArn",
    "glooRoleName",
    "vaultAwsIdentityArn",
    "vaultTopology",
    "vaultAddress",
    "vaultAuthMountPath",
    "vaultKvPath",
    "vaultPolicyName",
    "vaultRoleName",
    "iamServerIdHeader",
    "glooNamespace",
    "glooReleaseName",
    "glooChart",
    "glooChartVersion",
    "glooRoleUniqueId",
    "glooRootKey",
    "vaultCaCert",
}
"""A stack of one cluster's outputs: each value once, at the top (no `clusters`)."""
EACH_CLUSTER = {
    "clusterName",
    "oidcProviderArn",
    "oidcIssuer",
    "oidcIssuerUrl",
    "glooRoleArn",
    "glooRoleName",
    "glooRoleUniqueId",
    "vaultRoleName",
    "loginCheck",
}
"""Outputs of one cluster: under `clusters.<name>`, and at the top only for a stack of one cluster."""
SEVERAL = (OUTPUTS - EACH_CLUSTER) | {"clusters"}
"""A stack with `clusters`: what they share at the top, each cluster's under `clusters`."""


def test_outputs_are_the_contract(run: ProgramRun) -> None:
    assert set(run.outputs) == OUTPUTS
    assert run.outputs == {
        "clusterName": "gloo-ee-vault-integration",
        "region": "us-east-1",
        "oidcProviderArn": oidc_provider_arn(ISSUER_URL),
        "oidcIssuer": ISSUER_URL.removeprefix("https://"),
        "oidcIssuerUrl": ISSUER_URL,
        "glooRoleArn": mock_role_arn("gloo"),
        "glooRoleName": mock_physical_name("gloo"),
        "vaultAwsIdentityArn": mock_role_arn("vault-identity"),
        "vaultTopology": "in-cluster-dev",
        "vaultAddress": "http://vault-internal.vault:8200",
        "vaultAuthMountPath": "aws",
        "vaultKvPath": "dev",
        "vaultPolicyName": "dev",
        "vaultRoleName": mock_physical_name("gloo"),
        "iamServerIdHeader": "vault.gloo.example.com",
        "glooNamespace": "gloo-system",
        "glooReleaseName": "gloo",
        "glooChart": "gloo",
        "glooChartVersion": "1.22.1",
        "glooRoleUniqueId": mock_role_unique_id("gloo"),
        "glooRootKey": "gloo",
        "vaultCaCert": "",
        "loginCheck": {
            "job": f"gloo-system/{mock_physical_name('gloo-login-check')}",
            "status": "passed",
            "logs": f"kubectl -n gloo-system logs job/{mock_physical_name('gloo-login-check')}",
        },
    }
    assert "clusters" not in run.outputs  # each value once: no copy of the one cluster's under `clusters`


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_the_same_contract(runs: dict[str, ProgramRun], variant: str) -> None:
    outputs = runs[variant].outputs
    several = "clusters" in VARIANTS[variant][0]
    assert set(outputs) == (SEVERAL if several else OUTPUTS)
    assert all(value is not None and value != "" for name, value in outputs.items() if name != "vaultCaCert"), outputs
    assert bool(outputs.get("clusters")) == several
    for name, cluster in outputs.get("clusters", {}).items():
        assert set(cluster) == EACH_CLUSTER, name
        assert all(value is not None and value != "" for value in cluster.values()), (name, cluster)


# ---------------------------------------------------------------------------- secrets


def strings(value: Any, *, skip_secrets: bool) -> Iterator[str]:
    """Every string in a value, recursively; with `skip_secrets`, not those inside secret wrappers."""
    if is_secret(value):
        if not skip_secrets:
            yield from strings(value["value"], skip_secrets=skip_secrets)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v, skip_secrets=skip_secrets)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, skip_secrets=skip_secrets)
    elif isinstance(value, str):
        yield value


def leaks(run: ProgramRun, secret: str) -> list[str]:
    found = [f"output {name}" for name, value in run.outputs.items() if secret in repr(value)]
    for res in run.resources:
        for key, value in res.raw_inputs.items():
            if any(secret in s for s in strings(value, skip_secrets=True)):
                found.append(f"{res.type} {res.name} input {key}")
    return found


def carried(run: ProgramRun, secret: str) -> list[str]:
    return [
        f"{res.type} {res.name}"
        for res in run.resources
        if any(secret in s for s in strings(res.raw_inputs, skip_secrets=False))
    ]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_vault_token_never_leaks(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    assert carried(run, TEST_VAULT_TOKEN), "the search must see the token where it is used"
    assert leaks(run, TEST_VAULT_TOKEN) == []


def test_the_license_never_leaks(runs: dict[str, ProgramRun]) -> None:
    run = runs["enterprise"]
    assert carried(run, LICENSE) == ["kubernetes:helm.sh/v3:Release gloo"]
    assert leaks(run, LICENSE) == []


def test_the_token_from_the_environment_never_leaks() -> None:
    run = run_program(secrets={}, env={"VAULT_TOKEN": "hvs.env-token-abc"})
    assert carried(run, "hvs.env-token-abc")
    assert leaks(run, "hvs.env-token-abc") == []


def test_preview_does_not_leak_either(preview: ProgramRun) -> None:
    assert carried(preview, TEST_VAULT_TOKEN)
    assert leaks(preview, TEST_VAULT_TOKEN) == []


# ---------------------------------------------------------------------------- conventions


def provider_urn(res: Registered) -> str:
    return res.provider.rsplit("::", 1)[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_component_type_tokens_follow_the_pattern(runs: dict[str, ProgramRun], variant: str) -> None:
    components = [r for r in runs[variant].resources if not r.custom]
    assert components
    for res in components:
        assert COMPONENT_TYPE.match(res.type), res.type


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_resource_belongs_to_a_layer_component(runs: dict[str, ProgramRun], variant: str) -> None:
    """Every managed resource sits under a `gloo-vault-irsa:<layer>:<Name>` component.

    The aws and vault providers are shared by several layers and live at the stack's root.
    """
    run = runs[variant]
    for res in run.resources:
        if not res.custom:
            continue
        if res.type in ("pulumi:providers:aws", "pulumi:providers:vault"):
            assert list(run.ancestors(res)) == [], res.type
            continue
        assert any(COMPONENT_TYPE.match(a.type) for a in run.ancestors(res)), (res.type, res.name)


@pytest.mark.parametrize("variant", VARIANTS)
def test_resources_use_the_explicit_providers(runs: dict[str, ProgramRun], variant: str) -> None:
    """One aws and one vault provider; a Kubernetes provider per cluster, which only that cluster's
    resources use (`<name>-cluster` serves `<name>-...`)."""
    run = runs[variant]
    aws = run.one("pulumi:providers:aws", "aws")
    vault = run.one("pulumi:providers:vault")
    k8s = {p.urn: p for p in run.of_type("pulumi:providers:kubernetes")}
    assert k8s and all(run.by_urn(p.parent).type == "gloo-vault-irsa:cluster:EksOidcCluster" for p in k8s.values())
    expected = {"aws:": aws.urn, "vault:": vault.urn}
    for res in run.resources:
        if not res.custom or res.type.startswith("pulumi:providers:"):
            continue
        if res.type.startswith("kubernetes:"):
            cluster = k8s[provider_urn(res)]
            assert res.name.startswith(cluster.name.removesuffix("cluster")), (res.name, cluster.name)
            continue
        [prefix] = [p for p in expected if res.type.startswith(p)]
        assert provider_urn(res) == expected[prefix], (res.type, res.name, res.provider)
    for token, _, provider in run.invokes:
        assert provider.rsplit("::", 1)[0] == aws.urn, token
    providers = [r for r in run.resources if r.type.startswith("pulumi:providers:")]
    clusters = len(VARIANTS[variant][0].get("clusters") or {"default": {}})
    assert sorted(p.type for p in providers) == [
        "pulumi:providers:aws",
        *["pulumi:providers:kubernetes"] * clusters,
        "pulumi:providers:vault",
    ]
    assert not any("default" in p.name for p in providers)


# ---------------------------------------------------------------------------- preview


def test_preview_registers_what_an_update_registers(run: ProgramRun, preview: ProgramRun) -> None:
    def shape(r: ProgramRun) -> set[tuple[str, str, str]]:
        return {(res.type, res.name, res.parent) for res in r.resources}

    assert len(preview.resources) == len(run.resources)
    assert shape(preview) == shape(run)


def test_preview_leaves_computed_outputs_unknown(run: ProgramRun, preview: ProgramRun) -> None:
    computed = {
        "oidcProviderArn",
        "glooRoleArn",
        "glooRoleName",
        "glooRoleUniqueId",
        "vaultAwsIdentityArn",
        "vaultRoleName",
        "loginCheck",  # the Job's auto-name and status
    }
    assert set(preview.outputs) == OUTPUTS
    for name in computed:
        assert preview.outputs[name] is None, name
    for name in OUTPUTS - computed - {"clusters"}:
        assert preview.outputs[name] == run.outputs[name], name


def test_the_program_collects_young_objects_rarely(run: ProgramRun) -> None:
    """README, "Scale": the collector rescanning the graph's live futures took half of the
    evaluation of 100 clusters at CPython's default thresholds (700, 10, 10)."""
    del run  # the program has run in this process
    assert gc.get_threshold()[0] >= 100_000


SA = "kubernetes:core/v1:ServiceAccount"
ROLE_ARN = "eks.amazonaws.com/role-arn"
REGIONAL = "eks.amazonaws.com/sts-regional-endpoints"


@pytest.mark.parametrize("variant", ["dev", "enterprise", "external-role"])
def test_every_service_account_with_a_role_signs_for_its_region(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    values = gloo_values(run)
    root = values["gloo"] if variant == "enterprise" else values
    assert root["gloo"]["serviceAccount"]["extraAnnotations"] == {
        ROLE_ARN: run.outputs["glooRoleArn"],
        REGIONAL: "true",
    }
    for sa in run.of_type(SA):
        assert sa.inputs["metadata"]["annotations"][REGIONAL] == "true"


SECRETS = {"vaultToken": "hvs.test"}
KEYS = tuple(FLEET)


@pytest.fixture(scope="module")
def fleet_run() -> ProgramRun:
    return run_program(fleet(), secrets=SECRETS)


def cluster_resources(run: ProgramRun, key: str) -> list[Registered]:
    """The custom resources one cluster owns: named `<key>-...`, or its Vault role `gloo-<key>`."""
    return [r for r in run.resources if r.custom and (r.name.startswith(f"{key}-") or r.name == f"gloo-{key}")]


def test_each_entry_becomes_a_cluster_the_stack_serves() -> None:
    settings = parse({k: json.dumps(v) if isinstance(v, dict) else v for k, v in fleet().items()})
    assert [(t.key, t.cluster_name, t.stack_ref, t.named("gloo")) for t in settings.cluster.targets] == [
        ("east-a", "edge-east-a", None, "east-a-gloo"),
        ("east-b", None, EKS_STACK, "east-b-gloo"),
    ]


def test_without_clusters_the_one_cluster_keeps_its_names() -> None:
    [target] = parse({"clusterName": "edge"}).cluster.targets
    assert (target.key, target.output_key, target.named("gloo")) == (None, "default", "gloo")


def test_each_gloo_role_trusts_only_its_own_clusters_issuer(fleet_run: ProgramRun) -> None:
    issuers = {"east-a": cluster_issuer_url("edge-east-a"), "east-b": EKS_ISSUER_URL}
    assert len(set(issuers.values())) == 2
    for key, issuer in issuers.items():
        role = fleet_run.one(IAM_ROLE, f"{key}-gloo")
        [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        host = issuer.removeprefix("https://")
        assert statement["Principal"] == {"Federated": oidc_provider_arn(issuer)}
        assert statement["Condition"] == {
            "StringEquals": {
                f"{host}:aud": "sts.amazonaws.com",
                f"{host}:sub": ["system:serviceaccount:gloo-system:gloo"],
            }
        }
        assert fleet_run.outputs["clusters"][key]["oidcIssuerUrl"] == issuer


def test_each_clusters_vault_role_binds_only_its_own_gloo_role(fleet_run: ProgramRun) -> None:
    roles = {r.name: r for r in fleet_run.of_type(VAULT_AWS_ROLE)}
    assert set(roles) == {f"gloo-{key}" for key in KEYS}
    for key in KEYS:
        out = fleet_run.outputs["clusters"][key]
        vault_role = roles[f"gloo-{key}"].inputs
        assert vault_role["boundIamPrincipalArns"] == [out["glooRoleArn"]]
        assert vault_role["role"] == out["vaultRoleName"] == out["glooRoleName"]
        assert roles[f"gloo-{key}"].options["replacementTrigger"] == out["glooRoleUniqueId"]
    shared = {json.dumps(r.inputs["tokenPolicies"]) + r.inputs["backend"] for r in roles.values()}
    assert len(shared) == 1  # one mount, one policy


def test_each_release_logs_in_with_its_own_role_on_its_own_cluster(fleet_run: ProgramRun) -> None:
    for key in KEYS:
        out = fleet_run.outputs["clusters"][key]
        release = fleet_run.one(HELM_RELEASE, f"{key}-gloo")
        values = release.inputs["values"]
        [vault] = [s["vault"] for s in values["settings"]["secretOptions"]["sources"] if "vault" in s]
        assert vault["aws"]["vaultRole"] == out["vaultRoleName"]
        assert values["gloo"]["serviceAccount"]["extraAnnotations"]["eks.amazonaws.com/role-arn"] == out["glooRoleArn"]
        assert fleet_run.provider_of(release).name == f"{key}-cluster"


def test_vaults_identity_may_resolve_every_gloo_role_and_nothing_else(fleet_run: ProgramRun) -> None:
    [grant] = fleet_run.of_type(IAM_ROLE_POLICY)
    [statement] = json.loads(grant.inputs["policy"])["Statement"]
    assert statement["Action"] == "iam:GetRole"
    assert statement["Resource"] == sorted(fleet_run.outputs["clusters"][key]["glooRoleArn"] for key in KEYS)


def test_no_cluster_waits_for_another(fleet_run: ProgramRun) -> None:
    """Each cluster's chain runs beside the others: nothing of one depends on anything of another."""
    for key in KEYS:
        others = {r.urn for other in KEYS if other != key for r in cluster_resources(fleet_run, other)}
        for res in cluster_resources(fleet_run, key):
            assert not any(fleet_run.depends_on(res, fleet_run.by_urn(urn)) for urn in others), res.name


def test_every_cluster_gets_its_own_oidc_provider(fleet_run: ProgramRun) -> None:
    """east-a's is created from its EKS issuer; east-b's comes from its stack (not created here)."""
    [provider] = fleet_run.of_type(OIDC_PROVIDER)
    assert (provider.name, provider.inputs["url"]) == ("east-a-cluster", cluster_issuer_url("edge-east-a"))


def shape(res: Registered) -> tuple[str, str]:
    return res.urn, json.dumps(res.inputs, sort_keys=True)


@pytest.mark.parametrize("key", KEYS)
def test_removing_a_cluster_changes_nothing_of_the_others_but_the_shared_grant(fleet_run: ProgramRun, key: str) -> None:
    [kept] = [k for k in KEYS if k != key]
    smaller = run_program(fleet({kept: FLEET[kept]}), secrets=SECRETS)
    before = {r.urn: shape(r) for r in fleet_run.resources if r.custom}
    after = {r.urn: shape(r) for r in smaller.resources if r.custom}
    assert set(before) - set(after) == {r.urn for r in cluster_resources(fleet_run, key)}
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


def test_a_preview_of_several_clusters_registers_what_the_update_does(fleet_run: ProgramRun) -> None:
    """Nothing is created inside an `apply`: the pull request's preview shows every cluster's resources."""
    preview = run_program(fleet(), secrets=SECRETS, preview=True)
    assert sorted((r.type, r.name, r.parent) for r in preview.resources) == sorted(
        (r.type, r.name, r.parent) for r in fleet_run.resources
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


PROD = stack_config("prod")


@pytest.fixture(scope="module")
def prod(runs: dict[str, ProgramRun]) -> ProgramRun:
    return runs["prod"]


def gloo_vault_source(run: ProgramRun) -> dict[str, Any]:
    values = run.one(HELM_RELEASE, "gloo").inputs["values"]
    gloo = values["gloo"] if "license_key" in values else values
    source: dict[str, Any] = gloo["settings"]["secretOptions"]["sources"][0]["vault"]
    return source


def test_prod_is_production_by_key_and_by_name(prod: ProgramRun) -> None:
    assert PROD["environment"] == "production"
    settings = parse(PROD, secrets={"vaultToken": "t", "glooLicenseKey": "l"})
    assert settings.production and settings.vault.topology == "external"


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


def test_without_a_ca_the_provider_and_gloo_use_the_system_trust(runs: dict[str, ProgramRun]) -> None:
    run = runs["external-role"]
    assert "caCertFile" not in run.one(VAULT_PROVIDER).inputs
    assert "tlsConfig" not in gloo_vault_source(run)


def test_a_ca_for_an_https_port_forward_to_the_in_cluster_vault_is_used() -> None:
    run = run_program(
        {**dev_config(), "vaultProviderAddress": "https://127.0.0.1:8200", "vaultCaCert": PROD["vaultCaCert"]}
    )
    assert Path(run.one(VAULT_PROVIDER).inputs["caCertFile"]).read_text() == PROD["vaultCaCert"]


README_ROW = re.compile(
    r"^\| `(?P<name>\w+)` \| (?P<type>\w+) \| (?P<secret>yes|no) \| (?P<scope>\*(?:also )?each cluster\*)?",
    re.MULTILINE,
)


PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
}


OPTIONAL = {"vaultCaCert"}


"""Outputs that may be empty (the README says what empty means)."""


def _rows() -> list[re.Match[str]]:
    readme = (ROOT / "docs" / "outputs.md").read_text()
    section = readme[readme.index("## Stack outputs") : readme.index("## A consumer")]
    return list(README_ROW.finditer(section))


def documented() -> dict[str, tuple[str, bool]]:
    """The README's contract table: output → (type, secret)."""
    return {m["name"]: (m["type"], m["secret"] == "yes") for m in _rows()}


def per_cluster() -> set[str]:
    """The outputs of each cluster: at the top with one cluster, under `clusters` with several."""
    return {m["name"] for m in _rows() if m["scope"] == "*each cluster*"}


def top_level(variant: str) -> set[str]:
    """The outputs documented at the top level of a variant's stack: each cluster's only for one
    cluster, `clusters` only for several."""
    several = "clusters" in VARIANTS[variant][0]
    return set(documented()) - (per_cluster() if several else {"clusters"})


def test_the_readme_documents_a_contract() -> None:
    contract = documented()
    assert len(contract) >= 20 and {"glooRoleArn", "glooRootKey", "vaultKvPath"} <= set(contract)
    assert {t for t, _ in contract.values()} <= set(PYTHON_TYPES)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_exactly_the_documented_outputs(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    assert set(run.outputs) == top_level(variant)
    if "clusters" in VARIANTS[variant][0]:
        assert run.outputs["clusters"] and all(set(c) == per_cluster() for c in run.outputs["clusters"].values())


def test_the_per_cluster_rows_are_marked() -> None:
    each = per_cluster()
    assert {"clusterName", "glooRoleArn", "vaultRoleName", "loginCheck"} <= each
    # What every cluster's Gloo shares is the stack's, exported once at the top.
    assert not ({"glooNamespace", "glooReleaseName", "glooChartVersion"} & each) and "clusters" in documented()


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_output_has_its_documented_type_and_secrecy(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    contract = documented()
    for name in top_level(variant):
        kind, secret = contract[name]
        value = run.outputs[name]
        assert isinstance(value, PYTHON_TYPES[kind]), (name, value)
        assert (name in run.secret_outputs) is secret, name
        assert value != "" or name in OPTIONAL, name
    for cluster in run.outputs.get("clusters", {}).values():
        for name, value in cluster.items():
            assert isinstance(value, PYTHON_TYPES[contract[name][0]]) and value != "", (name, value)


def test_optional_outputs_are_set_where_their_config_is(runs: dict[str, ProgramRun]) -> None:
    assert runs["prod"].outputs["vaultCaCert"].startswith("-----BEGIN CERTIFICATE-----")
    assert runs["dev"].outputs["vaultCaCert"] == ""


IMPORT_ID_FORMATS = {
    # The `## Import` section of each resource's docs in the pinned provider SDKs.
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        r'"arn:aws:iam::\$\{ACCOUNT_ID\}:oidc-provider/\$\{OIDC_PROVIDER\}"'
    ),
    "aws:iam/role:Role": r'"\$\{VAULT_AUTH_ROLE_NAME\}"',
    "vault:index/authBackend:AuthBackend": r"aws",
    "vault:index/mount:Mount": r"dev",
    "vault:index/policy:Policy": r"dev",
    "vault:aws/authBackendClient:AuthBackendClient": r"auth/aws/config/client",
    "vault:aws/authBackendRole:AuthBackendRole": r'"auth/aws/role/\$\{VAULT_AUTH_ROLE_NAME\}"',
    "kubernetes:helm.sh/v3:Release": r"gloo-system/gloo",
}


def _readme_imports() -> list[list[str]]:
    readme = (ROOT / "docs" / "adoption.md").read_text()
    return [shlex.split(line, posix=False) for line in readme.splitlines() if line.startswith("pulumi import ")]


def _real_urn(urn: str) -> str:
    """The mock runtime names top-level resources under the stack's type; the engine does not."""
    return urn.replace("pulumi:pulumi:Stack$", "")


def _flag(words: list[str], flag: str) -> str:
    value = words[words.index(flag) + 1].strip("'\"")
    return value.split("=", 1)[1]


def test_readmes_import_commands_name_the_programs_resources() -> None:
    run = run_program()  # Pulumi.dev.yaml: the commands are for stack dev
    commands = _readme_imports()
    assert {words[2] for words in commands} == set(IMPORT_ID_FORMATS)
    for words in commands:
        type_, name, id_ = words[2], words[3], words[4]
        assert re.fullmatch(IMPORT_ID_FORMATS[type_], id_), (type_, id_)
        [res] = [r for r in run.resources if (r.type, r.name) == (type_, name)]
        assert _flag(words, "--parent") == _real_urn(res.parent), type_
        assert _flag(words, "--provider") == _real_urn(run.provider_of(res).urn), type_
        assert words[-1] == "--protect=false"  # the program's own protect settings decide

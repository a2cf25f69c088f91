"""The whole program on the real Pulumi.dev.yaml: outputs contract, secrets, conventions, preview."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import (
    ISSUER_URL,
    LICENSE,
    TEST_VAULT_TOKEN,
    VARIANTS,
    ProgramRun,
    Registered,
    is_secret,
    mock_physical_name,
    mock_role_arn,
    mock_role_unique_id,
    oidc_provider_arn,
    run_program,
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
    "clusters",
}
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
CLUSTER_ENTRY = EACH_CLUSTER | {"glooNamespace", "glooReleaseName", "glooChartVersion"}


def test_outputs_are_the_contract(run: ProgramRun) -> None:
    assert set(run.outputs) == OUTPUTS
    single = {name: run.outputs[name] for name in CLUSTER_ENTRY}
    assert {k: v for k, v in run.outputs.items() if k != "clusters"} == {
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
    assert run.outputs["clusters"] == {"default": single}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_the_same_contract(runs: dict[str, ProgramRun], variant: str) -> None:
    outputs = runs[variant].outputs
    several = "clusters" in VARIANTS[variant][0]
    assert set(outputs) == (OUTPUTS - EACH_CLUSTER if several else OUTPUTS)
    assert all(value is not None and value != "" for name, value in outputs.items() if name != "vaultCaCert"), outputs
    for name, cluster in outputs["clusters"].items():
        assert set(cluster) == CLUSTER_ENTRY, name
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

"""Cluster from another stack (`clusterStackRef`): the cluster's name, kubeconfig and OIDC provider
read through a `pulumi.StackReference` (mocked: the mocks answer the read with the other stack's
outputs, in a preview as in an update), instead of `clusterName` and AWS lookups.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tests.harness import (
    CLUSTER_FROM_STACK,
    EKS_CLUSTER,
    EKS_ISSUER_URL,
    EKS_KUBECONFIG,
    EKS_OUTPUTS,
    EKS_STACK,
    GET_CLUSTER,
    GET_CLUSTER_AUTH,
    HELM_RELEASE,
    IAM_ROLE,
    OIDC_PROVIDER,
    STACK_REFERENCE,
    VAULT_PROVIDER,
    GuideMocks,
    OtherStack,
    ProgramRun,
    Registered,
    assert_names_key,
    dev_config,
    oidc_provider_arn,
    parse,
    run_program,
    run_program_failure,
)

VAULT_SERVER = "arn:aws:iam::123456789012:role/vault-server"
EXTERNAL = {
    "vaultTopology": "external",
    "vaultAddress": "https://vault.example.com:8200",
    "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault",
}


def config(**overrides: Any) -> dict[str, Any]:
    """Pulumi.dev.yaml with the cluster taken from the EKS stack instead of `clusterName`."""
    base = {k: v for k, v in dev_config().items() if k != "clusterName"}
    return {**base, **CLUSTER_FROM_STACK, **overrides}


def eks_stack(
    outputs: Mapping[str, Any] = EKS_OUTPUTS, secret: frozenset[str] = frozenset({"kubeconfig"})
) -> Callable[[bool], GuideMocks]:
    """Mocks in which `acme/eks/prod` exports `outputs`."""
    return lambda preview: GuideMocks(preview, {EKS_STACK: OtherStack(outputs, secret)})


@pytest.fixture(scope="module")
def external() -> ProgramRun:
    return run_program(config(**EXTERNAL), mocks=eks_stack())


@pytest.fixture(scope="module")
def in_cluster() -> ProgramRun:
    return run_program(config(), mocks=eks_stack())


def reference(run: ProgramRun) -> Registered:
    [read] = [r for r in run.reads if r.type == STACK_REFERENCE]
    return read


def invoked(run: ProgramRun, token: str) -> list[dict[str, Any]]:
    return [args for t, args, _ in run.invokes if t == token]


def trusted_providers(run: ProgramRun) -> set[str]:
    return {
        s["Principal"]["Federated"]
        for role in run.of_type(IAM_ROLE)
        for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        if "Federated" in s.get("Principal", {})
    }


# ---------------------------------------------------------------------------- the cluster from its stack


def test_the_cluster_stack_is_read_by_its_name(external: ProgramRun) -> None:
    assert reference(external).inputs["name"] == EKS_STACK


def test_the_oidc_provider_and_issuer_come_from_the_stack_with_no_aws_lookup(external: ProgramRun) -> None:
    assert invoked(external, GET_CLUSTER) == []  # neither the issuer nor a kubeconfig is looked up
    assert external.of_type(OIDC_PROVIDER) == []  # the cluster's stack owns its provider
    assert trusted_providers(external) == {oidc_provider_arn(EKS_ISSUER_URL)}
    host = EKS_ISSUER_URL.removeprefix("https://")
    trust = json.loads(external.one(IAM_ROLE, "gloo").inputs["assumeRolePolicy"])
    assert set(trust["Statement"][0]["Condition"]["StringEquals"]) == {f"{host}:aud", f"{host}:sub"}
    assert external.outputs["oidcIssuerUrl"] == EKS_ISSUER_URL
    assert external.outputs["oidcIssuer"] == host
    assert external.outputs["oidcProviderArn"] == oidc_provider_arn(EKS_ISSUER_URL)
    assert external.outputs["clusterName"] == EKS_CLUSTER


def test_the_kubeconfig_comes_from_the_stack_and_stays_secret(external: ProgramRun) -> None:
    k8s = external.one("pulumi:providers:kubernetes")
    assert json.loads(k8s.inputs["kubeconfig"]) == EKS_KUBECONFIG
    assert k8s.secret("kubeconfig")


def test_a_kubeconfig_exported_in_plain_text_is_kept_secret_here() -> None:
    plain = {**EKS_OUTPUTS, "kubeconfig": json.dumps(EKS_KUBECONFIG)}
    run = run_program(config(**EXTERNAL), mocks=eks_stack(plain, secret=frozenset()))
    k8s = run.one("pulumi:providers:kubernetes")
    assert json.loads(k8s.inputs["kubeconfig"]) == EKS_KUBECONFIG
    assert k8s.secret("kubeconfig")
    assert "kubeconfig" not in run.outputs and not any("eks-stack-secret" in repr(v) for v in run.outputs.values())


def test_the_cluster_name_tags_the_roles(external: ProgramRun) -> None:
    assert external.one(IAM_ROLE, "gloo").inputs["tags"]["eks-cluster"] == EKS_CLUSTER


def test_a_context_inside_the_stacks_kubeconfig_can_be_chosen() -> None:
    run = run_program(config(**EXTERNAL, kubeContext="admin@edge-prod"), mocks=eks_stack())
    assert run.one("pulumi:providers:kubernetes").inputs["context"] == "admin@edge-prod"


def test_outputs_under_other_names_are_read() -> None:
    renamed = {
        "eksName": EKS_CLUSTER,
        "issuer": EKS_ISSUER_URL,
        "oidcArn": oidc_provider_arn(EKS_ISSUER_URL),
        "kc": EKS_KUBECONFIG,
    }
    names = {"clusterName": "eksName", "oidcIssuerUrl": "issuer", "oidcProviderArn": "oidcArn", "kubeconfig": "kc"}
    overrides = {"clusterStackOutputs": json.dumps(names)}
    run = run_program(config(**EXTERNAL, **overrides), mocks=eks_stack(renamed, frozenset({"kc"})))
    assert run.outputs["clusterName"] == EKS_CLUSTER and run.outputs["oidcProviderArn"] == oidc_provider_arn(
        EKS_ISSUER_URL
    )


# ---------------------------------------------------------------------------- only the cluster's name


def test_with_only_the_name_the_issuer_is_looked_up_and_the_provider_made_here() -> None:
    run = run_program(
        config(**EXTERNAL, clusterStackOidc=False),
        mocks=eks_stack({"clusterName": EKS_CLUSTER, "kubeconfig": EKS_KUBECONFIG}),
    )
    assert invoked(run, GET_CLUSTER) == [{"name": EKS_CLUSTER}]
    [provider] = run.of_type(OIDC_PROVIDER)
    assert provider.inputs["tags"] == {"eks-cluster": EKS_CLUSTER}
    assert (
        run.outputs["oidcProviderArn"]
        == trusted_providers(run).pop()
        == provider.inputs["url"].replace("https://", "arn:aws:iam::123456789012:oidc-provider/")
    )
    assert json.loads(run.one("pulumi:providers:kubernetes").inputs["kubeconfig"]) == EKS_KUBECONFIG


def test_the_in_cluster_vaults_service_proxy_finds_the_cluster_by_the_stacks_name(in_cluster: ProgramRun) -> None:
    assert invoked(in_cluster, GET_CLUSTER) == [{"name": EKS_CLUSTER}]  # endpoint and CA, for the proxy only
    assert invoked(in_cluster, GET_CLUSTER_AUTH) == [{"name": EKS_CLUSTER}]
    assert in_cluster.of_type(OIDC_PROVIDER) == []


# ---------------------------------------------------------------------------- nothing before the check


def test_every_provider_waits_for_the_cluster_stack(external: ProgramRun, in_cluster: ProgramRun) -> None:
    """A missing output must stop the program before anything is created: every provider's
    inputs wait for the outputs' check, and every resource waits for its provider."""
    for run in (external, in_cluster):
        ref = reference(run).urn
        for provider in [r for r in run.resources if r.type.startswith("pulumi:providers:")]:
            waited = set(provider.dependencies) | {u for us in provider.property_dependencies.values() for u in us}
            direct = ref in waited
            via_release = any(run.by_urn(u).type == HELM_RELEASE for u in waited if u != ref)
            assert direct or (provider.type == VAULT_PROVIDER and via_release), (provider.type, waited)


MISSING = [
    ("clusterName", "clusterStackOutputs.clusterName"),
    ("kubeconfig", "clusterStackOutputs.kubeconfig"),
    ("oidcProviderArn", "clusterStackOutputs.oidcProviderArn"),
    ("oidcIssuerUrl", "clusterStackOutputs.oidcIssuerUrl"),
]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(("output", "key"), MISSING, ids=[m[0] for m in MISSING])
def test_a_missing_output_stops_the_program_naming_the_key_before_anything_is_created(
    output: str, key: str, preview: bool
) -> None:
    lacking = {k: v for k, v in EKS_OUTPUTS.items() if k != output}
    failed = run_program_failure(config(**EXTERNAL), mocks=eks_stack(lacking), preview=preview)
    assert_names_key(failed.error, key)
    assert repr(output) in str(failed.error) and EKS_STACK in str(failed.error)
    assert [(r.type, r.name) for r in failed.resources if r.custom] == []


def test_the_same_account_check_waits_for_the_cluster_stack_too() -> None:
    """`vaultAwsPrincipalArn` asks AWS who the caller is before anything is registered, through the
    AWS provider, which waits for the outputs' check: the missing output is still what stops it."""
    same_account = {**EXTERNAL, "vaultCrossAccountPrincipalArn": None, "vaultAwsPrincipalArn": VAULT_SERVER}
    overrides = {k: v for k, v in same_account.items() if v is not None}
    lacking = {k: v for k, v in EKS_OUTPUTS.items() if k != "oidcIssuerUrl"}
    failed = run_program_failure(config(**overrides), mocks=eks_stack(lacking))
    assert_names_key(failed.error, "clusterStackOutputs.oidcIssuerUrl")
    assert [(r.type, r.name) for r in failed.resources if r.custom] == []
    assert run_program(config(**overrides), mocks=eks_stack()).outputs["vaultAwsIdentityArn"] == VAULT_SERVER


def test_an_empty_output_counts_as_missing() -> None:
    failed = run_program_failure(config(**EXTERNAL), mocks=eks_stack({**EKS_OUTPUTS, "clusterName": ""}))
    assert_names_key(failed.error, "clusterStackOutputs.clusterName")


def test_an_output_of_the_wrong_type_is_refused() -> None:
    failed = run_program_failure(config(**EXTERNAL), mocks=eks_stack({**EKS_OUTPUTS, "oidcProviderArn": ["arn"]}))
    assert_names_key(failed.error, "clusterStackOutputs.oidcProviderArn")
    assert "a string (got a list)" in str(failed.error)


def test_with_only_the_name_no_oidc_output_is_asked_for() -> None:
    run = run_program(
        config(**EXTERNAL, clusterStackOidc=False), mocks=eks_stack({"clusterName": EKS_CLUSTER, "kubeconfig": "{}"})
    )
    assert run.outputs["clusterName"] == EKS_CLUSTER


def test_the_preview_sees_what_the_update_registers(external: ProgramRun) -> None:
    preview = run_program(config(**EXTERNAL), mocks=eks_stack(), preview=True)
    assert {(r.type, r.name) for r in preview.resources} == {(r.type, r.name) for r in external.resources}
    assert preview.outputs["clusterName"] == EKS_CLUSTER  # the other stack's outputs are known in a preview


# ---------------------------------------------------------------------------- config


def test_without_a_reference_the_cluster_name_is_still_required() -> None:
    with pytest.raises(Exception) as raised:
        parse({k: v for k, v in dev_config().items() if k != "clusterName"})
    assert_names_key(raised.value, "clusterName")


@pytest.mark.parametrize(
    ("key", "overrides"),
    [
        ("clusterName", {"clusterName": "edge-prod"}),
        ("kubeconfig", {}),
        ("adoptOidcProvider", {"adoptOidcProvider": "true"}),
        ("adoptOidcProvider", {"adoptOidcProvider": "true", "clusterStackOidc": "false"}),
        ("clusterStackRef", {"clusterStackRef": "acme/eks/prod/extra"}),
        ("clusterStackRef", {"clusterStackRef": "acme eks"}),
        ("clusterStackOutputs.kubeconfig", {"clusterStackOutputs": '{"kubeconfig": "kube config"}'}),
        ("clusterStackOutputs.kubeConfig", {"clusterStackOutputs": '{"kubeConfig": "kc"}'}),
        ("clusterStackOutputs", {"clusterStackOutputs": '"kc"'}),
        ("clusterStackOidc", {"clusterStackOidc": "sometimes"}),
    ],
)
def test_config_that_contradicts_the_reference_is_refused(key: str, overrides: dict[str, str]) -> None:
    base = {k: v for k, v in config().items() if isinstance(v, str)}
    secrets = {"vaultToken": "hvs.test", **({"kubeconfig": "/home/ops/.kube/edge"} if key == "kubeconfig" else {})}
    with pytest.raises(Exception) as raised:
        parse({**base, **overrides}, secrets=secrets)
    assert_names_key(raised.value, key)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("clusterStackClusterNameOutput", "clusterStackOutputs.clusterName"),
        ("clusterStackOidcProviderArnOutput", "clusterStackOutputs.oidcProviderArn"),
        ("clusterStackOidcIssuerUrlOutput", "clusterStackOutputs.oidcIssuerUrl"),
        ("clusterStackKubeconfigOutput", "clusterStackOutputs.kubeconfig"),
    ],
)
def test_a_stack_file_with_an_output_name_key_that_went_is_told_its_replacement(old: str, new: str) -> None:
    """The four output-name keys became one map: a stack file that still sets one stops in one line
    naming the field that replaced it, before anything is registered."""
    failed = run_program_failure({**config(**EXTERNAL), old: "kc"}, mocks=eks_stack())
    assert_names_key(failed.error, old)
    assert f"replaced by {new}" in str(failed.error)
    assert [(r.type, r.name) for r in failed.resources if r.custom] == []


def test_outputs_left_out_of_the_map_keep_their_own_names() -> None:
    run = run_program(
        config(**EXTERNAL, clusterStackOutputs=json.dumps({"kubeconfig": "kc"})),
        mocks=eks_stack({**{k: v for k, v in EKS_OUTPUTS.items() if k != "kubeconfig"}, "kc": EKS_KUBECONFIG}),
    )
    assert run.outputs["clusterName"] == EKS_CLUSTER

"""The real graph of every config variant (tests/harness.py, with the real Pulumi.dev.yaml and
the other topologies) passes every policy, and the policies see what they check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import guardrails
from guardrails import StackContext
from guardrails.gloo_values import gloo_releases, gloo_role_arns
from guardrails.trust import web_identity_subjects
from tests.harness import BOUNDARY_ARN, ROLE_PATH, VARIANTS, ProgramRun, run_program
from tests.policy_pack.engine import (
    DEV,
    ENGINE_UNKNOWN,
    PROD,
    all_violations,
    pack_violations,
    props,
    replace,
    stack_resources,
    vault_source,
)
from tests.test_consumer import consumer


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_real_graph_passes_every_policy(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all_violations(runs[variant], DEV) == {
        **{p.name: [] for p in guardrails.RESOURCE_POLICIES},
        **{p.name: [] for p in guardrails.STACK_POLICIES},
    }


def test_the_preview_graph_passes_every_policy(preview: ProgramRun) -> None:
    assert any(ENGINE_UNKNOWN in json.dumps(props(r)) for r in preview.resources), "the preview has unknowns"
    assert all(v == [] for v in all_violations(preview, DEV).values())


def test_the_clusters_preview_passes_every_policy() -> None:
    """Several clusters in a preview of a new stack: roles, ARNs and issuers not known yet."""
    config, secrets = VARIANTS["clusters"]
    run = run_program(config, secrets=secrets, preview=True)
    assert any(ENGINE_UNKNOWN in json.dumps(props(r)) for r in run.resources), "the preview has unknowns"
    assert all(v == [] for v in all_violations(run, DEV).values())


@pytest.mark.parametrize("variant", ["external-role", "cross-account"])
def test_an_external_vault_over_https_passes_in_production(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all(v == [] for v in all_violations(runs[variant], PROD).values())


def test_organisation_iam_passes_in_production_and_the_pack_sees_it(runs: dict[str, ProgramRun]) -> None:
    """A path, a permissions boundary, a session limit and default tags on every role (what
    organisations require) leave every policy satisfied, in production too; the roles the pack
    checked carry them."""
    run = runs["org-iam-cross-account"]
    assert all(v == [] for v in all_violations(run, PROD).values())
    roles = [props(r) for r in run.of_type(guardrails.ROLE)]
    assert len(roles) == 2
    assert all(r["path"] == ROLE_PATH and r["permissionsBoundary"] == BOUNDARY_ARN for r in roles)
    pathed = [r for r in stack_resources(run) if r.type == guardrails.ROLE]
    assert all(f":role{ROLE_PATH}" in r.props["arn"] for r in pathed)


def test_the_production_stack_passes_as_production(runs: dict[str, ProgramRun]) -> None:
    """Pulumi.prod.yaml's graph, as the pack sees it in stack `prod` (environment production), and
    the production rules are live on it: its Gloo sent over plain http is refused."""
    run = runs["prod"]
    context = StackContext("prod", "production")
    assert all(v == [] for v in all_violations(run, context).values())

    def plain_http(p: dict[str, Any]) -> None:
        vault_source(p["values"])["address"] = "http://vault.platform.example.com:8200"

    refused = pack_violations(replace(stack_resources(run), guardrails.HELM_RELEASE, plain_http), context)
    assert [v for v in refused if v.startswith("gloo-vault-tls-in-production:")], refused


def test_the_policies_see_what_they_check(run: ProgramRun) -> None:
    """Guards against passing by looking at nothing: each checked type is in the graph, named as the
    checks expect."""
    types = {r.type for r in run.resources}
    assert {
        guardrails.ROLE,
        "aws:iam/rolePolicy:RolePolicy",
        guardrails.HELM_RELEASE,
        guardrails.VAULT_PROVIDER,
        guardrails.VAULT_AWS_ROLE,
        guardrails.VAULT_AWS_CLIENT,
        guardrails.VAULT_AUTH_BACKEND,
        guardrails.VAULT_MOUNT,
    } <= types
    role = props(run.one(guardrails.VAULT_AWS_ROLE))
    assert {"authType", "boundIamPrincipalArns", "tokenMaxTtl"} <= set(role)
    assert "assumeRolePolicy" in props(run.one(guardrails.ROLE, "gloo"))
    assert {"iamServerIdHeaderValue", "stsRegion", "backend"} <= set(props(run.one(guardrails.VAULT_AWS_CLIENT)))


K8S_PROVIDER = "pulumi:providers:kubernetes"
GLOO_SA = "system:serviceaccount:gloo-system:gloo"
DISCOVERY_SA = "system:serviceaccount:gloo-system:discovery"


@pytest.fixture(scope="module")
def discovery_runs(runs: dict[str, ProgramRun]) -> dict[str, ProgramRun]:
    """Every variant with discovery on (`glooServiceAccounts: [gloo, discovery]`), and the dev
    stack on a chart line that still enables discovery by default (before 1.20)."""
    found = {
        f"{name}+discovery": run_program({**config, "glooServiceAccounts": ["gloo", "discovery"]}, secrets=secrets)
        for name, (config, secrets) in VARIANTS.items()
    }
    config, secrets = VARIANTS["dev"]
    found["dev+chart-1.19"] = run_program({**config, "glooChartVersion": "1.19.20"}, secrets=secrets)
    return found


def assert_gloo_roles_seen(run: ProgramRun, subjects: set[str]) -> None:
    """Per cluster: each Gloo release is on its cluster's own Kubernetes provider (`<cluster>-cluster`,
    `cluster` for a stack of one), and the one role whose ARN it annotates is in the stack, with its
    ARN and name, is that cluster's (`<cluster>-gloo`, `gloo`), and trusts exactly `subjects` as a
    web identity."""
    resources = stack_resources(run)
    releases = {release.name: release for release, _ in gloo_releases(resources)}
    assert len(releases) == len(run.of_type(K8S_PROVIDER))
    assert len({r.provider for r in releases.values()}) == len(releases), "one Gloo release per cluster"
    for name, release in releases.items():
        cluster = run.one(K8S_PROVIDER, f"{name.removesuffix('gloo')}cluster")
        assert release.provider == cluster.urn
        annotated = gloo_role_arns([release])
        roles = [r for r in resources if r.type == guardrails.ROLE and r.props.get("arn") in annotated]
        assert len(annotated) == 1
        assert [r.name for r in roles] == [name]
        assert roles[0].props["name"] in roles[0].props["arn"]
        assert web_identity_subjects(roles[0].props["assumeRolePolicy"]) == subjects


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_stack_policies_see_the_roles_gloo_is_annotated_with(runs: dict[str, ProgramRun], variant: str) -> None:
    """Guards the IRSA stack rules against passing by matching nothing, in each cluster of the
    stack. By default (Gloo 1.22, discovery off) each cluster's role trusts `gloo` alone."""
    assert_gloo_roles_seen(runs[variant], {GLOO_SA})


@pytest.mark.parametrize("variant", [*(f"{v}+discovery" for v in VARIANTS), "dev+chart-1.19"])
def test_the_stack_policies_see_the_roles_gloo_and_discovery_are_annotated_with(
    discovery_runs: dict[str, ProgramRun], variant: str
) -> None:
    """The same with discovery on: the role trusts `gloo` and `discovery`, and the stack passes."""
    run = discovery_runs[variant]
    assert_gloo_roles_seen(run, {GLOO_SA, DISCOVERY_SA})
    assert all(v == [] for v in all_violations(run, DEV).values())


@pytest.mark.parametrize(
    ("variant", "context"), [("prod", StackContext("prod", "production")), ("clusters", PROD), ("dev", DEV)]
)
def test_the_consumer_example_passes_every_policy(
    runs: dict[str, ProgramRun], variant: str, context: StackContext
) -> None:
    """examples/consumer on a stack's outputs: its Vault provider, given the stack's address
    (https for the external Vaults, which it reaches as production; the dev stack's in-cluster
    Vault is plain http inside the cluster), and its secret pass."""
    run = consumer(runs[variant].outputs)
    assert run.one(guardrails.VAULT_PROVIDER)
    assert all(v == [] for v in all_violations(run, context).values())

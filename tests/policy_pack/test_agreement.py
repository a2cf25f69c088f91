"""`gloo-vault-agreement` (guardrails/agreement.py): Gloo's values and the Vault resources of the
real stacks agree; a stack with one side changed fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import guardrails
from tests.harness import ProgramRun, mock_role_arn
from tests.policy_pack.engine import DEV, ENGINE_UNKNOWN, gloo_root, only, replace, stack_resources, vault_source


def gloo_aws(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda p: change(vault_source(p["values"])["aws"])


OTHER_ROLE = mock_role_arn("someone-else")

STACK_BREAKS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    (
        "header-mismatch",
        guardrails.VAULT_AWS_CLIENT,
        lambda p: p.update(iamServerIdHeaderValue="vault.other.example.com"),
        "iamServerIdHeader 'vault.gloo.example.com' differs",
    ),
    (
        "gloo-header-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(iamServerIdHeader="vault.typo.example.com")),
        "iamServerIdHeader 'vault.typo.example.com' differs",
    ),
    (
        "mount-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(mountPath="aws-eks")),
        "mountPath 'aws-eks' is not the aws auth mount",
    ),
    (
        "backend-moved",
        guardrails.VAULT_AUTH_BACKEND,
        lambda p: p.update(path="aws2"),
        "mountPath 'aws' is not the aws auth mount of this stack ('aws2')",
    ),
    (
        "region-mismatch",
        guardrails.VAULT_AWS_CLIENT,
        lambda p: p.update(stsRegion="eu-west-1"),
        "region 'us-east-1' differs from the aws auth client's sts_region 'eu-west-1'",
    ),
    (
        "gloo-region-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(region="us-west-2")),
        "region 'us-west-2' differs",
    ),
    (
        "kv-mismatch",
        guardrails.VAULT_MOUNT,
        lambda p: p.update(path="secrets"),
        "pathPrefix 'dev' is not a kv mount of this stack ('secrets')",
    ),
    (
        "gloo-kv-mismatch",
        guardrails.HELM_RELEASE,
        lambda p: vault_source(p["values"]).update(pathPrefix="prod"),
        "pathPrefix 'prod' is not a kv mount",
    ),
    (
        "vault-role-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(vaultRole="gloo")),
        "vaultRole 'gloo' is not an aws auth role on that mount",
    ),
    (
        "annotation-not-bound",
        guardrails.VAULT_AWS_ROLE,
        lambda p: p.update(boundIamPrincipalArns=[OTHER_ROLE]),
        "is not bound by the Vault role",
    ),
    (
        "gloo-annotation-other-role",
        guardrails.HELM_RELEASE,
        lambda p: gloo_root(p["values"])["gloo"]["serviceAccount"]["extraAnnotations"].update(
            {"eks.amazonaws.com/role-arn": OTHER_ROLE}
        ),
        f"the IRSA role {OTHER_ROLE!r} annotated on Gloo's service accounts is not bound",
    ),
]


@pytest.mark.parametrize(("case", "type_", "change", "fragment"), STACK_BREAKS, ids=[c[0] for c in STACK_BREAKS])
@pytest.mark.parametrize("variant", ["dev", "enterprise"])
def test_gloo_and_vault_disagreeing_is_refused(
    runs: dict[str, ProgramRun],
    variant: str,
    case: str,
    type_: str,
    change: Callable[[dict[str, Any]], None],
    fragment: str,
) -> None:
    resources = stack_resources(runs[variant])
    assert guardrails.check_stack(resources, DEV) == []
    only(guardrails.check_stack(replace(resources, type_, change), DEV), fragment)


def test_unknown_sides_are_not_compared(preview: ProgramRun, run: ProgramRun) -> None:
    resources = stack_resources(preview)
    gloo = next(r for r in resources if r.name == "gloo" and r.type == guardrails.HELM_RELEASE)
    assert gloo.props["values"] == ENGINE_UNKNOWN
    assert guardrails.check_stack(resources, DEV) == []
    # Known Gloo values against a client whose header is not known yet: nothing to compare.
    unknown_header = replace(
        stack_resources(run), guardrails.VAULT_AWS_CLIENT, lambda p: p.update(iamServerIdHeaderValue=ENGINE_UNKNOWN)
    )
    assert guardrails.check_stack(unknown_header, DEV) == []


def test_a_gloo_release_without_vault_resources_in_the_stack_is_not_compared(run: ProgramRun) -> None:
    only_gloo = [r for r in stack_resources(run) if r.type == guardrails.HELM_RELEASE]
    assert guardrails.check_stack(only_gloo, DEV) == []


# ---------------------------------------------------------------------------- per cluster (clusters)


def test_each_clusters_gloo_logs_in_as_its_own_vault_role(runs: dict[str, ProgramRun]) -> None:
    """Per release: its vaultRole is the Vault role bound to the role it annotates. east-b's Gloo
    naming east-a's Vault role (bound to east-a's Gloo role alone) is refused."""
    resources = stack_resources(runs["clusters"])
    assert guardrails.check_stack(resources, DEV) == []
    east_a_role = next(r for r in resources if r.type == guardrails.VAULT_AWS_ROLE and r.name == "gloo-east-a")
    east_b_arn = next(r.props["arn"] for r in resources if r.type == guardrails.ROLE and r.name == "east-b-gloo")
    crossed = replace(
        resources,
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(vaultRole=east_a_role.props["role"])),
        name="east-b-gloo",
    )
    only(
        guardrails.check_stack(crossed, DEV),
        f"Gloo release 'east-b-gloo': the IRSA role {east_b_arn!r} annotated on Gloo's service accounts is not "
        "bound by the Vault role",
    )

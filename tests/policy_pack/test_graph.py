"""The real graph of every config variant (tests/harness.py, with the real Pulumi.dev.yaml and
the other topologies) passes every policy, and the policies see what they check.
"""

from __future__ import annotations

import json

import pytest

import guardrails
from tests.harness import VARIANTS, ProgramRun
from tests.policy_pack.engine import DEV, ENGINE_UNKNOWN, PROD, all_violations, props


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_real_graph_passes_every_policy(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all_violations(runs[variant], DEV) == {
        **{p.name: [] for p in guardrails.RESOURCE_POLICIES},
        **{p.name: [] for p in guardrails.STACK_POLICIES},
    }


def test_the_preview_graph_passes_every_policy(preview: ProgramRun) -> None:
    assert any(ENGINE_UNKNOWN in json.dumps(props(r)) for r in preview.resources), "the preview has unknowns"
    assert all(v == [] for v in all_violations(preview, DEV).values())


@pytest.mark.parametrize("variant", ["external-role", "cross-account"])
def test_an_external_vault_over_https_passes_in_production(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all(v == [] for v in all_violations(runs[variant], PROD).values())


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

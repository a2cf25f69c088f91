"""components/destroy_guard.py: a production destroy meets the protected guard before any other resource."""

from __future__ import annotations

import pytest

from tests.harness import (
    VARIANT_STACKS,
    VARIANTS,
    ProgramRun,
)

DESTROY_GUARD = "gloo-vault-irsa:stack:DestroyGuard"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_production_destroy_meets_the_protected_guard_before_any_other_resource(
    runs: dict[str, ProgramRun], name: str
) -> None:
    """The engine deletes dependents first: a protected guard that depends on every resource but the
    providers is the first a destroy deletes, and refuses (tests/engines/test_cli_stacks.py runs it:
    with `--skip-preview` a destroy of production deleted nine resources before this guard existed)."""
    run = runs[name]
    guards = run.of_type(DESTROY_GUARD)
    import guardrails  # policy-pack/: production as the pack rules it

    if not guardrails.is_production(VARIANT_STACKS.get(name, "dev"), VARIANTS[name][0].get("environment")):
        assert guards == []
        return
    [guard] = guards
    assert guard.options["protect"] is True
    deletable = {r.urn for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")}
    assert deletable - {r.urn for r in run.resources if r.type == "pulumi:pulumi:StackReference"} <= set(
        guard.dependencies
    )
    assert not any(guard.urn in r.dependencies for r in run.resources)

"""The program's graph as the Pulumi engine shows it to the policy pack, and the helpers every
policy-pack test uses: inputs by their camelCase names, secrets unwrapped, values not known in
a preview as the engine's unknown sentinel.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi.output import Unknown

import guardrails
from guardrails import StackContext, StackResource
from tests.harness import ProgramRun, Registered

DEV = StackContext("dev")
PROD = StackContext("prod")
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # what the engine sends for an unknown value
Doc = dict[str, Any]  # an IAM policy document, parsed


def engine_view(value: Any) -> Any:
    """A harness input as the engine sends it to a policy pack: unknowns become the sentinel."""
    if isinstance(value, Unknown):
        return ENGINE_UNKNOWN
    if isinstance(value, dict):
        return {k: engine_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_view(v) for v in value]
    return value


def props(res: Registered) -> dict[str, Any]:
    view: dict[str, Any] = engine_view(res.inputs)
    return view


def stack_resources(run: ProgramRun) -> list[StackResource]:
    return [StackResource(r.type, r.name, props(r)) for r in run.resources if r.custom]


def all_violations(run: ProgramRun, context: StackContext) -> dict[str, list[str]]:
    """Every policy over every resource: {policy name: messages}."""
    found: dict[str, list[str]] = {}
    for policy in guardrails.RESOURCE_POLICIES:
        for res in run.resources:
            if res.custom:
                found.setdefault(policy.name, []).extend(policy.check(res.type, props(res), context))
    for stack_policy in guardrails.STACK_POLICIES:
        found[stack_policy.name] = stack_policy.check(stack_resources(run), context)
    return found


def real(run: ProgramRun, type_: str, name: str) -> dict[str, Any]:
    """A deep copy of a real resource's properties, to break."""
    return copy.deepcopy(props(run.one(type_, name)))


def only(violations: list[str], fragment: str) -> None:
    """The violations include one that says `fragment`."""
    assert violations, f"expected a violation mentioning {fragment!r}, got none"
    assert any(fragment in v for v in violations), (fragment, violations)

"""The program's graph as the Pulumi engine shows it to the policy pack, and the helpers every
policy-pack test uses: inputs by their camelCase names, secrets unwrapped, values not known in
a preview as the engine's unknown sentinel. A resource policy gets a resource's inputs; a stack
policy gets each resource's outputs (the engine's AnalyzeStack runs on the final state), here
the outputs the harness's mocks give it (a role's `arn` and `name`, a release's `status`), and
its provider's and its parent's URNs (which cluster a Kubernetes resource is in, which component
made it).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.output import Unknown

import guardrails
from guardrails import StackContext, StackResource
from tests.harness import GuideMocks, ProgramRun, Registered

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


def is_preview(run: ProgramRun) -> bool:
    """A run some of whose inputs are unknown is a preview: an update knows every value."""
    return any(ENGINE_UNKNOWN in json.dumps(props(r)) for r in run.resources)


def outputs(res: Registered, preview: bool) -> dict[str, Any]:
    """The resource's outputs as the harness's mocks compute them (in a preview: its inputs)."""
    args = pulumi.runtime.MockResourceArgs(res.type, res.name, res.inputs, custom=res.custom)
    _, state = GuideMocks(preview).new_resource(args)
    view: dict[str, Any] = engine_view(state)
    return view


def provider_urn(res: Registered) -> str | None:
    """The URN of the resource's provider, as the engine hands it to a policy (the harness records
    the provider reference, `<urn>::<id>`)."""
    return res.provider.rsplit("::", 1)[0] if res.provider else None


def stack_resources(run: ProgramRun) -> list[StackResource]:
    """The stack as a stack policy sees it: every custom resource with its outputs, provider and parent."""
    preview = is_preview(run)
    return [
        StackResource(r.type, r.name, outputs(r, preview), provider_urn(r), r.urn, r.parent or None)
        for r in run.resources
        if r.custom
    ]


def with_props(
    resources: Sequence[StackResource], type_: str, name: str, change: dict[str, Any]
) -> list[StackResource]:
    """The stack with resource `type_` `name`'s properties updated by `change`."""
    return [r._replace(props={**r.props, **change}) if r.type == type_ and r.name == name else r for r in resources]


Resources = list[StackResource]


def replace(
    resources: Resources, type_: str, change: Callable[[dict[str, Any]], None], *, name: str | None = None
) -> Resources:
    """The resources with the one of `type_` (named `name`; a Helm release: `gloo` by default)
    changed (on a copy)."""
    if name is None and type_ == guardrails.HELM_RELEASE:
        name = "gloo"
    out: Resources = []
    found = 0
    for r in resources:
        if r.type == type_ and name in (None, r.name):
            p = copy.deepcopy(dict(r.props))
            change(p)
            r = r._replace(props=p)
            found += 1
        out.append(r)
    assert found == 1, (type_, found)
    return out


def gloo_root(values: dict[str, Any]) -> dict[str, Any]:
    """Gloo's settings: the values themselves (OSS), or under `gloo` (Enterprise)."""
    root: dict[str, Any] = values["gloo"] if "license_key" in values else values
    return root


def vault_source(values: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = gloo_root(values)["settings"]["secretOptions"]["sources"][0]["vault"]
    return source


def pack_violations(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Every policy of the pack over `resources`, each resource policy on each resource and each
    stack policy on them all: `<policy>: <message>` per violation. (The outputs stand in for the
    inputs a resource policy gets: the mocks' outputs are the inputs plus what AWS computes.)"""
    found = [
        f"{policy.name}: {message}"
        for res in resources
        for policy in guardrails.RESOURCE_POLICIES
        for message in policy.check(res.type, res.props, context)
    ]
    return found + [
        f"{p.name}: {message}" for p in guardrails.STACK_POLICIES for message in p.check(resources, context)
    ]


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


def refused_when_changed(run: ProgramRun, type_: str, name: str, change: dict[str, Any], fragment: str) -> None:
    """The run's stack with resource `type_` `name` changed by `change` fails the pack, saying `fragment`."""
    only(pack_violations(with_props(stack_resources(run), type_, name, change), DEV), fragment)


def only(violations: list[str], fragment: str) -> None:
    """The violations include one that says `fragment`."""
    assert violations, f"expected a violation mentioning {fragment!r}, got none"
    assert any(fragment in v for v in violations), (fragment, violations)

"""The checks of the `guardrails` package wrapped as Pulumi policies; `__main__.py` serves them as the pack.

The wrappers turn the engine's properties into plain values (`plain`) and read the stack's name
and `environment` key; every rule itself lives in `guardrails/`.
"""

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

import guardrails

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The project this pack ships in (`policy-pack/` is one of its folders): where its stack files are."""


def plain(value: Any) -> Any:
    """The engine's properties as plain dicts and lists, with `guardrails.UNKNOWN` where a value is
    not known yet (reading one through pulumi_policy's proxy raises UnknownValueError)."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = guardrails.UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(guardrails.UNKNOWN)
        return items
    return guardrails.UNKNOWN if guardrails.is_unknown(value) else value


def stack_context() -> guardrails.StackContext:
    """The stack's name and `environment` key, which the CLI hands the policy process, and the
    keys its stack file sets in plain text."""
    context = guardrails.StackContext(
        stack=pulumi.get_stack() or "", environment=pulumi.Config(guardrails.PROJECT).get("environment")
    )
    return guardrails.StackContext(
        context.stack, context.environment, stack_file_plaintext_keys(PROJECT_DIR, context.stack_file)
    )


@functools.cache
def stack_file_plaintext_keys(project_dir: Path, stack_file: str) -> frozenset[str]:
    """What the stack's file beside this pack sets in plain text: the CLI hands the policy process
    every config value decrypted, without saying which were secrets (guardrails/secrets.py). None
    when the folder above the pack is not this project (a pack published to an organisation).
    Read once per policy process (every policy of every resource asks)."""
    try:
        manifest = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
        if not isinstance(manifest, Mapping) or manifest.get("name") != guardrails.PROJECT:
            return frozenset()
        folder = project_dir / str(manifest.get("stackConfigDir") or ".")
        return guardrails.plaintext_keys((folder / stack_file).read_text())
    except (OSError, yaml.YAMLError):
        return frozenset()


def resource_policy(policy: guardrails.ResourcePolicy) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in policy.check(args.resource_type, plain(args.props), stack_context()):
            report_violation(message, None)

    return ResourceValidationPolicy(name=policy.name, description=policy.description, validate=validate)


def stack_resource(resource: PolicyResource) -> guardrails.StackResource:
    """A resource as the stack checks take it: its outputs, its provider's URN and its parent's
    (the engine resolves the parent to a resource when it is in the stack, else gives its URN)."""
    parent = resource.parent.urn if resource.parent is not None else resource.opts.parent
    return guardrails.StackResource(
        resource.resource_type,
        resource.name,
        plain(resource.props),
        resource.provider.urn if resource.provider else None,
        resource.urn,
        parent or None,
    )


def stack_policy(policy: guardrails.StackPolicy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [stack_resource(r) for r in args.resources]
        for message in policy.check(resources, stack_context()):
            report_violation(message, None)

    return StackValidationPolicy(name=policy.name, description=policy.description, validate=validate)


def policies() -> list[Policy]:
    """Every check of `guardrails`, as the policy the CLI runs."""
    resource: list[Policy] = [resource_policy(p) for p in guardrails.RESOURCE_POLICIES]
    stack: list[Policy] = [stack_policy(p) for p in guardrails.STACK_POLICIES]
    return resource + stack

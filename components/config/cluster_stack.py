"""The cluster from the stack that owns it (`clusterStackRef`): its outputs, read through a
`pulumi.StackReference`, instead of `clusterName` and AWS lookups.

A referenced stack that lacks an output stops the program with one line naming the key (and the
output it names). The check runs when the reference's outputs arrive, which is after the
program has started registering; so every provider waits for it (`ClusterStack.gate`): no
provider is created, and so no AWS, Kubernetes or Vault resource is touched, before every output
is known to be there. A preview reads the referenced stack's outputs as an update does, so the
pull request's preview already fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

from components.config.checks import ConfigError
from components.settings import ClusterTarget, Settings

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterStack:
    """What the cluster's own stack gives this program, each output checked to be there."""

    stack: str
    """The referenced stack (config `clusterStackRef`)."""
    cluster_name: pulumi.Output[str]
    """The EKS cluster's name (`clusterStackOutputs.clusterName`)."""
    kubeconfig: pulumi.Output[str]
    """Its kubeconfig, always secret here (`clusterStackOutputs.kubeconfig`; an object output as JSON)."""
    oidc_provider_arn: pulumi.Output[str] | None
    """Its IAM OIDC provider (`clusterStackOutputs.oidcProviderArn`); None: made here (`clusterStackOidc` false)."""
    oidc_issuer_url: pulumi.Output[str] | None
    """Its OIDC issuer URL (`clusterStackOutputs.oidcIssuerUrl`); None: looked up here."""
    gate: pulumi.Output[bool]
    """Known once every output above is there; fails with the missing one's ConfigError otherwise."""


def read_cluster_stack(
    settings: Settings, target: ClusterTarget, parent: pulumi.Resource | None = None
) -> ClusterStack | None:
    """The cluster's stack's outputs, when the cluster comes from a stack (`clusterStackRef`)."""
    if target.stack_ref is None:
        return None
    stack = target.stack_ref
    ref = pulumi.StackReference(
        target.named("cluster-stack"), stack_name=stack, opts=pulumi.ResourceOptions(parent=parent)
    )
    names = settings.cluster.stack_outputs
    wanted = (
        "clusterName",
        "kubeconfig",
        *(("oidcProviderArn", "oidcIssuerUrl") if settings.cluster.stack_oidc else ()),
    )
    found = {field: _required_output(ref, stack, field, names[field]) for field in wanted}
    gate = pulumi.Output.unsecret(pulumi.Output.all(**found).apply(lambda _: True))
    return ClusterStack(
        stack=stack,
        cluster_name=found["clusterName"],
        kubeconfig=pulumi.Output.secret(found["kubeconfig"]),
        oidc_provider_arn=found.get("oidcProviderArn"),
        oidc_issuer_url=found.get("oidcIssuerUrl"),
        gate=gate,
    )


def _required_output(ref: pulumi.StackReference, stack: str, field: str, name: str) -> pulumi.Output[str]:
    """The output `name` of the referenced stack (its own secrecy kept), or the ConfigError that
    names `clusterStackOutputs.<field>`; a kubeconfig exported as an object (as pulumi-eks does) is
    taken as its JSON."""
    key = f"clusterStackOutputs.{field}"

    def present(value: Any) -> str:
        if value is None or value == "":
            raise ConfigError(
                key,
                f"an output {name!r} of stack {stack}, which exports none by that name: "
                f"export it there, or set {key} to the name it has",
            )
        if isinstance(value, Mapping) and field == "kubeconfig":
            return json.dumps(value)
        if not isinstance(value, str):
            raise ConfigError(key, f"output {name!r} of stack {stack} to be a string (got a {type(value).__name__})")
        return value

    return ref.get_output(name).apply(present)


def all_gates(stacks: list[ClusterStack | None]) -> pulumi.Output[bool] | None:
    """One gate for every cluster stack: known once each of them is (None: no cluster stack)."""
    gates = {str(i): s.gate for i, s in enumerate(stacks) if s is not None}
    if not gates:
        return None
    if len(gates) == 1:
        [gate] = gates.values()
        return gate
    return pulumi.Output.all(**gates).apply(lambda _: True)


def after(gate: pulumi.Output[bool] | None, value: pulumi.Input[T]) -> pulumi.Input[T]:
    """`value`, known only once `gate` is (when there is one): what a provider's input waits on."""
    if gate is None:
        return value
    return pulumi.Output.all(gate=gate, value=value).apply(lambda a: a["value"])

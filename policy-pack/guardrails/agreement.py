"""`gloo-vault-agreement` (a stack policy): Gloo's Helm values and the Vault resources of the
same stack agree, so that Gloo's login and reads are the ones Vault was configured to accept.

Each side is compared only when it is known (not during a preview before it exists) and
present in the stack (an external Vault configured elsewhere is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .common import (
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    StackContext,
    StackResource,
    as_list,
    known,
    mount_path,
)
from .gloo_values import GLOO_SERVICE_ACCOUNTS, annotated_role, gloo_releases, vault_sources

_SOURCE = "settings.secretOptions.sources[].vault"


@dataclass(frozen=True)
class _VaultSide:
    """The Vault resources of the stack that Gloo's values must match."""

    backends: list[StackResource]
    clients: list[StackResource]
    roles: list[StackResource]
    mounts: list[StackResource]

    @classmethod
    def of(cls, resources: Sequence[StackResource]) -> _VaultSide:
        return cls(
            backends=[r for r in resources if r.type == VAULT_AUTH_BACKEND and r.props.get("type") == "aws"],
            clients=[r for r in resources if r.type == VAULT_AWS_CLIENT],
            roles=[r for r in resources if r.type == VAULT_AWS_ROLE],
            mounts=[r for r in resources if r.type == VAULT_MOUNT and r.props.get("type") in ("kv", "kv-v2")],
        )


def check_stack(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Gloo's Vault settings agree with the Vault resources of the same stack.

    For every Helm release whose values configure a Vault secret source with aws auth:
    `iamServerIdHeader` equals the aws auth client's `iam_server_id_header_value`, `mountPath`
    is the aws auth backend's path, `region` is the client's `sts_region`, `pathPrefix` is a kv
    mount's path, `vaultRole` is an aws auth role on that mount, and the IRSA role ARN annotated
    on Gloo's service accounts is among that role's bound ARNs. A side that is unknown (preview)
    or absent from the stack (Vault configured elsewhere) is not compared.
    """
    vault = _VaultSide.of(resources)
    violations: list[str] = []
    for release, root in gloo_releases(resources):
        annotated = [a for a in (annotated_role(root, sa) for sa in GLOO_SERVICE_ACCOUNTS) if known(a)]
        for source in vault_sources(root):
            violations += _check_source(f"Gloo release {release.name!r}", source, annotated, vault)
    return violations


def _on_mount(items: list[StackResource], key: str, mount: str | None) -> list[StackResource]:
    """The items whose `key` (backend path) is `mount`; items whose backend is unknown match too."""
    return [r for r in items if mount is None or mount_path(r.props.get(key)) in (mount, None)]


def _check_source(where: str, source: Mapping[str, Any], annotated: list[Any], vault: _VaultSide) -> list[str]:
    violations: list[str] = []
    aws = source.get("aws")
    if isinstance(aws, Mapping):
        mount = mount_path(aws.get("mountPath"))
        violations += _not_a_mount(where, "aws.mountPath", mount, vault.backends, "the aws auth mount", "authMountPath")
        candidates = _on_mount(vault.clients, "backend", mount)
        if len(candidates) == 1:
            violations += _check_client(where, aws, candidates[0])
        violations += _check_role(where, aws, mount, annotated, vault.roles)
    path_prefix = mount_path(source.get("pathPrefix"))
    return violations + _not_a_mount(where, "pathPrefix", path_prefix, vault.mounts, "a kv mount", "kvPath")


def _not_a_mount(
    where: str, field: str, value: str | None, mounts: list[StackResource], what: str, key: str
) -> list[str]:
    """Gloo's `field` names none of the stack's `mounts` (when both sides are known)."""
    paths = [p for p in (mount_path(m.props.get("path")) for m in mounts) if p is not None]
    if value is None or not paths or value in paths:
        return []
    return [
        f"{where}: {_SOURCE}.{field} {value!r} is not {what} of this stack ({', '.join(map(repr, paths))}); "
        f"set {key} once so both use it"
    ]


def _check_client(where: str, aws: Mapping[str, Any], client: StackResource) -> list[str]:
    """Gloo signs with the header and region the aws auth client verifies."""
    violations: list[str] = []
    header, want_header = aws.get("iamServerIdHeader"), client.props.get("iamServerIdHeaderValue")
    if known(header) and known(want_header) and header != want_header:
        violations.append(
            f"{where}: {_SOURCE}.aws.iamServerIdHeader {header!r} differs from the aws auth client's "
            f"iam_server_id_header_value {want_header!r}; Vault refuses the login: set iamServerIdHeader "
            "once so both use it"
        )
    region, want_region = aws.get("region"), client.props.get("stsRegion")
    if known(region) and known(want_region) and region != want_region:
        violations.append(
            f"{where}: {_SOURCE}.aws.region {region!r} differs from the aws auth client's sts_region "
            f"{want_region!r}; Gloo signs for one region and Vault verifies another: set region once"
        )
    return violations


def _check_role(
    where: str, aws: Mapping[str, Any], mount: str | None, annotated: list[Any], roles: list[StackResource]
) -> list[str]:
    on_mount = _on_mount(roles, "backend", mount)
    vault_role = aws.get("vaultRole")
    if known(vault_role):
        named = [r for r in on_mount if r.props.get("role") == vault_role]
        if not named and on_mount and all(known(r.props.get("role")) for r in on_mount):
            names = ", ".join(repr(r.props.get("role")) for r in on_mount)
            return [
                f"{where}: {_SOURCE}.aws.vaultRole {vault_role!r} is not an aws auth role on that mount ({names}); "
                "use the Vault role's name output"
            ]
        on_mount = named or on_mount
    if len(on_mount) != 1:
        return []
    bound = on_mount[0].props.get("boundIamPrincipalArns")
    if not known(bound) or not all(known(arn) for arn in as_list(bound)):
        return []
    return [
        f"{where}: the IRSA role {arn!r} annotated on Gloo's service accounts is not bound by the Vault role "
        f"(bound: {as_list(bound)!r}); bind the Gloo role's ARN output"
        for arn in dict.fromkeys(annotated)
        if arn not in as_list(bound)
    ]

"""`gloo-clusters-isolated` (a stack policy): each cluster's Gloo logs in as itself alone, with
its own IRSA role, trusted by its own cluster's OIDC provider, and its own Vault role.

A cluster is a Kubernetes provider: a Gloo release (or a `ServiceAccount` resource) is in the
cluster its provider reaches. A trust subject names a namespace and a service account, not a
cluster, and Gloo runs as `gloo-system:gloo` in every cluster; so an IRSA role annotated in two
clusters, an OIDC provider trusted by two clusters' roles, or a Vault role two clusters' Gloo
log in as, lets one cluster's Gloo act as another's. Where the stack makes a cluster's OIDC
provider (next to its Kubernetes provider, under one parent), the roles annotated in that
cluster trust that provider. And one EKS cluster is not two clusters of the stack: no two
Kubernetes providers reach one API server, no two IAM OIDC providers register one issuer. A value
not known yet (preview) is not compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeGuard, TypeVar
from urllib.parse import urlsplit

import yaml

from .common import (
    IRSA_ANNOTATION,
    K8S_PROVIDER,
    OIDC_PROVIDER,
    ROLE,
    StackContext,
    StackResource,
    document,
    get,
    is_unknown,
    known,
    mount_path,
)
from .gloo_values import GLOO_SERVICE_ACCOUNTS, annotated_role, gloo_releases, vault_sources
from .service_accounts import SERVICE_ACCOUNT
from .trust import trusted_issuers

Cluster = str | None
"""The URN of a Kubernetes provider: the cluster a resource is in (None: the default provider)."""
VaultRole = tuple[str, str, str]
"""A Vault aws auth role as Gloo names it: (Vault address, auth mount, role name)."""
Key = TypeVar("Key")


class _Login(NamedTuple):
    """What one resource, in one cluster, logs in with."""

    cluster: Cluster
    where: str
    role_arns: tuple[str, ...]
    vault_roles: tuple[VaultRole, ...]


def check_cluster_isolation(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Per cluster: the IRSA roles annotated there (on Gloo's service accounts, or on
    `ServiceAccount` resources) are annotated in no other cluster, trust OIDC providers no other
    cluster's roles trust, and (when the stack makes the cluster's OIDC provider) that provider
    alone; the Vault roles Gloo logs in as there are named by no other cluster's Gloo."""
    logins = _logins(resources)
    shared = _by_cluster((arn, login.cluster, login.where) for login in logins for arn in login.role_arns)
    return (
        _one_cluster_twice(resources)
        + _shared_roles(shared)
        + _shared_vault_roles(logins)
        + _check_trust(resources, logins, set(shared))
    )


def _one_cluster_twice(resources: Sequence[StackResource]) -> list[str]:
    """One EKS cluster listed twice (`clusters` with a clusterName and a clusterStackRef that name
    it, or one stack by two spellings): config sees two entries; only outputs show two Kubernetes
    providers reaching one API server, or two IAM OIDC providers registering one issuer. Gloo would
    be installed twice in one namespace, and AWS refuses a second OIDC provider for an issuer."""
    fix = "list each cluster once in `clusters` (a clusterName and a clusterStackRef may name the same one)"
    servers = _twice(
        (server, repr(p.name)) for p in resources if p.type == K8S_PROVIDER and (server := api_server(p.props))
    )
    issuers = _twice(
        (url.removeprefix("https://").rstrip("/"), repr(o.name))
        for o in resources
        if o.type == OIDC_PROVIDER and _known_str(url := o.props.get("url"))
    )
    return [
        f"Kubernetes providers {' and '.join(names)} reach one API server ({server!r}): one cluster, twice; {fix}"
        for server, names in servers.items()
    ] + [
        f"IAM OIDC providers {' and '.join(names)} register one issuer ({issuer!r}): one cluster, twice; {fix}"
        for issuer, names in issuers.items()
    ]


def _twice(entries: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """{key: the names found with it}, for the keys found more than once."""
    found: dict[str, list[str]] = {}
    for key, name in entries:
        found.setdefault(key, []).append(name)
    return {key: sorted(names) for key, names in found.items() if len(names) > 1}


def api_server(props: Mapping[str, Any]) -> str | None:
    """The API server a Kubernetes provider reaches: its kubeconfig's (given as contents, JSON or
    YAML) cluster for the provider's `context`, else the current one, normalised (scheme and host
    in lower case, the https port, no trailing slash); None when the pack cannot read it (a
    kubeconfig path, or not known yet)."""
    kubeconfig = props.get("kubeconfig")
    try:
        config = yaml.safe_load(kubeconfig) if _known_str(kubeconfig) else None
    except yaml.YAMLError:
        return None
    if not isinstance(config, Mapping):
        return None
    context_name = props.get("context") if _known_str(props.get("context")) else config.get("current-context")
    contexts = {c.get("name"): c.get("context") for c in config.get("contexts") or [] if isinstance(c, Mapping)}
    cluster_name = (
        props.get("cluster") if _known_str(props.get("cluster")) else get(contexts.get(context_name), "cluster")
    )
    clusters = [c for c in config.get("clusters") or [] if isinstance(c, Mapping)]
    named = [c for c in clusters if c.get("name") == cluster_name] or (clusters if len(clusters) == 1 else [])
    server = get(named[0], "cluster", "server") if named else None
    if not _known_str(server):
        return None
    parts = urlsplit(server.strip())
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}{parts.path.rstrip('/')}"


def _logins(resources: Sequence[StackResource]) -> list[_Login]:
    """Every Gloo release and annotated ServiceAccount, with its cluster and what it logs in as."""
    logins = []
    for release, root in gloo_releases(resources):
        arns = tuple(a for a in (annotated_role(root, sa) for sa in GLOO_SERVICE_ACCOUNTS) if _known_str(a))
        vault_roles = tuple(r for r in (_vault_role(source) for source in vault_sources(root)) if r is not None)
        logins.append(_Login(release.provider, f"Gloo release {release.name!r}", arns, vault_roles))
    for sa in resources:
        arn = get(sa.props, "metadata", "annotations", IRSA_ANNOTATION) if sa.type == SERVICE_ACCOUNT else None
        if _known_str(arn):
            logins.append(_Login(sa.provider, f"ServiceAccount {sa.name!r}", (arn,), ()))
    return logins


def _known_str(value: Any) -> TypeGuard[str]:
    """A string, set and known: an ARN or name to compare."""
    return isinstance(value, str) and known(value) and value != ""


def _vault_role(source: Mapping[str, Any]) -> VaultRole | None:
    """The Vault role a Gloo secret source logs in as; None when not named or not known yet."""
    address, mount, role = source.get("address"), get(source, "aws", "mountPath"), get(source, "aws", "vaultRole")
    if not _known_str(role) or is_unknown(mount) or is_unknown(address):
        return None
    return (address.rstrip("/") if isinstance(address, str) else "", mount_path(mount) or "", role)


def _cluster_name(cluster: Cluster) -> str:
    """A cluster as a message names it: its Kubernetes provider's name."""
    return repr(cluster.rsplit("::", 1)[-1]) if cluster else "the default provider"


def _by_cluster(entries: Iterable[tuple[Key, Cluster, str]]) -> dict[Key, dict[Cluster, list[str]]]:
    """{key: {cluster: where}} for the keys found in more than one cluster."""
    found: dict[Key, dict[Cluster, list[str]]] = {}
    for key, cluster, where in entries:
        found.setdefault(key, {}).setdefault(cluster, []).append(where)
    return {key: clusters for key, clusters in found.items() if len(clusters) > 1}


def _places(clusters: dict[Cluster, list[str]]) -> str:
    """Where, in each cluster, a shared role is used: for the message to point at each."""
    places = [f"{', '.join(dict.fromkeys(where))} on {_cluster_name(c)}" for c, where in clusters.items()]
    return "; ".join(sorted(places))


def _shared_roles(shared: dict[str, dict[Cluster, list[str]]]) -> list[str]:
    """An IRSA role annotated in two clusters: either cluster's service accounts can use it."""
    return [
        f"IRSA role {arn!r} is annotated on service accounts in {len(clusters)} clusters ({_places(clusters)}); "
        "a trust subject names a namespace and a service account, not a cluster, so each cluster's service "
        "accounts can use the others' role: give each cluster its own role (the clusters key makes "
        "'<cluster>-gloo' for each)"
        for arn, clusters in shared.items()
    ]


def _shared_vault_roles(logins: list[_Login]) -> list[str]:
    """A Vault role two clusters' Gloo log in as: checked by name, so also when Vault's roles are
    configured outside the stack (where the agreement has no bound ARNs to compare)."""
    shared = _by_cluster((role, login.cluster, login.where) for login in logins for role in login.vault_roles)
    return [
        f"Vault role {role!r} on mount {mount or 'default'!r} of {address or 'Vault'} is the one Gloo logs in as in "
        f"{len(clusters)} clusters ({_places(clusters)}); each cluster's Gloo would log in as the others' role: "
        "give each cluster's Gloo its own Vault role, bound to that cluster's IRSA role alone"
        for (address, mount, role), clusters in shared.items()
    ]


def _check_trust(resources: Sequence[StackResource], logins: list[_Login], shared: set[str]) -> list[str]:
    """No OIDC provider is trusted by roles annotated in two clusters (a role annotated in two,
    `shared`, is reported as such), and a cluster whose OIDC provider the stack makes has its
    roles trust that one."""
    issuers = _role_issuers(resources)
    own = own_issuers(resources)
    entries: list[tuple[str, Cluster, str]] = []
    violations: list[str] = []
    for login in logins:
        expected = own.get(login.cluster) if login.cluster else None
        for arn in login.role_arns:
            trusted = issuers.get(arn, [])
            entries += [(issuer, login.cluster, repr(arn)) for issuer in trusted if arn not in shared]
            wrong = [issuer for issuer in trusted if expected is not None and issuer != expected]
            if wrong:
                violations.append(
                    f"IRSA role {arn!r}, annotated by {login.where} on {_cluster_name(login.cluster)}, trusts "
                    f"{', '.join(map(repr, wrong))}, not its cluster's own OIDC provider {expected!r} (the one "
                    "this stack makes with that cluster's Kubernetes provider): that cluster's service accounts "
                    "cannot assume it, and another cluster's can: trust the cluster's own OIDC provider"
                )
    return violations + [
        f"OIDC provider {issuer!r} is trusted by IRSA roles annotated in {len(clusters)} clusters "
        f"({_places(clusters)}); a service account of that cluster named in another cluster's role can assume "
        "it: each cluster's roles trust its own cluster's OIDC provider alone"
        for issuer, clusters in _by_cluster(entries).items()
    ]


def _role_issuers(resources: Sequence[StackResource]) -> dict[str, list[str]]:
    """Each role's ARN → the OIDC issuers its trust policy names (roles not known yet: none)."""
    found: dict[str, list[str]] = {}
    for role in resources:
        arn = role.props.get("arn")
        if role.type == ROLE and _known_str(arn):
            doc, _ = document(role.props.get("assumeRolePolicy"), "assumeRolePolicy")
            found[arn] = trusted_issuers(doc) if doc is not None else []
    return found


def own_issuers(resources: Sequence[StackResource]) -> dict[str, str]:
    """Kubernetes provider URN → the issuer of the one OIDC provider the stack makes under the
    same parent (the program's cluster component); clusters without one are left out."""
    by_parent: dict[str, list[str | None]] = {}
    for oidc in resources:
        if oidc.type == OIDC_PROVIDER and oidc.parent:
            url = oidc.props.get("url")
            issuer = url.removeprefix("https://").rstrip("/") if isinstance(url, str) and known(url) else None
            by_parent.setdefault(oidc.parent, []).append(issuer)
    own: dict[str, str] = {}
    for provider in resources:
        if provider.type == K8S_PROVIDER and provider.urn and provider.parent:
            found = by_parent.get(provider.parent, [])
            if len(found) == 1 and found[0] is not None:
                own[provider.urn] = found[0]
    return own

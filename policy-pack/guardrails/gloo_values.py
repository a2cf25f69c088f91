"""Readers of the Gloo chart's values, OSS and Enterprise alike (Enterprise nests Gloo's values
under `gloo:`), for the rules that compare them with the rest of the stack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .common import HELM_TYPES, IRSA_ANNOTATION, StackResource, get, known

GLOO_SERVICE_ACCOUNTS = ("gloo", "discovery")
"""The service accounts of the Gloo chart that log in to Vault (the chart names them so)."""


def gloo_roots(values: Any) -> list[Mapping[str, Any]]:
    """The value trees holding Gloo's settings: the values themselves (OSS), `gloo` (Enterprise)."""
    roots: list[Mapping[str, Any]] = []
    for root in (values, get(values, "gloo")):
        if isinstance(root, Mapping) and "settings" in root:
            roots.append(root)
    return roots


def vault_sources(root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The `vault` entries of Gloo's secret sources."""
    sources = get(root, "settings", "secretOptions", "sources")
    if not isinstance(sources, (list, tuple)):
        return []
    return [s["vault"] for s in sources if isinstance(s, Mapping) and isinstance(s.get("vault"), Mapping)]


def annotated_role(root: Mapping[str, Any], service_account: str) -> Any:
    """The IRSA role ARN the values annotate on one of Gloo's service accounts (None: none)."""
    return get(root, service_account, "serviceAccount", "extraAnnotations", IRSA_ANNOTATION)


def gloo_releases(resources: Sequence[StackResource]) -> Iterator[tuple[StackResource, Mapping[str, Any]]]:
    """(release, Gloo's value tree) for every chart of the stack whose values configure Gloo: a
    Helm `Release`, or a v3 or v4 `Chart` whose values the pack is shown."""
    for release in resources:
        if release.type in HELM_TYPES:
            for root in gloo_roots(release.props.get("values")):
                yield release, root


def gloo_role_arns(resources: Sequence[StackResource]) -> set[str]:
    """Every known IRSA role ARN annotated on Gloo's service accounts in the stack."""
    return {
        arn
        for _, root in gloo_releases(resources)
        for sa in GLOO_SERVICE_ACCOUNTS
        if isinstance(arn := annotated_role(root, sa), str) and known(arn)
    }

"""`helm-chart-version-pinned` and `helm-releases-unique`: every Helm release installs one known
chart version, under a name and namespace of its own in its cluster.

A range or no version installs whatever the repository publishes next, unreviewed. Helm keeps
one release per namespace and name in a cluster, so a second release of the same name there
replaces the first; in another cluster (another Kubernetes provider) it is a release of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .common import HELM_CHART_V3, HELM_RELEASE, HELM_TYPES, StackContext, StackResource, is_unknown, known

_EXACT_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def check_chart_pinned(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Every Helm release pins one exact chart version (`1.15.19`), never a range (`^1.15`,
    `~1.15.0`, `>=1.15`, `1.15.x`, `*`) nor nothing (the repository's latest)."""
    if resource_type not in HELM_TYPES:
        return []
    if resource_type == HELM_CHART_V3 and "version" not in props and "chart" not in props:
        return [
            "a helm.v3.Chart shows a policy pack none of its inputs (pulumi-kubernetes registers the component "
            "without them: pulumi/pulumi-kubernetes#2144), so neither its chart nor its version can be checked; "
            "install the chart with helm.v3.Release (as this program does) or helm.v4.Chart"
        ]
    version = props.get("version")
    chart = props.get("chart")
    name = chart if isinstance(chart, str) and not is_unknown(chart) else "the chart"
    if is_unknown(version):
        return []
    if version is None or version == "":
        return [f"Helm chart {name}: set version to an exact chart version (none means the repository's latest)"]
    if not isinstance(version, str) or not _EXACT_SEMVER.match(version):
        return [f"Helm chart {name}: version {version!r} is not exact; pin one version such as 1.15.19, not a range"]
    return []


def check_unique_releases(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """No two Helm releases of the stack share a cluster, a namespace and a name (when both are
    known; a release without a namespace is in the provider's default one). The cluster is the
    release's Kubernetes provider: several clusters (`clusters`) each hold their own `gloo`."""
    seen: dict[tuple[str | None, str, str], str] = {}
    violations: list[str] = []
    for release in resources:
        name, namespace = release.props.get("name"), release.props.get("namespace")
        if release.type != HELM_RELEASE or not isinstance(name, str) or not known(name) or is_unknown(namespace):
            continue
        key = (release.provider, namespace if isinstance(namespace, str) else "", name)
        if key in seen:
            first, second = sorted((seen[key], release.name))
            violations.append(
                f"Helm releases {first!r} and {second!r} are both {name!r} in namespace "
                f"{key[1] or 'of the provider'!r} on one cluster (Kubernetes provider); Helm keeps one release per "
                "namespace and name in a cluster, so one would replace the other: give them different names or "
                "namespaces"
            )
        else:
            seen[key] = release.name
    return violations

"""`helm-chart-version-pinned`: every Helm release installs one known chart version.

A range or no version installs whatever the repository publishes next, unreviewed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import HELM_TYPES, StackContext, is_unknown

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

"""`vault-version-fixed-in-production`: a production stack's in-cluster Vault runs no version with
CVE-2025-11621 (GHSA-9g4h-h484-3578, HCSEC-2025-30: an authentication bypass in the aws auth
method this program configures), fixed in Vault Community 1.21.0 and Enterprise 1.21.0, 1.20.5,
1.19.11 and 1.16.27 (golang/vulndb#4070).

What runs is the image the chart's values pin (`server.image.tag`), else the chart's own default:
hashicorp/vault-helm 0.32.0 (2026-01-14) is the first chart whose default, 1.21.2, is fixed
(0.31.0's is 1.20.4). The pack loads only this folder, so it reads versions itself, as the
program's components/config/vault_versions.py does (a test holds them to the same answers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import HELM_TYPES, StackContext, get, is_unknown
from .production import chart_name

FIXED_COMMUNITY = (1, 21, 0)
FIXED_ENTERPRISE_LINES = {(1, 20): (1, 20, 5), (1, 19): (1, 19, 11), (1, 16): (1, 16, 27)}
FIRST_FIXED_CHART = (0, 32, 0)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def vault_version_is_vulnerable(version: str) -> bool | None:
    """Below the fix of its edition (Enterprise: `ent` in the pre-release or build part, as in
    `1.20.5-ent` or `1.20.5+ent`) and line; None for what is no version (`latest`)."""
    m = _VERSION.match(version.strip())
    if not m:
        return None
    numbers = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    suffix = (m.group(4) or "").split(".") + (m.group(5) or "").split(".")
    fix = FIXED_COMMUNITY
    if "ent" in suffix and numbers < FIXED_COMMUNITY:
        fix = FIXED_ENTERPRISE_LINES.get(numbers[:2], (1, 99, 0))  # a line without a fix: none of it is fixed
    return numbers < fix or (numbers == fix and bool(m.group(4)) and suffix[0] != "ent")


def check_vault_version(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, a release of the Vault chart runs a Vault fixed for CVE-2025-11621:
    its pinned `server.image.tag`, or without one the chart's default. A tag the pack cannot read
    (`latest`, not known yet) is refused: whether it is fixed cannot be told."""
    chart = props.get("chart")
    if resource_type not in HELM_TYPES or not context.production:
        return []
    if not isinstance(chart, str) or is_unknown(chart) or chart_name(chart) != "vault":
        return []
    where = f"production stack {context.stack!r}: the Vault chart"
    fix = "pin server.image.tag to 1.21.0 or later (Enterprise: 1.21.0, 1.20.5, 1.19.11 or 1.16.27 of its line)"
    image = get(props.get("values"), "server", "image")
    tag = get(image, "tag")
    if tag is None and not is_unknown(image):
        return _chart_default_violations(props.get("version"), where, fix)
    repository = get(image, "repository")
    named = f"{repository if isinstance(repository, str) else 'hashicorp/vault'}:{tag}"
    if is_unknown(tag) or not isinstance(tag, str) or vault_version_is_vulnerable(tag) is None:
        return [
            f"{where} runs an image whose tag the pack cannot read ({named}), so it cannot tell whether it is fixed "
            f"for CVE-2025-11621; {fix}"
        ]
    if vault_version_is_vulnerable(tag):
        return [f"{where} runs {named}, below the fix of CVE-2025-11621 (aws auth bypass); {fix}"]
    return []


def _chart_default_violations(version: Any, where: str, fix: str) -> list[str]:
    """Without an image pin the chart's own default runs: vulnerable below chart 0.32.0. A version
    not given or not known is `helm-chart-version-pinned`'s to refuse."""
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", version) if isinstance(version, str) and not is_unknown(version) else None
    if m is None or tuple(int(part) for part in m.groups()) >= FIRST_FIXED_CHART:
        return []
    return [
        f"{where} {version} runs its own default image, a Vault below the fix of CVE-2025-11621 (chart 0.32.0 "
        f"is the first whose default is fixed); {fix}, or use chart 0.32.0 or later"
    ]

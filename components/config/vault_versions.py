"""Which Vault versions carry CVE-2025-11621, and an external Vault's version read from its
`sys/health`, so that `up` and `preview` say so in one warning line.

CVE-2025-11621 (GHSA-9g4h-h484-3578, HashiCorp's HCSEC-2025-30, CVSS 8.1): Vault's aws auth
method, the one this program configures, "may be susceptible to authentication bypass if the role
of the configured bound_iam_principal_arn is the same across AWS accounts, or uses a wildcard";
fixed in Vault Community Edition 1.21.0 and Vault Enterprise 1.21.0, 1.20.5, 1.19.11 and 1.16.27
(golang/vulndb#4070, fix hashicorp/vault@8d07273d14ae: the aws auth method's cached IAM and EC2
clients are keyed by AWS account too). An Enterprise line below 1.21 without a fixed release
(1.17, 1.18) has no fix but an upgrade to a fixed line.

The program cannot choose the version of a Vault it does not run (`vaultTopology: external`),
but it can read it: `sys/health` needs no token. A Vault it cannot reach in a few seconds is no
error here (the Vault provider reports that itself); nothing is read at import time, nor
offline (`OFFLINE_ENV`).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.error
import urllib.request

import pulumi

from components.project import PROJECT
from components.settings import Settings

CVE = "CVE-2025-11621"
FIXED_COMMUNITY = (1, 21, 0)
FIXED_ENTERPRISE_LINES = {(1, 20): (1, 20, 5), (1, 19): (1, 19, 11), (1, 16): (1, 16, 27)}
"""The Enterprise lines below 1.21 with a fixed release, and that release."""
FIXED_VERSIONS = "Community 1.21.0; Enterprise 1.21.0, 1.20.5, 1.19.11 or 1.16.27"
HEALTH_TIMEOUT_SECONDS = 3.0
OFFLINE_ENV = "GLOO_VAULT_IRSA_OFFLINE"
"""`1` while the offline engine runs the program (tooling/offline.py: the review and the
tests), which reaches no network: no Vault is read then."""
# `1.21.4`, `v1.20.5`, `1.20.5+ent` (sys/health of Enterprise), `1.20.5-ent` (its image tag),
# `1.16.27+ent.hsm.fips1403`, `1.21.0-rc1` (a pre-release).
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def is_vulnerable(version: str) -> bool | None:
    """True when `version` is below the fix of its edition and line (Enterprise: `ent` in its
    pre-release or build part); None when it is no version this can read (`latest`, a digest)."""
    m = _VERSION.match(version.strip())
    if not m:
        return None
    parsed = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    pre_release, build = (m.group(4) or "").split("."), (m.group(5) or "").split(".")
    enterprise = "ent" in pre_release or "ent" in build
    prerelease = bool(m.group(4)) and pre_release[0] != "ent"
    fix = FIXED_COMMUNITY
    if enterprise and parsed < FIXED_COMMUNITY:
        line_fix = FIXED_ENTERPRISE_LINES.get(parsed[:2])
        if line_fix is None:
            return True
        fix = line_fix
    return parsed < fix or (parsed == fix and prerelease)


def health_version(address: str, ca_pem: str | None = None, timeout: float = HEALTH_TIMEOUT_SECONDS) -> str | None:
    """The `version` a Vault's unauthenticated `sys/health` reports, or None when it cannot be read.

    A sealed, standby or uninitialised Vault answers with a non-200 status and the same JSON body,
    so those are read too. An https Vault is verified with `ca_pem` (`vaultCaCert`) when given,
    else with the system's CAs."""
    url = address.rstrip("/") + "/v1/sys/health"
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem and url.startswith("https://") else None
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            body = response.read()
    except urllib.error.HTTPError as answered:
        body = answered.read()
    except (OSError, ValueError):  # unreachable, refused, TLS refused, timed out: not an error here
        return None
    try:
        version = json.loads(body).get("version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def vulnerable_vault_warning(key: str, address: str, version: str) -> str | None:
    """The one warning line for a Vault at `address` running `version`, or None when it is fixed
    (or its version cannot be read)."""
    if not is_vulnerable(version):
        return None
    return (
        f"{key}: the Vault at {address} runs {version}, below the fix of {CVE} (aws auth "
        f"authentication bypass, HCSEC-2025-30): upgrade it to {FIXED_VERSIONS} or later"
    )


def warn_if_external_vault_vulnerable(settings: Settings) -> None:
    """At `up` and `preview` of an `external` Vault: one warning line when the version its
    `sys/health` reports is below the fix (read at the address Pulumi reaches it at)."""
    if settings.vault.topology != "external" or os.environ.get(OFFLINE_ENV) == "1":
        return
    key, address = "vaultAddress", settings.vault.address
    if settings.vault.provider_address is not None:
        key, address = "vaultProviderAddress", settings.vault.provider_address
    version = health_version(address, settings.vault.ca_cert)
    warning = vulnerable_vault_warning(f"{PROJECT}:{key}", address, version) if version else None
    if warning:
        pulumi.log.warn(warning)

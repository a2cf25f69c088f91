"""`no-vault-dev-mode-in-production` and `vault-provider-tls-in-production`: what a production
stack (see `common.is_production`) may not do with Vault: run it in dev mode (in-memory, unsealed
with a root token), or send a Vault token in clear text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .common import HELM_RELEASE, VAULT_PROVIDER, StackContext, get, is_unknown


def _is_vault_chart(props: Mapping[str, Any]) -> bool:
    chart = props.get("chart")
    if not isinstance(chart, str) or is_unknown(chart):
        return False
    return chart.rstrip("/").rsplit("/", 1)[-1] == "vault"


def check_vault_dev_mode(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, no release of the Vault chart runs dev mode (`server.dev.enabled`:
    in-memory storage, unsealed with a root token).

    Fails closed: when the release's values are not known yet (a first preview) a production
    stack is refused too, since this program installs the Vault chart only in dev mode
    (`vaultTopology: in-cluster-dev`)."""
    if resource_type != HELM_RELEASE or not context.production or not _is_vault_chart(props):
        return []
    fix = "use vaultTopology: external (a production Vault) for this stack"
    values = props.get("values")
    if is_unknown(values):
        return [
            f"production stack {context.stack!r}: the Vault chart's values are not known yet, so dev mode "
            f"cannot be ruled out; {fix}"
        ]
    dev = get(values, "server", "dev", "enabled")
    if is_unknown(dev) or dev is True or (isinstance(dev, str) and dev.lower() == "true"):
        return [
            f"production stack {context.stack!r}: the Vault chart runs in dev mode (server.dev.enabled); "
            f"dev mode keeps secrets in memory and is unsealed with a root token: {fix}"
        ]
    return []


def is_local_or_in_cluster(host: str) -> bool:
    """Loopback (localhost, 127.0.0.0/8, ::1) or a cluster-internal service name (*.svc,
    *.svc.cluster.local, *.cluster.local): plain http there does not cross a network."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host.endswith((".svc", ".svc.cluster.local", ".cluster.local")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_vault_provider_tls(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, the Vault provider (which sends the Vault token) uses https, or
    plain http only to a loopback or cluster-internal address, and never skips TLS verification."""
    if resource_type != VAULT_PROVIDER or not context.production:
        return []
    violations: list[str] = []
    address = props.get("address")
    if isinstance(address, str) and not is_unknown(address):
        parts = urlsplit(address)
        host = parts.hostname or ""
        if parts.scheme.lower() == "http" and not is_local_or_in_cluster(host):
            violations.append(
                f"production stack {context.stack!r}: the Vault provider sends its token over plain http to "
                f"{host!r}; set vaultProviderAddress (or vaultAddress) to an https:// address"
            )
    skip = props.get("skipTlsVerify")
    if skip is True or (isinstance(skip, str) and skip.lower() == "true"):
        violations.append(
            f"production stack {context.stack!r}: the Vault provider skips TLS verification; remove "
            "skip_tls_verify and give it the CA (ca_cert_file)"
        )
    return violations

"""`no-vault-dev-mode-in-production`, `vault-provider-tls-in-production` and
`gloo-vault-tls-in-production`: what a production stack (see `common.is_production`) may not do
with Vault: run it in dev mode (in-memory, unsealed with a root token), or send a Vault token
(Pulumi's or Gloo's) in clear text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .common import HELM_RELEASE, HELM_TYPES, VAULT_PROVIDER, StackContext, get, is_unknown, known, truthy
from .gloo_values import gloo_roots, vault_sources


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


def plain_http_host(address: Any) -> str | None:
    """The host a plain-http `address` sends to across a network; None for https, loopback,
    cluster-internal or an address not known yet."""
    if not isinstance(address, str) or is_unknown(address):
        return None
    parts = urlsplit(address)
    host = parts.hostname or ""
    return host if parts.scheme.lower() == "http" and not is_local_or_in_cluster(host) else None


def check_vault_provider_tls(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, the Vault provider (which sends the Vault token) uses https, or
    plain http only to a loopback or cluster-internal address, and never skips TLS verification."""
    if resource_type != VAULT_PROVIDER or not context.production:
        return []
    violations: list[str] = []
    host = plain_http_host(props.get("address"))
    if host is not None:
        violations.append(
            f"production stack {context.stack!r}: the Vault provider sends its token over plain http to "
            f"{host!r}; set vaultProviderAddress (or vaultAddress) to an https:// address"
        )
    skip = props.get("skipTlsVerify")
    if known(skip) and truthy(skip):
        violations.append(
            f"production stack {context.stack!r}: the Vault provider skips TLS verification; remove "
            "skip_tls_verify and give it the CA (ca_cert_file)"
        )
    return violations


def check_gloo_vault_tls(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, Gloo (which sends its Vault token with every read) reaches each Vault
    secret source the same way: https, or plain http only to loopback or cluster-internal names,
    and never with TLS verification off (`insecure`, `tlsConfig.insecure`)."""
    if resource_type not in HELM_TYPES or not context.production:
        return []
    violations: list[str] = []
    where = f"production stack {context.stack!r}: settings.secretOptions.sources[].vault"
    for root in gloo_roots(props.get("values")):
        for source in vault_sources(root):
            host = plain_http_host(source.get("address"))
            if host is not None:
                violations.append(
                    f"{where}.address: Gloo sends its Vault token over plain http to {host!r}; set vaultAddress "
                    "to an https:// address (or a cluster-internal *.svc name)"
                )
            for flag in (get(source, "insecure"), get(source, "tlsConfig", "insecure")):
                if known(flag) and truthy(flag):
                    violations.append(
                        f"{where}: Gloo skips TLS verification of Vault (insecure); remove it and give Gloo "
                        "Vault's CA (tlsConfig.caCert)"
                    )
    return violations

"""`no-vault-dev-mode-in-production`, `vault-provider-tls-in-production` and
`gloo-vault-tls-in-production`: what a production stack (see `common.is_production`) may not do
with Vault: run it in dev mode (in-memory, unsealed with a root token), or send a Vault token
(Pulumi's or Gloo's) in clear text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .common import HELM_TYPES, VAULT_PROVIDER, StackContext, as_list, get, is_unknown, known, truthy
from .gloo_values import gloo_roots, vault_sources

_CHART_VERSION_SUFFIX = re.compile(r"-v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def chart_name(chart: str) -> str:
    """The chart a reference names, however it is given: `vault`, `hashicorp/vault`,
    `oci://registry/vault:0.29.1`, `https://…/vault-0.29.1.tgz`, `./charts/vault-0.29.1.tgz`."""
    path = urlsplit(chart).path if "://" in chart else chart
    name = path.strip().rstrip("/").rsplit("/", 1)[-1].lower().split(":", 1)[0]
    name = name.removesuffix(".tgz").removesuffix(".tar.gz")
    return _CHART_VERSION_SUFFIX.sub("", name)


def _is_vault_chart(props: Mapping[str, Any]) -> bool:
    chart = props.get("chart")
    return isinstance(chart, str) and not is_unknown(chart) and chart_name(chart) == "vault"


def check_vault_dev_mode(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, no release of the Vault chart (however the chart is given) runs dev
    mode (`server.dev.enabled`: in-memory storage, unsealed with a root token).

    Fails closed: values the pack cannot read are refused in a production stack, since this
    program installs the Vault chart only in dev mode (`vaultTopology: in-cluster-dev`): values
    not known yet (a first preview, or any part of `server.dev` unknown), and `valueYamlFiles`.
    Any truthy `enabled` counts (`1`, `"True"`), as a template's `if` reads it."""
    if resource_type not in HELM_TYPES or not context.production or not _is_vault_chart(props):
        return []
    where = f"production stack {context.stack!r}"
    fix = "use vaultTopology: external (a production Vault) for this stack"
    violations: list[str] = []
    files = props.get("valueYamlFiles")
    if is_unknown(files) or as_list(files):
        violations.append(
            f"{where}: the Vault chart takes values from valueYamlFiles, which the pack cannot read, so dev "
            f"mode cannot be ruled out; give the chart's values in `values`, or {fix}"
        )
    dev = _dev_enabled(props.get("values"))
    if dev is None:
        violations.append(
            f"{where}: the Vault chart's values are not known yet, so dev mode cannot be ruled out; {fix}"
        )
    elif dev:
        violations.append(
            f"{where}: the Vault chart runs in dev mode (server.dev.enabled); dev mode keeps secrets in memory "
            f"and is unsealed with a root token: {fix}"
        )
    return violations


def _dev_enabled(values: Any) -> bool | None:
    """`server.dev.enabled` read as a flag; None when it, or a level above it, is not known."""
    for key in ("server", "dev", "enabled"):
        if is_unknown(values):
            return None
        if not isinstance(values, Mapping):
            return False
        values = values.get(key)
    return None if is_unknown(values) else truthy(values)


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
    """In a production stack, the Vault provider (which sends the Vault token) names its address,
    https, or plain http only to a loopback or cluster-internal address, and never skips TLS
    verification. Without `address` it takes VAULT_ADDR from the environment of whoever runs
    Pulumi, which the pack cannot see and may be plain http."""
    if resource_type != VAULT_PROVIDER or not context.production:
        return []
    violations: list[str] = []
    address = props.get("address")
    scheme = urlsplit(address.strip()).scheme.lower() if isinstance(address, str) and known(address) else None
    host = plain_http_host(address)
    if host is not None:
        violations.append(
            f"production stack {context.stack!r}: the Vault provider sends its token over plain http to "
            f"{host!r}; set vaultProviderAddress (or vaultAddress) to an https:// address"
        )
    elif not is_unknown(address) and scheme not in ("https", "http"):
        violations.append(
            f"production stack {context.stack!r}: the Vault provider's address is "
            + (f"{address!r}, not an http(s) URL" if isinstance(address, str) and address.strip() else "not set")
            + ", so it takes VAULT_ADDR from the environment of whoever runs Pulumi (maybe plain http); set "
            "vaultProviderAddress (or vaultAddress) to an https:// address"
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

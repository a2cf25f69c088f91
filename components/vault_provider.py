"""How Pulumi reaches Vault: a Vault provider at a plain address, or through the EKS API server."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Sequence

import pulumi
import pulumi_vault as vault

from components.documents import VAULT_PORT, VAULT_RELEASE, service_proxy_url


def _write_ca_file(cluster_name: str, ca_data: str) -> str:
    """The Vault provider takes a CA only as a file; the cluster CA is public, so a temp file is fine."""
    pem = base64.b64decode(ca_data)
    digest = hashlib.sha256(pem).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"gloo-vault-irsa-{cluster_name}-{digest}.pem")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(pem)
    return path


def vault_provider(
    name: str,
    *,
    address: pulumi.Input[str],
    token: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
) -> vault.Provider:
    """A Vault provider at a plain address (external Vault, or a port-forward)."""
    return vault.Provider(
        name,
        address=address,
        token=pulumi.Output.secret(token),
        opts=pulumi.ResourceOptions(depends_on=list(depends_on)),
    )


def vault_provider_via_api_server(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    endpoint: pulumi.Input[str],
    ca_data: pulumi.Input[str],
    bearer_token: pulumi.Input[str],
    namespace: str,
    token: pulumi.Input[str],
    vault_release: pulumi.Resource,
) -> vault.Provider:
    """Reaches the in-cluster Vault through the API server's service proxy.

    Only holders of cluster credentials get through (the API server authenticates the bearer
    token and strips it; Vault sees only `X-Vault-Token`), and nothing is exposed: no
    LoadBalancer, no port-forward to keep alive during `pulumi up`.
    """
    address = pulumi.Output.from_input(endpoint).apply(
        lambda e: service_proxy_url(e, namespace, VAULT_RELEASE, VAULT_PORT)
    )
    ca_file = pulumi.Output.all(cluster_name=cluster_name, ca_data=ca_data).apply(
        lambda a: _write_ca_file(a["cluster_name"], a["ca_data"])
    )
    return vault.Provider(
        name,
        address=address,
        token=pulumi.Output.secret(token),
        ca_cert_file=ca_file,
        headers=[
            vault.ProviderHeaderArgs(
                name="Authorization",
                value=pulumi.Output.secret(pulumi.Output.concat("Bearer ", bearer_token)),
            )
        ],
        opts=pulumi.ResourceOptions(depends_on=[vault_release]),
    )

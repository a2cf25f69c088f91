"""How Pulumi reaches Vault: a Vault provider at a plain address, or through the EKS API server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
import os
import stat
import tempfile
from collections.abc import Sequence

import pulumi
import pulumi_vault as vault

from components.documents.vault import VAULT_PORT, VAULT_RELEASE, service_proxy_url
from components.project import HELM_TIMEOUT_SECONDS, IAM_PROPAGATION_WAITS

# pulumi-vault issues itself a child of the given token and works with that; the child lives
# `max_lease_ttl_seconds`, 20 minutes by default (the provider's docs), and a Vault call after it
# expires fails with "permission denied".
PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS = 1200


def child_token_ttl_seconds(
    helm_timeouts: Sequence[int] = (HELM_TIMEOUT_SECONDS, HELM_TIMEOUT_SECONDS),
    retry_waits: Sequence[float] = IAM_PROPAGATION_WAITS,
) -> int:
    """How long the provider's child token must live: the provider is configured before the waits
    an `up` or `destroy` can hold between it and its last Vault call. Those are a Helm release
    installed, replaced or uninstalled first (on `destroy` Gloo's is uninstalled before the Vault
    role it waits for is deleted; both releases are counted, at their timeouts), the Vault role's
    IAM-propagation retries, and the provider's own 20 minutes for everything else."""
    return sum(helm_timeouts) + math.ceil(sum(retry_waits)) + PROVIDER_DEFAULT_CHILD_TOKEN_SECONDS


def _write_ca_file(cluster_name: str, ca_data: str) -> str:
    """The cluster's CA (base64, as EKS gives it) as a file for the provider."""
    return write_pem_file(cluster_name, base64.b64decode(ca_data))


def write_pem_file(label: str, pem: bytes) -> str:
    """The Vault provider takes a CA only as a file. Anyone who could swap it could intercept the
    Vault and EKS tokens, so it lives in a directory only this user can write, and is rewritten
    atomically unless it holds exactly this CA (a planted file or link is replaced, never read)."""
    directory = _private_directory(os.path.join(tempfile.gettempdir(), f"gloo-vault-irsa-{os.geteuid()}"))
    path = os.path.join(directory, f"{label}-{hashlib.sha256(pem).hexdigest()[:12]}.pem")
    if _holds(path, pem):
        return path
    fd, staged = tempfile.mkstemp(dir=directory, suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(staged, path)  # replaces a symlink itself, never the file it points to
    return path


def _private_directory(path: str) -> str:
    """`path` as a directory of this user's that nobody else can write; refuses anything else."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise pulumi.RunError(
            f"gloo-vault-irsa: {path} must be a directory of this user's with mode 0700, to hold the cluster CA; "
            "remove it and run again"
        )
    return path


def _holds(path: str, content: bytes) -> bool:
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return False
        with open(path, "rb") as f:
            return f.read() == content
    except FileNotFoundError:
        return False


def vault_provider(
    name: str,
    *,
    address: pulumi.Input[str],
    token: pulumi.Input[str],
    token_name: str,
    ca_pem: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
    parent: pulumi.Resource | None = None,
) -> vault.Provider:
    """A Vault provider at a plain address (external Vault, or a port-forward), verifying an
    `https` Vault with `ca_pem` when given (config `vaultCaCert`), else the system's CAs."""
    return vault.Provider(
        name,
        address=address,
        token=pulumi.Output.secret(token),
        ca_cert_file=write_pem_file("vault", ca_pem.encode()) if ca_pem else None,
        opts=pulumi.ResourceOptions(depends_on=list(depends_on), parent=parent),
        max_lease_ttl_seconds=child_token_ttl_seconds(),  # the child token outlives one run
        token_name=token_name,  # the child token's name in Vault's audit log
        skip_child_token=False,
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
    token_name: str,
    vault_release: pulumi.Resource,
    parent: pulumi.Resource | None = None,
) -> vault.Provider:
    """Reaches the in-cluster Vault through the API server's service proxy.

    Only holders of cluster credentials get through (the API server authenticates the bearer
    token and strips it; Vault sees only `X-Vault-Token`), and nothing is exposed: no
    LoadBalancer, no port-forward to keep alive during `pulumi up`.
    """
    address = pulumi.Output.from_input(endpoint).apply(
        lambda e: service_proxy_url(e, namespace, VAULT_RELEASE, VAULT_PORT)
    )
    ca_file = pulumi.Output.all(cluster_name=cluster_name, ca_data=ca_data).apply(lambda a: _write_ca_file(**a))
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
        opts=pulumi.ResourceOptions(depends_on=[vault_release], parent=parent),
        max_lease_ttl_seconds=child_token_ttl_seconds(),  # the child token outlives one run
        token_name=token_name,  # the child token's name in Vault's audit log
        skip_child_token=False,
    )

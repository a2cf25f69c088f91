"""How Pulumi reaches Vault: a Vault provider at a plain address, or through the EKS API server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Sequence

import pulumi
import pulumi_vault as vault

from components.documents import VAULT_PORT, VAULT_RELEASE, service_proxy_url


def _write_ca_file(cluster_name: str, ca_data: str) -> str:
    """The Vault provider takes a CA only as a file. Anyone who could swap it could intercept the
    Vault and EKS tokens, so it lives in a directory only this user can write, and is rewritten
    atomically unless it holds exactly this CA (a planted file or link is replaced, never read)."""
    pem = base64.b64decode(ca_data)
    directory = _private_directory(os.path.join(tempfile.gettempdir(), f"gloo-vault-irsa-{os.geteuid()}"))
    path = os.path.join(directory, f"{cluster_name}-{hashlib.sha256(pem).hexdigest()[:12]}.pem")
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
        opts=pulumi.ResourceOptions(depends_on=[vault_release]),
    )

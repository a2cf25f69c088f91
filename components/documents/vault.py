"""Pure builders for the Vault layers: Gloo's policy HCL and secret paths, the in-cluster dev
Vault's Helm values and address; the one pin of the Vault image and chart.
"""

from __future__ import annotations

from typing import Any

VAULT_PORT = 8200
VAULT_RELEASE = "vault"  # fixes the Vault chart's service names: `vault` and `vault-internal`
# The one pin of the Vault image: the dev Vault's server and the login check's CLI run it, and the
# CLI the engine tests prove the check's command with (tests/engines/vaultcli) and the aws auth
# plugin they prove the logins against (tests/engines/awsauthplugin) are built from the same Vault
# version. 1.21.4: the newest release the Go module proxy serves (Vault 2.x is refused by it, so
# the tests could not prove it), and fixed for CVE-2025-11621 (components/config/vault_versions.py).
# (The chart 0.32.0's own default is 1.21.2.)
VAULT_IMAGE_REPOSITORY = "hashicorp/vault"
VAULT_IMAGE_TAG = "1.21.4"
VAULT_IMAGE = f"{VAULT_IMAGE_REPOSITORY}:{VAULT_IMAGE_TAG}"
# The container's uid/gid: the image's `vault` user, as the Vault chart runs it.
VAULT_IMAGE_USER, VAULT_IMAGE_GROUP = 100, 1000


def gloo_secret_paths(kv_path: str, root_key: str) -> tuple[str, str]:
    """(data prefix, metadata prefix) of the secrets Gloo reads and lists."""
    return f"{kv_path}/data/{root_key}", f"{kv_path}/metadata/{root_key}"


def vault_policy_hcl(kv_path: str, root_key: str, mode: str) -> str:
    """The policy Gloo's token gets.

    `least-privilege`: read data and list metadata below the root key, which is all Gloo's
    Vault secret client does. `guide`: the guide's policy, CRUDL on the whole mount plus
    `sys/mounts`, for writing secrets with Gloo's token and for the UI.
    """
    if mode == "least-privilege":
        data, metadata = gloo_secret_paths(kv_path, root_key)
        return (
            f"# Gloo reads its secrets below the root key '{root_key}' of kv-v2 mount '{kv_path}'.\n"
            f'path "{data}/*" {{\n  capabilities = ["read"]\n}}\n\n'
            f"# ...and lists them, to watch for changes.\n"
            f'path "{metadata}/*" {{\n  capabilities = ["list"]\n}}\n'
        )
    if mode == "guide":
        return (
            f"# The guide's policy: full access to the '{kv_path}' mount.\n"
            f'path "{kv_path}/*" {{\n  capabilities = ["create", "read", "update", "delete", "list"]\n}}\n\n'
            f"# Additional access for the UI.\n"
            f'path "{kv_path}/" {{\n  capabilities = ["list"]\n}}\n\n'
            f'path "sys/mounts" {{\n  capabilities = ["read", "list"]\n}}\n'
        )
    raise ValueError(f"unknown policy mode {mode!r}")


def vault_dev_helm_values(*, root_token: str, service_account: str) -> dict[str, Any]:
    """The guide's `server.dev.enabled=true`, running as a service account the program creates,
    on the one pinned Vault image (`VAULT_IMAGE`, the login check's too).

    The chart drops `server.serviceAccount.annotations` in dev mode (vault-helm `_helpers.tpl`,
    `vault.serviceAccount.annotations`), so it must not create the account itself. The service
    stays ClusterIP and the UI off: a dev Vault is never exposed outside the cluster.
    """
    return {
        "injector": {"enabled": False},
        "ui": {"enabled": False},
        "server": {
            "dev": {"enabled": True, "devRootToken": root_token},
            "image": {"repository": VAULT_IMAGE_REPOSITORY, "tag": VAULT_IMAGE_TAG},
            "service": {"type": "ClusterIP"},
            "serviceAccount": {"create": False, "name": service_account},
        },
    }


def in_cluster_vault_address(namespace: str) -> str:
    """What Gloo uses to reach the in-cluster Vault: the chart's headless service, as in the guide."""
    return f"http://{VAULT_RELEASE}-internal.{namespace}:{VAULT_PORT}"


def service_proxy_url(endpoint: str, namespace: str, service: str, port: int) -> str:
    """The API server's proxy to a ClusterIP service: reachable with cluster credentials only."""
    return f"{endpoint.rstrip('/')}/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy"


VAULT_CHART = ("vault", "https://helm.releases.hashicorp.com")

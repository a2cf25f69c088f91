"""Pure builders for every document the program deploys: IAM policies, Vault policy HCL, Helm
values, kubeconfig. No Pulumi here, so each one is tested on plain values; the components
call them inside `Output.apply` with resolved outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IAM_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# The EKS pod identity webhook turns this into AWS_STS_REGIONAL_ENDPOINTS=regional, so the pod's
# STS calls (aws-sdk-go v1.34.9 in Gloo) go to its region's endpoint, not the global one, whatever
# the cluster's default. Gloo's login stays signed for its configured `region` either way.
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
# On Gloo's pod templates: IRSA credentials are injected when a pod is created, so a new role
# must roll the pods.
ROLL_ON_ROLE_ANNOTATION = "gloo-vault-irsa/irsa-role-arn"

VAULT_PORT = 8200
# How long a Helm release may take to install, upgrade or uninstall (the Pulumi Kubernetes
# provider's default, set explicitly: the Vault provider's token is sized by it).
HELM_TIMEOUT_SECONDS = 300
# The tags the program puts on resources of its own: the cluster a role or OIDC provider serves,
# and the service accounts (`<namespace>/<name> ...`) an IRSA role trusts.
CLUSTER_TAG = "eks-cluster"
SERVICE_ACCOUNTS_TAG = "irsa-service-accounts"
PROGRAM_TAG_KEYS = (CLUSTER_TAG, SERVICE_ACCOUNTS_TAG)
VAULT_RELEASE = "vault"  # fixes the Vault chart's service names: `vault` and `vault-internal`


def issuer_host(issuer_url: str) -> str:
    """`https://oidc.eks.../id/X` → `oidc.eks.../id/X`: the form IAM condition keys use."""
    for scheme in ("https://", "http://"):
        if issuer_url.startswith(scheme):
            return issuer_url[len(scheme) :].rstrip("/")
    return issuer_url.rstrip("/")


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, subjects: Sequence[str]) -> dict[str, Any]:
    """Trust for `AssumeRoleWithWebIdentity` from one OIDC provider and exactly these subjects.

    `StringEquals` on both keys (the guide's `StringEqualsIfExists` would let a token without
    a `sub` or `aud` claim through).
    """
    if not subjects:
        raise ValueError("an IRSA role needs at least one service account subject")
    host = issuer_host(issuer)
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "IrsaWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:aud": STS_AUDIENCE,
                        f"{host}:sub": sorted(subjects),
                    }
                },
            }
        ],
    }


def assume_role_trust_policy(principal_arn: str) -> dict[str, Any]:
    """Trust for `sts:AssumeRole` by one named principal (an external Vault in another account)."""
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "VaultAssumesToResolveRoles",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def get_role_policy(bound_role_arns: Sequence[str]) -> dict[str, Any]:
    """What Vault's aws auth needs to resolve a bound role ARN to its unique ID, and no more.

    Without it, writing the Vault role fails as in the guide's Troubleshooting section; with
    `Resource: "*"` Vault could read every role in the account.
    """
    if not bound_role_arns:
        raise ValueError("the GetRole policy needs at least one bound role ARN")
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "ResolveBoundRoles",
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": sorted(bound_role_arns),
            }
        ],
    }


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


def irsa_annotations(role_arn: str) -> dict[str, str]:
    """What a service account needs to assume `role_arn`, signing for its own region's STS."""
    return {IRSA_ANNOTATION: role_arn, STS_REGIONAL_ANNOTATION: "true"}


def gloo_helm_values(
    *,
    enterprise: bool,
    vault_address: str,
    iam_server_id_header: str,
    auth_mount_path: str,
    region: str,
    vault_role: str,
    kv_path: str,
    root_key: str,
    role_arn: str,
    service_accounts: Sequence[str],
    license_key: str | None = None,
    vault_ca_cert_path: str | None = None,
) -> dict[str, Any]:
    """The guide's Helm overrides, with `vaultRole` and `rootKey` made explicit.

    The role goes to exactly `service_accounts` (`gloo`, and `discovery`, which is enabled
    exactly then), whose pods roll when it changes. Enterprise nests the same settings under
    `gloo` (the guide's note) and adds the license. `vault_ca_cert_path` is a file in Gloo's pod
    (Gloo's `tlsConfig.caCert` is a path, read by vault/api's `ConfigureTLS`).
    """
    vault = {
        "address": vault_address,
        "aws": {
            "iamServerIdHeader": iam_server_id_header,
            "mountPath": auth_mount_path,
            "region": region,
            "vaultRole": vault_role,
        },
        "pathPrefix": kv_path,
        "rootKey": root_key,
    }
    if vault_ca_cert_path:
        vault["tlsConfig"] = {"caCert": vault_ca_cert_path}
    values: dict[str, Any] = {
        "settings": {"secretOptions": {"sources": [{"vault": vault}, {"kubernetes": {}}]}},
        "gloo": _with_role("extraGlooAnnotations", role_arn),
        "discovery": {"enabled": "discovery" in service_accounts},
    }
    if "discovery" in service_accounts:
        values["discovery"].update(_with_role("extraDiscoveryAnnotations", role_arn))
    if not enterprise:
        return values
    if not license_key:
        raise ValueError("Gloo Edge Enterprise needs a license key")
    return {"gloo": values, "license_key": license_key}


def _with_role(pod_annotations_key: str, role_arn: str) -> dict[str, Any]:
    return {
        "serviceAccount": {"extraAnnotations": irsa_annotations(role_arn)},
        "deployment": {pod_annotations_key: {ROLL_ON_ROLE_ANNOTATION: role_arn}},
    }


def vault_dev_helm_values(*, root_token: str, service_account: str) -> dict[str, Any]:
    """The guide's `server.dev.enabled=true`, running as a service account the program creates.

    The chart drops `server.serviceAccount.annotations` in dev mode (vault-helm `_helpers.tpl`,
    `vault.serviceAccount.annotations`), so it must not create the account itself. The service
    stays ClusterIP and the UI off: a dev Vault is never exposed outside the cluster.
    """
    return {
        "injector": {"enabled": False},
        "ui": {"enabled": False},
        "server": {
            "dev": {"enabled": True, "devRootToken": root_token},
            "service": {"type": "ClusterIP"},
            "serviceAccount": {"create": False, "name": service_account},
        },
    }


def eks_kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig that authenticates with `aws eks get-token`, as `aws eks update-kubeconfig` writes."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }


def in_cluster_vault_address(namespace: str) -> str:
    """What Gloo uses to reach the in-cluster Vault: the chart's headless service, as in the guide."""
    return f"http://{VAULT_RELEASE}-internal.{namespace}:{VAULT_PORT}"


def service_proxy_url(endpoint: str, namespace: str, service: str, port: int) -> str:
    """The API server's proxy to a ClusterIP service: reachable with cluster credentials only."""
    return f"{endpoint.rstrip('/')}/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy"

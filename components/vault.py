"""Vault layer: the in-cluster dev Vault (optional), the Vault provider, and Gloo's aws auth."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault

from components.config import VAULT_CHART
from components.documents import VAULT_PORT, VAULT_RELEASE, service_proxy_url, vault_dev_helm_values


@dataclass
class InClusterVaultArgs:
    namespace: str
    service_account: str
    chart_version: str
    root_token: pulumi.Input[str]
    role_arn: pulumi.Input[str]


class InClusterVault(pulumi.ComponentResource):
    """The guide's `helm install vault hashicorp/vault --set server.dev.enabled=true`.

    Dev mode keeps everything in memory and unseals with a root token: for trying the guide
    only. Its service is ClusterIP, so nothing outside the cluster reaches it.
    """

    release: k8s.helm.v3.Release
    namespace: pulumi.Output[str]
    service: str

    def __init__(self, name: str, args: InClusterVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:vault:InClusterVault", name, None, opts)
        values: pulumi.Output[dict[str, Any]] = pulumi.Output.all(args.root_token, args.role_arn).apply(
            lambda a: vault_dev_helm_values(root_token=a[0], service_account=args.service_account, role_arn=a[1])
        )
        chart, repo = VAULT_CHART
        self.release = k8s.helm.v3.Release(
            name,
            name=VAULT_RELEASE,
            chart=chart,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
            namespace=args.namespace,
            create_namespace=True,
            values=pulumi.Output.secret(values),  # type: ignore[arg-type]  # the dev root token is in them
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = self.release.status.namespace
        self.service = VAULT_RELEASE
        self.register_outputs({"namespace": self.namespace, "service": self.service})


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
    ca_file = pulumi.Output.all(cluster_name, ca_data).apply(lambda a: _write_ca_file(a[0], a[1]))
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


@dataclass
class VaultAwsAuthArgs:
    auth_mount_path: str
    kv_path: str
    policy_name: str
    policy_hcl: str
    iam_server_id_header: str
    region: str
    sts_endpoint: str
    bound_role_arn: pulumi.Input[str]
    role_name: pulumi.Input[str]
    token_max_ttl_seconds: int
    identity_grant: pulumi.Resource
    """Vault's `iam:GetRole` grant: writing the role resolves the bound ARN and needs it first."""
    sts_role_arn: pulumi.Input[str] | None = None
    """Cross-account: the role Vault assumes to resolve ARNs in the bound role's account."""


class VaultAwsAuth(pulumi.ComponentResource):
    """The guide's Vault steps 2-6: aws auth, kv-v2, policy, client config and the IAM-bound role."""

    auth_mount_path: pulumi.Output[str]
    kv_path: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    role_name: pulumi.Output[str]
    role: vault.aws.AuthBackendRole

    def __init__(self, name: str, args: VaultAwsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:vault:VaultAwsAuth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        backend = vault.AuthBackend(
            name, type="aws", path=args.auth_mount_path, description="Gloo logs in with IRSA", opts=child
        )
        kv = vault.Mount(
            name,
            path=args.kv_path,
            type="kv",
            options={"version": "2"},
            description="Gloo's secrets (kv-v2)",
            opts=child,
        )
        policy = vault.Policy(name, name=args.policy_name, policy=args.policy_hcl, opts=child)
        client = vault.aws.AuthBackendClient(
            name,
            backend=backend.path,
            iam_server_id_header_value=args.iam_server_id_header,
            sts_endpoint=args.sts_endpoint,
            sts_region=args.region,
            opts=child,
        )
        role_deps: list[pulumi.Resource] = [client, args.identity_grant]
        if args.sts_role_arn is not None:
            sts_role = vault.aws.AuthBackendStsRole(
                name,
                backend=backend.path,
                account_id=pulumi.Output.from_input(args.bound_role_arn).apply(lambda arn: arn.split(":")[4]),
                sts_role=args.sts_role_arn,
                opts=child,
            )
            role_deps.append(sts_role)
        self.role = vault.aws.AuthBackendRole(
            name,
            backend=backend.path,
            role=args.role_name,
            auth_type="iam",
            bound_iam_principal_arns=[args.bound_role_arn],
            resolve_aws_unique_ids=True,
            token_policies=[policy.name],
            token_max_ttl=args.token_max_ttl_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=role_deps),
        )
        self.auth_mount_path = backend.path
        self.kv_path = kv.path
        self.policy_name = policy.name
        self.role_name = self.role.role
        self.register_outputs(
            {
                "auth_mount_path": self.auth_mount_path,
                "kv_path": self.kv_path,
                "policy_name": self.policy_name,
                "role_name": self.role_name,
            }
        )

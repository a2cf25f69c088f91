"""The validated stack config as the values the layers read: `Settings` and the value types it
holds. `components.config` reads and checks the stack's config into it; this module reads nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.documents.gloo import GLOO_EE_CHART, GLOO_OSS_CHART


@dataclass(frozen=True)
class PrincipalArn:
    """An IAM role or user ARN, parsed once: IAM attaches inline policies by bare name."""

    arn: str
    partition: str
    account: str
    kind: str
    """`role` or `user`."""
    name: str


# The `clusters` output's key for a stack's one cluster (`clusterName` or `clusterStackRef`).
SINGLE_CLUSTER_KEY = "default"


@dataclass(frozen=True)
class ClusterTarget:
    """One cluster whose Gloo reads this stack's Vault: an entry of `clusters`, or the one cluster
    of `clusterName` / `clusterStackRef`."""

    key: str | None
    """Its `clusters` name; None: the stack's one cluster, whose resources keep their first names."""
    cluster_name: str | None
    """The EKS cluster, looked up by name (None: `stack_ref` gives it)."""
    stack_ref: str | None
    """The stack that owns the cluster: its outputs name it and give its kubeconfig and OIDC provider."""
    adopt_oidc_provider: bool = False
    """Look up the cluster's existing IAM OIDC provider instead of creating one."""
    kubeconfig: pulumi.Input[str] | None = None
    """A kubeconfig instead of one built from the cluster (single cluster: config `kubeconfig`)."""
    kube_context: str | None = None
    """The context inside `kubeconfig` (single cluster: config `kubeContext`)."""
    from_single_cluster: bool = False
    """The cluster this stack deployed before `clusters` was set: aliased to its first names."""

    def named(self, base: str) -> str:
        """A resource name of this cluster's: `base` for the single cluster, else `<key>-<base>`."""
        return base if self.key is None else f"{self.key}-{base}"

    @property
    def output_key(self) -> str:
        """Its key in the `clusters` output."""
        return self.key or SINGLE_CLUSTER_KEY


# A stack name with a part `prod`, `prd`, `production` or `live` (digits may follow) is production.
_PRODUCTION_STACK = re.compile(r"(?:^|[-_./])(?:prod|prd|production|live)\d*(?:$|[-_./])", re.IGNORECASE)


@dataclass(frozen=True)
class ServiceAccountRef:
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        """The `sub` claim EKS puts in this service account's projected token."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True)
class Settings:
    """The validated stack config; the one place every shared value comes from."""

    cluster_name: str | None
    """None when the cluster comes from `clusterStackRef` (its name is that stack's output)."""
    region: str
    environment: str
    adopt_oidc_provider: bool
    kubeconfig: str | None
    kube_context: str | None
    gloo_namespace: str
    gloo_service_accounts: tuple[str, ...]
    iam_server_id_header: str
    vault_topology: str
    vault_address: str
    vault_provider_address: str | None
    vault_token: pulumi.Output[str]
    vault_namespace: str
    vault_service_account: str
    vault_chart_version: str
    vault_aws_principal: PrincipalArn | None
    vault_cross_account_principal: PrincipalArn | None
    auth_mount_path: str
    kv_path: str
    vault_policy_name: str
    vault_policy_mode: str
    gloo_root_key: str
    token_max_ttl_seconds: int
    gloo_edition: str
    gloo_chart_version: str
    gloo_license_key: pulumi.Output[str] | None
    gloo_release_name: str
    kv_retain_on_delete: bool
    login_check: bool
    iam_role_path: str
    iam_permissions_boundary_arn: str | None
    iam_max_session_seconds: int | None
    aws_default_tags: dict[str, str] | None
    cluster_stack_ref: str | None
    cluster_stack_oidc: bool
    cluster_stack_cluster_name_output: str
    cluster_stack_oidc_provider_arn_output: str
    cluster_stack_oidc_issuer_url_output: str
    cluster_stack_kubeconfig_output: str
    vault_ca_cert: str | None
    gloo_vault_ca_cert_path: str | None
    clusters: tuple[ClusterTarget, ...] | None = None
    adopt_auth_mount: bool = False
    adopt_kv_mount: bool = False
    stack: str = ""
    """The stack's name: production by name too (`prod`, `eu-prd`, `live2`...), as the policy pack rules."""

    @property
    def production(self) -> bool:
        """The policy pack's rule (guardrails `is_production`): the `environment` key, or the name."""
        return self.environment == "production" or bool(_PRODUCTION_STACK.search(self.stack))

    @property
    def targets(self) -> tuple[ClusterTarget, ...]:
        """Every cluster this stack serves: the `clusters` entries, or the one of `clusterName` /
        `clusterStackRef`."""
        if self.clusters is None:
            single = ClusterTarget(
                None,
                self.cluster_name,
                self.cluster_stack_ref,
                self.adopt_oidc_provider,
                self.kubeconfig,
                self.kube_context,
            )
            return (single,)
        return self.clusters

    @property
    def gloo_subjects(self) -> list[ServiceAccountRef]:
        return [ServiceAccountRef(self.gloo_namespace, sa) for sa in self.gloo_service_accounts]

    @property
    def vault_subject(self) -> ServiceAccountRef:
        return ServiceAccountRef(self.vault_namespace, self.vault_service_account)

    @property
    def sts_endpoint(self) -> str:
        return sts_endpoint(self.region)

    @property
    def gloo_chart(self) -> tuple[str, str]:
        return GLOO_EE_CHART if self.gloo_edition == "enterprise" else GLOO_OSS_CHART


def sts_endpoint(region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"

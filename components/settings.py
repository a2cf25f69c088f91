"""The validated stack config as the values the layers read: `Settings` and the value types it
holds. `components.config` reads and checks the stack's config into it; this module reads nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
class ClusterSource:
    """Where the clusters come from: `clusters`, or the one cluster its shorthand keys name."""

    targets: tuple[ClusterTarget, ...]
    """Every cluster the stack serves; the single-cluster keys make one, keyed None."""
    several: bool
    """`clusters` is set: each cluster's resources and outputs go under its short name."""
    stack_oidc: bool
    """With a cluster stack: its OIDC provider and issuer are that stack's outputs (else made here)."""
    stack_outputs: Mapping[str, str]
    """The cluster stack's output names: `clusterName`, `oidcProviderArn`, `oidcIssuerUrl`, `kubeconfig`."""


@dataclass(frozen=True)
class IamSettings:
    """What every IAM role the program creates gets, as the organisation requires."""

    role_path: str
    """The roles' IAM path."""
    permissions_boundary_arn: str | None
    """The managed policy set as each role's permissions boundary."""
    max_session_seconds: int | None
    """The roles' maximum session duration (None: IAM's default)."""
    aws_default_tags: dict[str, str] | None
    """Tags on every AWS resource (the AWS provider's default tags)."""


@dataclass(frozen=True)
class VaultSettings:
    """The Vault side: where it runs, how Pulumi reaches it, and what Gloo's login is bound to."""

    topology: str
    """`in-cluster-dev` or `external`."""
    address: str
    """The address Gloo reaches Vault at."""
    provider_address: str | None
    """The address Pulumi reaches Vault at (None: the topology's own way)."""
    token: pulumi.Output[str]
    """Pulumi's Vault token (secret)."""
    namespace: str
    """The in-cluster Vault's namespace."""
    service_account: str
    """The in-cluster Vault's service account (gets Vault's IRSA role)."""
    chart_version: str
    """The `hashicorp/vault` chart version (in-cluster)."""
    aws_principal: PrincipalArn | None
    """An external Vault's own IAM principal in this account."""
    cross_account_principal: PrincipalArn | None
    """An external Vault's IAM principal in another account."""
    auth_mount_path: str
    """The aws auth method's mount path (Gloo logs in there)."""
    kv_path: str
    """The kv-v2 mount path (Gloo's `pathPrefix`)."""
    policy_name: str
    """The Vault policy given to Gloo's token."""
    policy_mode: str
    """`least-privilege` or `guide`."""
    token_max_ttl_seconds: int
    """Max TTL of Gloo's Vault token."""
    iam_server_id_header: str
    """`X-Vault-AWS-IAM-Server-ID`: Vault requires it, Gloo signs it."""
    kv_retain_on_delete: bool
    """Keep the kv mount and its secrets on destroy."""
    adopt_auth_mount: bool
    """Use the aws auth method already enabled, never disabling it."""
    adopt_kv_mount: bool
    """Use the kv-v2 mount already there, never disabling it."""
    ca_cert: str | None
    """The PEM bundle the Vault provider verifies an https Vault with."""

    @property
    def subject(self) -> ServiceAccountRef:
        """The in-cluster Vault's service account, as its IRSA role trusts it."""
        return ServiceAccountRef(self.namespace, self.service_account)


@dataclass(frozen=True)
class GlooSettings:
    """The Gloo release and where it reads its secrets."""

    namespace: str
    """The release's namespace (and its service accounts')."""
    service_accounts: tuple[str, ...]
    """Gloo's service accounts that get the role."""
    root_key: str
    """Gloo's `rootKey` under the kv mount (Vault's policy is scoped to it)."""
    edition: str
    """`oss` or `enterprise`."""
    chart_version: str
    """The exact Gloo chart version."""
    license_key: pulumi.Output[str] | None
    """The Enterprise license key (secret)."""
    release_name: str
    """The Helm release's name."""
    vault_ca_cert_path: str | None
    """The CA file, inside Gloo's pod, Gloo verifies an https Vault with."""

    @property
    def subjects(self) -> list[ServiceAccountRef]:
        """Gloo's service accounts, as its IRSA role trusts them."""
        return [ServiceAccountRef(self.namespace, sa) for sa in self.service_accounts]

    @property
    def chart(self) -> tuple[str, str]:
        """The chart and its repository for the edition."""
        return GLOO_EE_CHART if self.edition == "enterprise" else GLOO_OSS_CHART


@dataclass(frozen=True)
class VerificationSettings:
    """What the program proves after `up`."""

    login_check: bool
    """Run the Job that logs in to Vault as Gloo does."""


@dataclass(frozen=True)
class Settings:
    """The validated stack config, one section per layer; the one place every shared value comes from."""

    region: str
    """The cluster's region: AWS calls, STS verification in Vault and Gloo's signed login agree on it."""
    environment: str
    """`development` or `production`."""
    cluster: ClusterSource
    """Where the clusters come from."""
    iam: IamSettings
    """The IAM roles' organisational settings."""
    vault: VaultSettings
    """The Vault side."""
    gloo: GlooSettings
    """The Gloo release."""
    verification: VerificationSettings
    """The checks after `up`."""
    stack: str = ""
    """The stack's name: production by name too (`prod`, `eu-prd`, `live2`...), as the policy pack rules."""

    @property
    def production(self) -> bool:
        """The policy pack's rule (guardrails `is_production`): the `environment` key, or the name."""
        return self.environment == "production" or bool(_PRODUCTION_STACK.search(self.stack))

    @property
    def sts_endpoint(self) -> str:
        """The region's STS endpoint, where Vault verifies Gloo's signed request."""
        return sts_endpoint(self.region)


# The sections of `Settings` a config key can belong to (`Key.section`; "" is Settings itself).
SECTIONS: dict[str, type] = {
    "cluster": ClusterSource,
    "iam": IamSettings,
    "vault": VaultSettings,
    "gloo": GlooSettings,
    "verification": VerificationSettings,
}


def sts_endpoint(region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"

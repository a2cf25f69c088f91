"""Stack configuration: every key, its default (the guide's value) and its validation.

`KEYS` is the single table of the config contract: each row names a key, its default, its
README line and the check its value must pass; `Pulumi.yaml`'s config block and the README's
table are generated from it (`components/config_docs.py`). `load_settings` reads the whole
stack config up front and raises `ConfigError` (a `pulumi.RunError`, which Pulumi prints as one
line without a stack trace) before a single resource is registered, so bad input can never
leave a half-applied deployment.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config

from components import checks
from components.checks import MAX_TOKEN_TTL_SECONDS, PROJECT, ClusterTarget, ConfigError, PrincipalArn, config_text
from components.documents import PROGRAM_TAG_KEYS, VAULT_RELEASE, get_role_policy, in_cluster_vault_address

# Gloo before 1.15.3 required static AWS keys for Vault's aws auth (no IRSA); before 1.15.19 it
# never renews its Vault token, so with a 24h max TTL it loses its secrets after a day.
MIN_GLOO_VERSION_FOR_IRSA = (1, 15, 3)
MIN_GLOO_VERSION_FOR_RENEWAL = (1, 15, 19)
# The newest release of the newest maintained line (1.18 to 1.22 are maintained in 2026).
DEFAULT_GLOO_VERSION = "1.22.1"
# The Gloo chart's `discovery.enabled` defaults to false from 1.20.0 on (changelog
# v1.20.0-beta3/disable-discovery-default); before, its `discovery` service account always existed.
DISCOVERY_OFF_BY_DEFAULT_FROM = (1, 20, 0)
# Service accounts of the Gloo chart that read Gloo's Settings, and so its Vault secrets.
GLOO_CHART_SERVICE_ACCOUNTS = ("gloo", "discovery")
# hashicorp/vault-helm 0.32.0 (2026-01-14): the last chart of Vault 1.x (default image 1.21.2,
# "Tested with Vault versions 1.21-1.19, 1.16"; 0.33.0 moves to 2.0.2), the first whose own
# default is fixed for CVE-2025-11621; its `server.image.tag` is set to VAULT_IMAGE_TAG.
DEFAULT_VAULT_CHART_VERSION = "0.32.0"

GLOO_OSS_CHART = ("gloo", "https://storage.googleapis.com/solo-public-helm")
GLOO_EE_CHART = ("gloo-ee", "https://storage.googleapis.com/gloo-ee-helm")
VAULT_CHART = ("vault", "https://helm.releases.hashicorp.com")

TOPOLOGIES = ("in-cluster-dev", "external")
EDITIONS = ("oss", "enterprise")
POLICY_MODES = ("least-privilege", "guide")
ENVIRONMENTS = ("development", "production")
# A stack name with a part `prod`, `prd`, `production` or `live` (digits may follow) is production.
_PRODUCTION_STACK = re.compile(r"(?:^|[-_./])(?:prod|prd|production|live)\d*(?:$|[-_./])", re.IGNORECASE)

__all__ = [
    "KEYS",
    "MAX_TOKEN_TTL_SECONDS",
    "PROJECT",
    "ClusterTarget",
    "ConfigError",
    "Key",
    "PrincipalArn",
    "Settings",
    "config_text",
    "config_warnings",
    "load_settings",
    "parse_settings",
    "refuse_unknown_keys",
]


@dataclass(frozen=True)
class ServiceAccountRef:
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        """The `sub` claim EKS puts in this service account's projected token."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


# IAM's size limits of an inline policy (characters, whitespace not counted), for Vault's grant.
INLINE_POLICY_LIMITS = {"role": 10_240, "user": 2_048}


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


@dataclass(frozen=True)
class Key:
    """One config key: its name, default, README line, and the check its value must pass."""

    name: str
    default: Any
    """The guide's value (`None`: optional, or required when `required` says what is expected)."""
    description: str
    """The README's one line."""
    check: checks.Check = checks.text
    """Turns the raw text (or the default) into the typed value, or raises `ConfigError`."""
    secret: bool = False
    """Read with `get_secret`; never declared with a default in Pulumi.yaml."""
    required: str | None = None
    """What to ask for when the key is unset (with no default)."""
    env: str | None = None
    """An environment variable read when the (secret) key is unset."""
    field: str | None = None
    """The `Settings` field; default: the key's name in snake_case."""
    pulumi_type: str | None = None
    """`Pulumi.yaml`'s type for a key without a default (default: string); `object` keys are not
    declared there, as a project's config types do not include maps."""
    unless: tuple[str, ...] = ()
    """Other keys any of which, when set, makes this required key optional (its value comes from there)."""

    @property
    def declared(self) -> bool:
        """Declared in `Pulumi.yaml`: not a secret (no defaults there), not a map (no such type), and
        never without a default, which the CLI reads as required (`pulumi preview` then refuses every
        stack that leaves it unset): a string key without one declares `""`, read as unset; a boolean
        or list whose default derives from other keys (`loginCheck`, `glooServiceAccounts`) has no
        value that means unset, so it is not declared and only the program checks it."""
        if self.secret or self.pulumi_type == "object":
            return False
        return self.default is not None or (self.pulumi_type or "string") == "string"

    @property
    def settings_field(self) -> str:
        return self.field or re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()


_GLOO_VERSION = checks.chart_version(
    DEFAULT_GLOO_VERSION, MIN_GLOO_VERSION_FOR_IRSA, "earlier Gloo cannot log in to Vault with IRSA"
)

# The documented contract, one key a row.
KEYS: tuple[Key, ...] = (
    Key("clusterName", None, "Name of the existing EKS cluster (required, unless `clusterStackRef` or `clusters` gives it).", check=checks.cluster_name, required="the name of an existing EKS cluster (or clusterStackRef, the stack that owns it, or clusters)", unless=("clusterStackRef", "clusters")),
    Key("region", "us-east-1", "AWS region of the cluster, IAM/STS calls and Vault's STS verification.", check=checks.region),
    Key("environment", "development", "`development` or `production`; `production` (as does a stack name with a part `prod`, `prd`, `production` or `live`, digits allowed) makes the policy pack refuse a dev-mode Vault and plain-http Vault access, and the program protect the IAM roles, the OIDC provider it creates and the Vault mounts.", check=checks.one_of(*ENVIRONMENTS)),
    Key("adoptOidcProvider", False, "Look up the cluster's existing IAM OIDC provider instead of creating it.", check=checks.boolean),
    Key("kubeconfig", None, "Kubeconfig path or contents to use instead of the cluster's endpoint and `aws eks get-token` (read as a secret: `pulumi config set --secret kubeconfig ...`).", secret=True),
    Key("kubeContext", None, "Context inside `kubeconfig` to use."),
    Key("glooNamespace", "gloo-system", "Namespace of the Gloo release and its service accounts.", check=checks.dns_label),
    Key("glooServiceAccounts", None, "Gloo's service accounts that get the role (annotated, and trusted by it): `gloo`, plus `discovery`, which also turns discovery on; default: the chart's own, `[\"gloo\", \"discovery\"]` before 1.20, `[\"gloo\"]` from 1.20.", check=checks.dns_label_list, pulumi_type="array"),
    Key("iamServerIdHeader", "vault.gloo.example.com", "`X-Vault-AWS-IAM-Server-ID` value; Vault requires it and Gloo signs it.", check=checks.header_value),
    Key("vaultTopology", "in-cluster-dev", "`in-cluster-dev` (the guide's dev-mode Vault chart) or `external` (an existing Vault).", check=checks.one_of(*TOPOLOGIES)),
    Key("vaultAddress", None, "Address Gloo uses to reach Vault; default for `in-cluster-dev`: `http://vault-internal.<vaultNamespace>:8200` (the guide's); required for `external`.", check=checks.url),
    Key("vaultProviderAddress", None, "Address Pulumi uses to reach Vault; default: `vaultAddress` for `external`, the API server's service proxy for `in-cluster-dev`.", check=checks.url),
    Key("vaultToken", None, "Vault token for Pulumi (secret; else `VAULT_TOKEN`). For `in-cluster-dev` it is also the dev server's root token.", secret=True, env="VAULT_TOKEN", required="a Vault token as a secret (pulumi config set --secret vaultToken ...) or VAULT_TOKEN"),
    Key("vaultNamespace", "vault", "Namespace of the in-cluster Vault.", check=checks.dns_label),
    Key("vaultServiceAccount", "vault", "Service account of the in-cluster Vault (gets Vault's IRSA role).", check=checks.dns_label),
    Key("vaultChartVersion", DEFAULT_VAULT_CHART_VERSION, "Exact `hashicorp/vault` chart version for `in-cluster-dev`.", check=checks.chart_version(DEFAULT_VAULT_CHART_VERSION)),
    Key("vaultAwsPrincipalArn", None, "`external`: ARN of the Vault server's own IAM role/user in this account; gets the scoped `iam:GetRole` policy.", check=checks.principal_arn, field="vault_aws_principal"),
    Key("vaultCrossAccountPrincipalArn", None, "`external`: ARN of Vault's principal in another account; a role it assumes is created and registered with `auth/<mount>/config/sts/<account>`.", check=checks.principal_arn, field="vault_cross_account_principal"),
    Key("authMountPath", "aws", "Mount path of Vault's aws auth method.", check=checks.mount_path),
    Key("kvPath", "dev", "Mount path of the kv-v2 secrets engine (Gloo's `pathPrefix`).", check=checks.mount_path),
    Key("adoptAuthMount", False, "Use the aws auth method already enabled at `authMountPath` instead of enabling it: never disabled by the stack; its client config and Gloo's role are still written (the client config is kept on `destroy`).", check=checks.boolean),
    Key("adoptKvMount", False, "Use the kv-v2 mount already at `kvPath` instead of creating it: never disabled by the stack.", check=checks.boolean),
    Key("kvRetainOnDelete", True, "Keep the kv-v2 mount, and every secret in it, when the stack is destroyed or the mount replaced (`protect`ed too in production).", check=checks.boolean),
    Key("vaultPolicyName", "dev", "Name of the Vault policy given to Gloo's token.", check=checks.vault_policy_name),
    Key("vaultPolicyMode", "least-privilege", "`least-privilege` (read/list under the root key) or `guide` (the guide's wider policy).", check=checks.one_of(*POLICY_MODES)),
    Key("glooRootKey", "gloo", "Gloo's `rootKey` under the kv mount.", check=checks.vault_path),
    Key("tokenMaxTtl", "24h", "Max TTL of Gloo's Vault token (`1h`, `30m`, `24h`...), at most `168h`.", check=checks.duration_seconds, field="token_max_ttl_seconds"),
    Key("glooEdition", "oss", "`oss` (chart `gloo`) or `enterprise` (chart `gloo-ee`, needs `glooLicenseKey`).", check=checks.one_of(*EDITIONS)),
    Key("glooChartVersion", DEFAULT_GLOO_VERSION, "Exact Gloo chart version; 1.15.3 or later (IRSA), 1.15.19 or later (token renewal), 1.18 to 1.22 maintained.", check=_GLOO_VERSION),
    Key("glooLicenseKey", None, "Gloo Edge Enterprise license key (secret; `enterprise` only).", secret=True),
    Key("glooReleaseName", "gloo", "Name of the Gloo Helm release.", check=checks.helm_release_name),
    Key("iamRolePath", "/", "IAM path of every role the program creates (Gloo's, and Vault's when it makes one); Vault binds Gloo's role by its unique ID, so a path does not break the login.", check=checks.iam_path),
    Key("iamPermissionsBoundaryArn", None, "Managed policy set as the permissions boundary of every role the program creates; it must allow Vault's role `iam:GetRole` (Gloo's role needs no permission).", check=checks.managed_policy_arn),
    Key("iamMaxSessionDuration", None, "Maximum session duration of every role the program creates, `1h` to `12h` (IAM's default: `1h`).", check=checks.session_seconds, field="iam_max_session_seconds"),
    Key("awsDefaultTags", None, "Tags on every AWS resource the program creates (the AWS provider's `default_tags`), a map: `pulumi config set --path 'awsDefaultTags.team' edge`; not declared in `Pulumi.yaml`, which has no map type.", check=checks.tag_map, pulumi_type="object"),
    Key("clusterStackRef", None, "Stack that owns the EKS cluster (`org/project/stack`): its outputs give the cluster's name, kubeconfig (kept secret) and OIDC provider, instead of `clusterName` and AWS lookups.", check=checks.stack_name),
    Key("clusterStackOidc", True, "With `clusterStackRef`: take the OIDC provider ARN and issuer URL from that stack (`true`), or only the cluster's name and kubeconfig, looking the issuer up and creating the provider here (`false`).", check=checks.boolean),
    Key("clusterStackClusterNameOutput", "clusterName", "With `clusterStackRef`: that stack's output holding the EKS cluster's name.", check=checks.output_name),
    Key("clusterStackOidcProviderArnOutput", "oidcProviderArn", "With `clusterStackRef` and `clusterStackOidc`: that stack's output holding the cluster's IAM OIDC provider ARN.", check=checks.output_name),
    Key("clusterStackOidcIssuerUrlOutput", "oidcIssuerUrl", "With `clusterStackRef` and `clusterStackOidc`: that stack's output holding the cluster's OIDC issuer URL (`https://oidc.eks...`).", check=checks.output_name),
    Key("clusterStackKubeconfigOutput", "kubeconfig", "With `clusterStackRef`: that stack's output holding the cluster's kubeconfig (read as a secret).", check=checks.output_name),
    Key("vaultCaCert", None, "PEM CA bundle the Vault provider verifies an `https` Vault with (`pulumi config set vaultCaCert < ca.pem`; public, not a secret).", check=checks.ca_bundle),
    Key("glooVaultCaCertPath", None, "Path, inside Gloo's pod, of the CA file Gloo verifies an `https` Vault with (`tlsConfig.caCert`); the Gloo chart cannot mount one on the gloo deployment, so the platform must (unset: the image's trust store).", check=checks.file_path),
    Key("clusters", None, "Several EKS clusters on this stack's Vault (README, \"Several clusters\"), a map of short names (DNS labels, at most 20 characters) to `{clusterName: <name>}` or `{clusterStackRef: <stack>}`, each optionally with `adoptOidcProvider` and `fromSingleCluster`: each cluster gets its own OIDC provider, Gloo role, Vault role and Gloo release; all share the mounts and the policy. Requires `vaultTopology: external`; replaces `clusterName`, `clusterStackRef`, `kubeconfig`, `kubeContext`, `adoptOidcProvider`.", check=checks.cluster_map, pulumi_type="object"),
    Key("loginCheck", None, "Run a Job as Gloo's service account after the Vault role and the Gloo release, on every change to them, that logs in to Vault as Gloo does and lists Gloo's metadata path; `pulumi up` fails with its one-line reason (README, \"Verify\"); default: `true` for `in-cluster-dev`, `false` for `external`; with `glooVaultCaCertPath` it verifies Vault with `vaultCaCert`.", check=checks.boolean, pulumi_type="boolean"),
)  # fmt: skip


def sts_endpoint(region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def _read(
    key: Key,
    get: Callable[[str], str | None],
    secret: Callable[[str], pulumi.Output[str] | None],
    env: Mapping[str, str],
) -> Any:
    """One key's typed value: its check applied to the set value, else to its default."""
    if key.secret:
        value = secret(key.name)
        if value is None and key.env and env.get(key.env):
            value = pulumi.Output.secret(env[key.env])
    else:
        raw = get(key.name)
        if raw is None or raw == "":  # Pulumi.yaml declares `default: ""` for optional keys
            raw = None if key.default is None else config_text(key.default)
        value = None if raw is None else key.check(key.name, raw)
    return value


def _required(values: dict[str, Any]) -> None:
    """Each required key is set, unless the key it names (`Key.unless`) gives its value instead."""
    for key in KEYS:
        exempt = any(values[_field_of(other)] is not None for other in key.unless)
        if values[key.settings_field] is None and key.required and not exempt:
            raise ConfigError(key.name, key.required)


def _field_of(name: str) -> str:
    [key] = [k for k in KEYS if k.name == name]
    return key.settings_field


def _cross_key_rules(values: dict[str, Any]) -> None:
    """The rules that tie keys together, in one place; completes `values` where one key's
    default depends on another."""
    _cluster_stack_rules(values)
    _clusters_rules(values)
    _vault_rules(values)
    _principal_rules(values)
    _grant_size_rules(values)
    _gloo_rules(values)
    _collision_rules(values)
    _iam_rules(values)
    _tls_rules(values)
    if values["kube_context"] and not (values["kubeconfig"] or values["cluster_stack_ref"]):
        raise ConfigError("kubeContext", "to be set only together with kubeconfig or clusterStackRef")


def _cluster_stack_rules(values: dict[str, Any]) -> None:
    """With `clusterStackRef` the cluster's stack names the cluster and gives its kubeconfig: no key
    may give them a second time, and the OIDC provider is that stack's (or made here), never adopted."""
    ref = values["cluster_stack_ref"]
    if ref is None:
        return
    for key in ("clusterName", "kubeconfig"):
        if values[_field_of(key)] is not None:
            raise ConfigError(key, f"no value when clusterStackRef is set (stack {ref} gives it)")
    if values["adopt_oidc_provider"]:
        raise ConfigError(
            "adoptOidcProvider",
            "false when clusterStackRef is set: the OIDC provider comes from that stack (clusterStackOidc true) "
            "or is created here (false)",
        )


def _clusters_rules(values: dict[str, Any]) -> None:
    """`clusters` names every cluster itself, and several clusters can only share a Vault outside them."""
    if values["clusters"] is None:
        return
    for key in ("clusterName", "clusterStackRef", "kubeconfig", "kubeContext"):
        if values[_field_of(key)] is not None:
            raise ConfigError(key, "no value when clusters is set (name each cluster in clusters)")
    if values["adopt_oidc_provider"]:
        raise ConfigError("adoptOidcProvider", "false when clusters is set (set it per cluster in clusters)")
    if values["vault_topology"] != "external":
        raise ConfigError(
            "vaultTopology", "external when clusters is set (the in-cluster dev Vault lives in one cluster)"
        )


def _grant_size_rules(values: dict[str, Any]) -> None:
    """Vault's `iam:GetRole` grant lists every Gloo role: it must fit IAM's inline policy limit."""
    clusters = values["clusters"]
    if clusters is None:
        return
    principal = values["vault_aws_principal"]
    kind = principal.kind if principal is not None else "role"  # cross-account: a role made here
    partition = checks.partition_of(values["region"])
    # The longest ARN each Gloo role can have: `<key>-gloo` auto-named with 8 more characters.
    arns = [f"arn:{partition}:iam::123456789012:role{values['iam_role_path']}{c.key}-gloo-abcdefg" for c in clusters]
    size = len(json.dumps(get_role_policy(arns), separators=(",", ":")))
    if size > INLINE_POLICY_LIMITS[kind]:
        raise ConfigError(
            "clusters",
            f"fewer clusters (or a shorter iamRolePath): Vault's iam:GetRole grant names each Gloo role, and "
            f"{len(clusters)} make it {size} characters, over IAM's {INLINE_POLICY_LIMITS[kind]} for a {kind} policy",
        )


def _vault_rules(values: dict[str, Any]) -> None:
    if values["login_check"] is None:
        values["login_check"] = values["vault_topology"] == "in-cluster-dev"
    if values["vault_address"] is None:
        if values["vault_topology"] == "external":
            raise ConfigError("vaultAddress", "the address of the existing Vault when vaultTopology is external")
        values["vault_address"] = in_cluster_vault_address(values["vault_namespace"])


def _principal_rules(values: dict[str, Any]) -> None:
    """One principal for an external Vault, none in-cluster, and always in the region's partition."""
    topology = values["vault_topology"]
    principal, cross = values["vault_aws_principal"], values["vault_cross_account_principal"]
    if topology == "external" and (principal is None) == (cross is None):
        raise ConfigError(
            "vaultAwsPrincipalArn",
            "exactly one of vaultAwsPrincipalArn or vaultCrossAccountPrincipalArn when vaultTopology is external",
        )
    if topology == "in-cluster-dev" and (principal or cross):
        raise ConfigError(
            "vaultAwsPrincipalArn" if principal else "vaultCrossAccountPrincipalArn",
            "no value when vaultTopology is in-cluster-dev (Vault gets its own IRSA role)",
        )
    partition = checks.partition_of(values["region"])
    for key, arn in (("vaultAwsPrincipalArn", principal), ("vaultCrossAccountPrincipalArn", cross)):
        if arn is not None and arn.partition != partition:
            raise ConfigError(
                key, f"an ARN in partition {partition}, the region's {values['region']} (got {arn.arn!r})"
            )


def _gloo_rules(values: dict[str, Any]) -> None:
    """Gloo's role goes to service accounts the release creates, and `gloo` reads the secrets."""
    if values["gloo_edition"] == "enterprise" and values["gloo_license_key"] is None:
        raise ConfigError("glooLicenseKey", "a license key as a secret when glooEdition is enterprise")
    accounts = values["gloo_service_accounts"]
    if accounts is None:
        discovery_on = checks.parse_semver(values["gloo_chart_version"]) < DISCOVERY_OFF_BY_DEFAULT_FROM
        values["gloo_service_accounts"] = ("gloo", "discovery") if discovery_on else ("gloo",)
    elif "gloo" not in accounts or not set(accounts) <= set(GLOO_CHART_SERVICE_ACCOUNTS):
        raise ConfigError(
            "glooServiceAccounts",
            f'service accounts the Gloo chart creates, ["gloo"] or ["gloo", "discovery"] (got {list(accounts)!r})',
        )


def _collision_rules(values: dict[str, Any]) -> None:
    """The in-cluster Vault and Gloo must not take each other's release or service account."""
    if values["vault_topology"] != "in-cluster-dev" or values["vault_namespace"] != values["gloo_namespace"]:
        return
    if values["gloo_release_name"] == VAULT_RELEASE:
        raise ConfigError(
            "glooReleaseName",
            f"a name other than {VAULT_RELEASE!r}, the in-cluster Vault's release in the same namespace",
        )
    if values["vault_service_account"] in values["gloo_service_accounts"]:
        raise ConfigError(
            "vaultServiceAccount",
            f"a service account other than Gloo's in the same namespace (got {values['vault_service_account']!r})",
        )


def _iam_rules(values: dict[str, Any]) -> None:
    """The boundary is in the region's partition; default tags leave the program's own tags alone."""
    boundary = values["iam_permissions_boundary_arn"]
    partition = checks.partition_of(values["region"])
    if boundary is not None and checks.policy_partition(boundary) != partition:
        raise ConfigError(
            "iamPermissionsBoundaryArn",
            f"a policy in partition {partition}, the region's {values['region']} (got {boundary!r})",
        )
    taken = sorted(set(values["aws_default_tags"] or {}) & set(PROGRAM_TAG_KEYS))
    if taken:
        raise ConfigError(
            "awsDefaultTags", f"tags other than the program's own {', '.join(PROGRAM_TAG_KEYS)} (got {taken[0]!r})"
        )


def _tls_rules(values: dict[str, Any]) -> None:
    """A CA goes only with an `https` address that uses it."""
    provider_address = values["vault_provider_address"]
    if provider_address is None and values["vault_topology"] == "external":
        provider_address = values["vault_address"]
    if values["vault_ca_cert"] is not None and not (provider_address or "").startswith("https://"):
        raise ConfigError(
            "vaultCaCert",
            "no value unless the Vault provider's address (vaultProviderAddress, or vaultAddress when external) is https",
        )
    if values["gloo_vault_ca_cert_path"] is not None and not values["vault_address"].startswith("https://"):
        raise ConfigError("glooVaultCaCertPath", "no value unless vaultAddress is https")
    if values["login_check"] and values["gloo_vault_ca_cert_path"] is not None and values["vault_ca_cert"] is None:
        raise ConfigError(
            "loginCheck",
            "false, or vaultCaCert set, when glooVaultCaCertPath is: the check cannot read Gloo's CA file "
            "and verifies Vault with vaultCaCert instead",
        )


def config_warnings(settings: Settings) -> list[str]:
    """One line each for a Gloo version or edition that works but that users should not stay on."""
    return _gloo_version_warnings(settings.gloo_chart_version) + _gloo_oss_end_of_life(settings)


def _gloo_version_warnings(version: str) -> list[str]:
    if checks.is_prerelease(version):
        return [f"{PROJECT}:glooChartVersion: {version} is a pre-release; pin a release for anything but trials"]
    if checks.parse_semver(version) < MIN_GLOO_VERSION_FOR_RENEWAL:
        return [
            f"{PROJECT}:glooChartVersion: Gloo {version} never renews its Vault token and loses its secrets "
            f"after tokenMaxTtl; use 1.15.19 or later"
        ]
    return []


def refuse_unknown_keys(given: Iterable[str]) -> None:
    """A key of this project's namespace that no row of `KEYS` names is a typo (`regoin`, `kvpath`)
    that would otherwise leave the key meant at its default: refused, naming the nearest known key.
    `given` is every config key the stack hands the program (`project:key`, other namespaces too)."""
    known = {key.name for key in KEYS}
    by_case = {name.lower(): name for name in known}
    for full in sorted(given):
        namespace, _, name = full.partition(":")
        if namespace != PROJECT or name in known:
            continue
        nearest = by_case.get(name.lower()) or next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.6)), None)
        hint = f"; did you mean {nearest}?" if nearest else ""
        raise ConfigError(name, f'no such key: not one of this program\'s keys (README, "Configuration"){hint}')


def _gloo_oss_end_of_life(settings: Settings) -> list[str]:
    """Gloo Edge OSS gets no releases, bug fixes or security patches after 2026-12-31 (solo-io/gloo
    README, main and v1.22.1): production is told; the dev stack stays on OSS to try the guide."""
    if settings.gloo_edition != "oss" or not settings.production:
        return []
    return [
        f"{PROJECT}:glooEdition: Gloo Edge OSS reaches end of life on 2026-12-31: no releases, bug fixes or "
        'security patches after it; use glooEdition: enterprise in production (README, "Gloo Edge OSS end of life")'
    ]


def parse_settings(
    get: Callable[[str], str | None],
    secret: Callable[[str], pulumi.Output[str] | None],
    env: Mapping[str, str],
    stack: str = "",
) -> Settings:
    """Validates every key, then the rules between keys; raises `ConfigError` on the first bad one."""
    values = {key.settings_field: _read(key, get, secret, env) for key in KEYS}
    _required(values)
    _cross_key_rules(values)
    return Settings(**values, stack=stack)


def load_settings() -> Settings:
    """Reads the current stack's config (project namespace) and the process environment."""
    refuse_unknown_keys({*runtime_config.CONFIG.get(), *runtime_config.get_config_env()})
    config = pulumi.Config(PROJECT)
    settings = parse_settings(config.get, config.get_secret, os.environ, pulumi.get_stack())
    for warning in config_warnings(settings):
        pulumi.log.warn(warning)
    return settings

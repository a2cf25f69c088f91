"""Every config key: its default (the guide's value), its documentation line and the check its
value must pass. `KEYS` is the single table of the config contract: `Pulumi.yaml`'s config
block and the docs' table are generated from it (`tooling/config_docs.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.config import checks
from components.config.targets import cluster_map

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

TOPOLOGIES = ("in-cluster-dev", "external")
EDITIONS = ("oss", "enterprise")
POLICY_MODES = ("least-privilege", "guide")
ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True)
class Key:
    """One config key: its name, default, documentation line, and the check its value must pass."""

    name: str
    default: Any
    """The guide's value (`None`: optional, or required when `required` says what is expected)."""
    description: str
    """Its one line in docs/configuration.md."""
    check: checks.Check = checks.text
    """Turns the raw text (or the default) into the typed value, or raises `ConfigError`."""
    secret: bool = False
    """Read with `get_secret`; never declared with a default in Pulumi.yaml."""
    required: str | None = None
    """What to ask for when the key is unset (with no default)."""
    env: str | None = None
    """An environment variable read when the (secret) key is unset."""
    section: str = ""
    """The `Settings` section its value goes to (`components.settings.SECTIONS`; "" is Settings itself)."""
    field: str | None = None
    """Its name among all values while the rules run; default: the key's name in snake_case."""
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
        return self.default is not None or self.value_type == "string"

    @property
    def value_type(self) -> str:
        """Its value's type as Pulumi names it (`string`, `boolean`, `array`, `object`): the declared
        one, else its default's."""
        return self.pulumi_type or {bool: "boolean", list: "array"}.get(type(self.default), "string")

    @property
    def settings_field(self) -> str:
        return self.field or snake_case(self.name)

    @property
    def section_field(self) -> str:
        """Its field in its section: the value's name without the section's prefix (`glooNamespace`:
        `gloo.namespace`); `targets` for the keys that name the clusters."""
        if self.name in TARGET_KEYS:
            return "targets"
        return self.settings_field.removeprefix(f"{self.section}_") if self.section else self.settings_field


# The keys that name the clusters: `clusters`, or its one-cluster shorthand; they become
# `ClusterSource.targets` (one code path for one cluster or many).
TARGET_KEYS = ("clusterName", "clusterStackRef", "adoptOidcProvider", "kubeconfig", "kubeContext", "clusters")
# What a cluster's stack gives this program, each read from the output of the same name unless
# `clusterStackOutputs` names another.
CLUSTER_STACK_OUTPUTS = ("clusterName", "oidcProviderArn", "oidcIssuerUrl", "kubeconfig")
# Keys that went, and what replaced them: a stack file that still sets one is told in one line.
REPLACED_KEYS = {
    "clusterStackClusterNameOutput": "clusterStackOutputs.clusterName",
    "clusterStackOidcProviderArnOutput": "clusterStackOutputs.oidcProviderArn",
    "clusterStackOidcIssuerUrlOutput": "clusterStackOutputs.oidcIssuerUrl",
    "clusterStackKubeconfigOutput": "clusterStackOutputs.kubeconfig",
}


def snake_case(name: str) -> str:
    """`glooRoleArn` → `gloo_role_arn`: a key's or an output's name in Python."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_GLOO_VERSION = checks.chart_version(
    DEFAULT_GLOO_VERSION, MIN_GLOO_VERSION_FOR_IRSA, "earlier Gloo cannot log in to Vault with IRSA"
)

# The documented contract, one key a row.
KEYS: tuple[Key, ...] = (
    Key("clusterName", None, "Name of the existing EKS cluster (required, unless `clusterStackRef` or `clusters` gives it).", check=checks.cluster_name, required="the name of an existing EKS cluster (or clusterStackRef, the stack that owns it, or clusters)", unless=("clusterStackRef", "clusters"), section="cluster"),
    Key("region", "us-east-1", "AWS region of the cluster, IAM/STS calls and Vault's STS verification.", check=checks.region),
    Key("environment", "development", "`development` or `production`; `production` (as does a stack name with a part `prod`, `prd`, `production` or `live`, digits allowed) makes the policy pack refuse a dev-mode Vault and plain-http Vault access, and the program protect the IAM roles, the OIDC provider it creates and the Vault mounts.", check=checks.one_of(*ENVIRONMENTS)),
    Key("adoptOidcProvider", False, "Look up the cluster's existing IAM OIDC provider instead of creating it.", check=checks.boolean, section="cluster"),
    Key("kubeconfig", None, "Kubeconfig path or contents to use instead of the cluster's endpoint and `aws eks get-token` (read as a secret: `pulumi config set --secret kubeconfig ...`).", secret=True, section="cluster"),
    Key("kubeContext", None, "Context inside `kubeconfig` to use.", section="cluster"),
    Key("glooNamespace", "gloo-system", "Namespace of the Gloo release and its service accounts.", check=checks.dns_label, section="gloo"),
    Key("glooServiceAccounts", None, "Gloo's service accounts that get the role (annotated, and trusted by it): `gloo`, plus `discovery`, which also turns discovery on; default: the chart's own, `[\"gloo\", \"discovery\"]` before 1.20, `[\"gloo\"]` from 1.20.", check=checks.dns_label_list, pulumi_type="array", section="gloo"),
    Key("iamServerIdHeader", "vault.gloo.example.com", "`X-Vault-AWS-IAM-Server-ID` value; Vault requires it and Gloo signs it.", check=checks.header_value, section="vault"),
    Key("vaultTopology", "in-cluster-dev", "`in-cluster-dev` (the guide's dev-mode Vault chart) or `external` (an existing Vault).", check=checks.one_of(*TOPOLOGIES), section="vault"),
    Key("vaultAddress", None, "Address Gloo uses to reach Vault; default for `in-cluster-dev`: `http://vault-internal.<vaultNamespace>:8200` (the guide's); required for `external`.", check=checks.url, section="vault"),
    Key("vaultProviderAddress", None, "Address Pulumi uses to reach Vault; default: `vaultAddress` for `external`, the API server's service proxy for `in-cluster-dev`.", check=checks.url, section="vault"),
    Key("vaultToken", None, "Vault token for Pulumi (secret; else `VAULT_TOKEN`). For `in-cluster-dev` it is also the dev server's root token.", secret=True, env="VAULT_TOKEN", required="a Vault token as a secret (pulumi config set --secret vaultToken ...) or VAULT_TOKEN", section="vault"),
    Key("vaultNamespace", "vault", "Namespace of the in-cluster Vault.", check=checks.dns_label, section="vault"),
    Key("vaultServiceAccount", "vault", "Service account of the in-cluster Vault (gets Vault's IRSA role).", check=checks.dns_label, section="vault"),
    Key("vaultChartVersion", DEFAULT_VAULT_CHART_VERSION, "Exact `hashicorp/vault` chart version for `in-cluster-dev`.", check=checks.chart_version(DEFAULT_VAULT_CHART_VERSION), section="vault"),
    Key("vaultAwsPrincipalArn", None, "`external`: ARN of the Vault server's own IAM role/user in this account; gets the scoped `iam:GetRole` policy.", check=checks.principal_arn, field="vault_aws_principal", section="vault"),
    Key("vaultCrossAccountPrincipalArn", None, "`external`: ARN of Vault's principal in another account; a role it assumes is created and registered with `auth/<mount>/config/sts/<account>`.", check=checks.principal_arn, field="vault_cross_account_principal", section="vault"),
    Key("authMountPath", "aws", "Mount path of Vault's aws auth method.", check=checks.mount_path, section="vault"),
    Key("kvPath", "dev", "Mount path of the kv-v2 secrets engine (Gloo's `pathPrefix`).", check=checks.mount_path, section="vault"),
    Key("adoptAuthMount", False, "Use the aws auth method already enabled at `authMountPath` instead of enabling it: never disabled by the stack; its client config and Gloo's role are still written (the client config is kept on `destroy`).", check=checks.boolean, section="vault"),
    Key("adoptKvMount", False, "Use the kv-v2 mount already at `kvPath` instead of creating it: never disabled by the stack.", check=checks.boolean, section="vault"),
    Key("kvRetainOnDelete", True, "Keep the kv-v2 mount, and every secret in it, when the stack is destroyed or the mount replaced (`protect`ed too in production).", check=checks.boolean, section="vault"),
    Key("vaultPolicyName", "dev", "Name of the Vault policy given to Gloo's token.", check=checks.vault_policy_name, section="vault"),
    Key("vaultPolicyMode", "least-privilege", "`least-privilege` (read/list under the root key) or `guide` (the guide's wider policy).", check=checks.one_of(*POLICY_MODES), section="vault"),
    Key("glooRootKey", "gloo", "Gloo's `rootKey` under the kv mount.", check=checks.vault_path, section="gloo"),
    Key("tokenMaxTtl", "24h", "Max TTL of Gloo's Vault token (`1h`, `30m`, `24h`...), at most `168h`.", check=checks.duration_seconds, field="token_max_ttl_seconds", section="vault"),
    Key("glooEdition", "oss", "`oss` (chart `gloo`) or `enterprise` (chart `gloo-ee`, needs `glooLicenseKey`).", check=checks.one_of(*EDITIONS), section="gloo"),
    Key("glooChartVersion", DEFAULT_GLOO_VERSION, "Exact Gloo chart version; 1.15.3 or later (IRSA), 1.15.19 or later (token renewal), 1.18 to 1.22 maintained.", check=_GLOO_VERSION, section="gloo"),
    Key("glooLicenseKey", None, "Gloo Edge Enterprise license key (secret; `enterprise` only).", secret=True, section="gloo"),
    Key("glooReleaseName", "gloo", "Name of the Gloo Helm release.", check=checks.helm_release_name, section="gloo"),
    Key("iamRolePath", "/", "IAM path of every role the program creates (Gloo's, and Vault's when it makes one); Vault binds Gloo's role by its unique ID, so a path does not break the login.", check=checks.iam_path, section="iam"),
    Key("iamPermissionsBoundaryArn", None, "Managed policy set as the permissions boundary of every role the program creates; it must allow Vault's role `iam:GetRole` (Gloo's role needs no permission).", check=checks.managed_policy_arn, section="iam"),
    Key("iamMaxSessionDuration", None, "Maximum session duration of every role the program creates, `1h` to `12h` (IAM's default: `1h`).", check=checks.session_seconds, field="iam_max_session_seconds", section="iam"),
    Key("awsDefaultTags", None, "Tags on every AWS resource the program creates (the AWS provider's `default_tags`), a map: `pulumi config set --path 'awsDefaultTags.team' edge`; not declared in `Pulumi.yaml`, which has no map type.", check=checks.tag_map, pulumi_type="object", section="iam"),
    Key("clusterStackRef", None, "Stack that owns the EKS cluster (`org/project/stack`): its outputs give the cluster's name, kubeconfig (kept secret) and OIDC provider, instead of `clusterName` and AWS lookups.", check=checks.stack_name, section="cluster"),
    Key("clusterStackOidc", True, "With `clusterStackRef`: take the OIDC provider ARN and issuer URL from that stack (`true`), or only the cluster's name and kubeconfig, looking the issuer up and creating the provider here (`false`).", check=checks.boolean, section="cluster"),
    Key("clusterStackOutputs", None, "With `clusterStackRef`: the names of that stack's outputs, a map of `clusterName` (the EKS cluster's name), `oidcProviderArn` and `oidcIssuerUrl` (its IAM OIDC provider and issuer URL, read with `clusterStackOidc`) and `kubeconfig` (read as a secret) to the output that holds it; each defaults to its own name: `pulumi config set --path 'clusterStackOutputs.kubeconfig' kubeconfigJson`; not declared in `Pulumi.yaml`, which has no map type.", check=checks.output_map(CLUSTER_STACK_OUTPUTS), pulumi_type="object", section="cluster"),
    Key("vaultCaCert", None, "PEM CA bundle the Vault provider verifies an `https` Vault with (`pulumi config set vaultCaCert < ca.pem`; public, not a secret).", check=checks.ca_bundle, section="vault"),
    Key("glooVaultCaCertPath", None, "Path, inside Gloo's pod, of the CA file Gloo verifies an `https` Vault with (`tlsConfig.caCert`); the Gloo chart cannot mount one on the gloo deployment, so the platform must (unset: the image's trust store).", check=checks.file_path, section="gloo"),
    Key("clusters", None, "Several EKS clusters on this stack's Vault (docs/clusters.md), a map of short names (DNS labels, at most 20 characters) to `{clusterName: <name>}` or `{clusterStackRef: <stack>}`, each optionally with `adoptOidcProvider` and `fromSingleCluster`: each cluster gets its own OIDC provider, Gloo role, Vault role and Gloo release; all share the mounts and the policy. Requires `vaultTopology: external`; replaces `clusterName`, `clusterStackRef`, `kubeconfig`, `kubeContext`, `adoptOidcProvider`.", check=cluster_map, pulumi_type="object", section="cluster"),
    Key("loginCheck", None, "Run a Job as Gloo's service account after the Vault role and the Gloo release, on every change to them, that logs in to Vault as Gloo does and lists Gloo's metadata path; `pulumi up` fails with its one-line reason (docs/troubleshooting.md, \"Verify\"); default: `true` for `in-cluster-dev`, `false` for `external`; with `glooVaultCaCertPath` it verifies Vault with `vaultCaCert`.", check=checks.boolean, pulumi_type="boolean", section="verification"),
)  # fmt: skip

"""The rules that tie keys together, in one place, and the warnings for values that work but that
users should not stay on.
"""

from __future__ import annotations

import json
from typing import Any

from components.config import checks
from components.config.checks import ConfigError
from components.config.keys import (
    CLUSTER_STACK_OUTPUTS,
    DISCOVERY_OFF_BY_DEFAULT_FROM,
    GLOO_CHART_SERVICE_ACCOUNTS,
    KEYS,
    MIN_GLOO_VERSION_FOR_RENEWAL,
)
from components.documents.iam import get_role_policy
from components.documents.vault import VAULT_RELEASE, in_cluster_vault_address
from components.project import PROGRAM_TAG_KEYS, PROJECT
from components.settings import Settings

# IAM's size limits of an inline policy (characters, whitespace not counted), for Vault's grant.
INLINE_POLICY_LIMITS = {"role": 10_240, "user": 2_048}


def required_keys(values: dict[str, Any]) -> None:
    """Each required key is set, unless the key it names (`Key.unless`) gives its value instead."""
    for key in KEYS:
        exempt = any(values[field_of(other)] is not None for other in key.unless)
        if values[key.settings_field] is None and key.required and not exempt:
            raise ConfigError(key.name, key.required)


def field_of(name: str) -> str:
    [key] = [k for k in KEYS if k.name == name]
    return key.settings_field


def cross_key_rules(values: dict[str, Any]) -> None:
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
    if values["cluster_stack_outputs"] is None:
        values["cluster_stack_outputs"] = {name: name for name in CLUSTER_STACK_OUTPUTS}
    ref = values["cluster_stack_ref"]
    if ref is None:
        return
    for key in ("clusterName", "kubeconfig"):
        if values[field_of(key)] is not None:
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
        if values[field_of(key)] is not None:
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
            "no value unless the Vault provider's address (vaultProviderAddress, or vaultAddress when external) "
            "is https",
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
    return _gloo_version_warnings(settings.gloo.chart_version) + _gloo_oss_end_of_life(settings)


def _gloo_version_warnings(version: str) -> list[str]:
    if checks.is_prerelease(version):
        return [f"{PROJECT}:glooChartVersion: {version} is a pre-release; pin a release for anything but trials"]
    if checks.parse_semver(version) < MIN_GLOO_VERSION_FOR_RENEWAL:
        return [
            f"{PROJECT}:glooChartVersion: Gloo {version} never renews its Vault token and loses its secrets "
            f"after tokenMaxTtl; use 1.15.19 or later"
        ]
    return []


def _gloo_oss_end_of_life(settings: Settings) -> list[str]:
    """Gloo Edge OSS gets no releases, bug fixes or security patches after 2026-12-31 (solo-io/gloo
    README, main and v1.22.1): production is told; the dev stack stays on OSS to try the guide."""
    if settings.gloo.edition != "oss" or not settings.production:
        return []
    return [
        f"{PROJECT}:glooEdition: Gloo Edge OSS reaches end of life on 2026-12-31: no releases, bug fixes or "
        "security patches after it; use glooEdition: enterprise in production "
        '(docs/configuration.md, "Gloo Edge OSS end of life")'
    ]

"""Stack configuration: every key, its default (the guide's value) and its validation.

Everything here is plain Python so it can be tested without Pulumi's engine. `load_settings`
reads the whole stack config up front and raises `ConfigError` (a `pulumi.RunError`, which
Pulumi prints as one line without a stack trace) before a single resource is registered, so
bad input can never leave a half-applied deployment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.documents import in_cluster_vault_address

PROJECT = "gloo-vault-irsa"

# Gloo before 1.15.3 required static AWS keys for Vault's aws auth (no IRSA); before 1.15.19 it
# never renews its Vault token, so with a 24h max TTL it loses its secrets after a day.
MIN_GLOO_VERSION_FOR_IRSA = (1, 15, 3)
DEFAULT_GLOO_VERSION = "1.15.19"
DEFAULT_VAULT_CHART_VERSION = "0.29.1"

GLOO_OSS_CHART = ("gloo", "https://storage.googleapis.com/solo-public-helm")
GLOO_EE_CHART = ("gloo-ee", "https://storage.googleapis.com/gloo-ee-helm")
VAULT_CHART = ("vault", "https://helm.releases.hashicorp.com")

TOPOLOGIES = ("in-cluster-dev", "external")
EDITIONS = ("oss", "enterprise")
POLICY_MODES = ("least-privilege", "guide")
ENVIRONMENTS = ("development", "production")

# Every AWS region (commercial, China, GovCloud) as of 2026; an unknown name is a typo, and a
# typo here would silently point STS verification at a region that does not exist.
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
        "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
        "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1",
        "us-gov-west-1", "us-west-1", "us-west-2",
    }
)  # fmt: skip

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# re.ASCII: IAM names are ASCII; without it \w would accept any Unicode letter.
_IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):(role|user)/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$", re.ASCII
)
_VAULT_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_EKS_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HTTP_URL = re.compile(rf"^https?://{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::\d{{1,5}})?(?:/\S*)?$", re.ASCII)
_VAULT_POLICY_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$")
# Vault's built-in policies: `root` cannot be written, and writing `default` would hand Gloo's
# rights to every token Vault issues.
_RESERVED_VAULT_POLICIES = ("root", "default")
_HELM_RELEASE_NAME_MAX = 53
MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600
"""Gloo renews its token (1.15.19+), so a long max TTL buys nothing but a longer-lived leak; the
policy pack holds every stack to the same bound."""
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ConfigError(pulumi.RunError):
    """Bad stack config: one line naming the key and what is expected."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"{PROJECT}:{key}: expected {expected}")
        self.key = key


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

    cluster_name: str
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
    vault_token: pulumi.Output[str] | None
    vault_namespace: str
    vault_service_account: str
    vault_chart_version: str
    vault_aws_principal_arn: str | None
    vault_cross_account_principal_arn: str | None
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
    """One config key: its name, default and a one-line description for the README."""

    name: str
    default: Any
    description: str
    secret: bool = False


# The documented contract; README's config table and Pulumi.yaml's config block mirror it
# (tests/test_config.py keeps the three in step).
KEYS: tuple[Key, ...] = (
    Key("clusterName", None, "Name of the existing EKS cluster (required)."),
    Key("region", "us-east-1", "AWS region of the cluster, IAM/STS calls and Vault's STS verification."),
    Key("environment", "development", "`development` or `production`; `production` (as does a stack named `prod`/`production`) makes the policy pack refuse a dev-mode Vault and plain-http Vault access."),
    Key("adoptOidcProvider", False, "Look up the cluster's existing IAM OIDC provider instead of creating it."),
    Key("kubeconfig", None, "Kubeconfig path or contents to use instead of the cluster's endpoint and `aws eks get-token`."),
    Key("kubeContext", None, "Context inside `kubeconfig` to use."),
    Key("glooNamespace", "gloo-system", "Namespace of the Gloo release and its service accounts."),
    Key("glooServiceAccounts", ["gloo", "discovery"], "Service accounts allowed to assume the Gloo role (non-empty list)."),
    Key("iamServerIdHeader", "vault.gloo.example.com", "`X-Vault-AWS-IAM-Server-ID` value; Vault requires it and Gloo signs it."),
    Key("vaultTopology", "in-cluster-dev", "`in-cluster-dev` (the guide's dev-mode Vault chart) or `external` (an existing Vault)."),
    Key("vaultAddress", None, "Address Gloo uses to reach Vault; default for `in-cluster-dev`: `http://vault-internal.<vaultNamespace>:8200` (the guide's); required for `external`."),
    Key("vaultProviderAddress", None, "Address Pulumi uses to reach Vault; default: `vaultAddress` for `external`, the API server's service proxy for `in-cluster-dev`."),
    Key("vaultToken", None, "Vault token for Pulumi (secret; else `VAULT_TOKEN`). For `in-cluster-dev` it is also the dev server's root token.", secret=True),
    Key("vaultNamespace", "vault", "Namespace of the in-cluster Vault."),
    Key("vaultServiceAccount", "vault", "Service account of the in-cluster Vault (gets Vault's IRSA role)."),
    Key("vaultChartVersion", DEFAULT_VAULT_CHART_VERSION, "Exact `hashicorp/vault` chart version for `in-cluster-dev`."),
    Key("vaultAwsPrincipalArn", None, "`external`: ARN of the Vault server's own IAM role/user in this account; gets the scoped `iam:GetRole` policy."),
    Key("vaultCrossAccountPrincipalArn", None, "`external`: ARN of Vault's principal in another account; a role it assumes is created and registered with `auth/<mount>/config/sts/<account>`."),
    Key("authMountPath", "aws", "Mount path of Vault's aws auth method."),
    Key("kvPath", "dev", "Mount path of the kv-v2 secrets engine (Gloo's `pathPrefix`)."),
    Key("vaultPolicyName", "dev", "Name of the Vault policy given to Gloo's token."),
    Key("vaultPolicyMode", "least-privilege", "`least-privilege` (read/list under the root key) or `guide` (the guide's wider policy)."),
    Key("glooRootKey", "gloo", "Gloo's `rootKey` under the kv mount."),
    Key("tokenMaxTtl", "24h", "Max TTL of Gloo's Vault token (`1h`, `30m`, `24h`...), at most `168h`."),
    Key("glooEdition", "oss", "`oss` (chart `gloo`) or `enterprise` (chart `gloo-ee`, needs `glooLicenseKey`)."),
    Key("glooChartVersion", DEFAULT_GLOO_VERSION, "Exact Gloo chart version; 1.15.3 or later (IRSA), 1.15.19 or later recommended (token renewal)."),
    Key("glooLicenseKey", None, "Gloo Edge Enterprise license key (secret; `enterprise` only).", secret=True),
    Key("glooReleaseName", "gloo", "Name of the Gloo Helm release."),
)  # fmt: skip

_DEFAULTS: dict[str, Any] = {k.name: k.default for k in KEYS}


def sts_endpoint(region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def parse_semver(version: str) -> tuple[int, int, int]:
    m = _SEMVER.match(version)
    if not m:
        raise ValueError(version)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def parse_duration(text: str) -> int:
    """`24h`, `90m`, `1h30m`, `3600s` or plain seconds → seconds; Vault's own duration syntax."""
    if text.isdigit():
        return int(text)
    m = _DURATION.match(text)
    if not text or not m:
        raise ValueError(text)
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


class _Reader:
    """Reads raw values with defaults; `get` stands for `pulumi.Config.get`."""

    def __init__(self, get: Callable[[str], str | None]) -> None:
        self._get = get

    def text(self, key: str) -> str | None:
        raw = self._get(key)
        if raw is None or raw == "":
            default = _DEFAULTS[key]
            return None if default is None else str(default)
        return raw

    def required(self, key: str, expected: str) -> str:
        value = self.text(key)
        if value is None:
            raise ConfigError(key, expected)
        return value

    def flag(self, key: str) -> bool:
        raw = self._get(key)
        if raw is None or raw == "":
            return bool(_DEFAULTS[key])
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ConfigError(key, "true or false")

    def string_list(self, key: str) -> list[str]:
        raw = self._get(key)
        if raw is None or raw == "":
            return list(_DEFAULTS[key])
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(key, "a list of strings") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, "a list of strings")
        return value


def _one_of(key: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ConfigError(key, "one of " + ", ".join(choices) + f" (got {value!r})")
    return value


def _dns_label(key: str, value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ConfigError(key, f"a DNS-1123 label (lowercase alphanumerics and '-', at most 63) (got {value!r})")
    return value


def _vault_policy_name(key: str, value: str) -> str:
    if not _VAULT_POLICY_NAME.match(value) or value in _RESERVED_VAULT_POLICIES:
        raise ConfigError(
            key, f"a Vault policy name (lowercase alphanumerics and '_.-'), not root or default (got {value!r})"
        )
    return value


def _helm_release_name(key: str, value: str) -> str:
    if len(value) > _HELM_RELEASE_NAME_MAX or not _DNS1123_LABEL.match(value):
        raise ConfigError(key, f"a Helm release name (lowercase alphanumerics and '-', at most 53) (got {value!r})")
    return value


def _url(key: str, value: str | None) -> str | None:
    if value is not None and not _HTTP_URL.match(value):
        raise ConfigError(key, f"an http(s) URL such as http://vault.vault:8200 (got {value!r})")
    return value


def _principal_arn(key: str, value: str | None) -> str | None:
    if value is not None and not _IAM_PRINCIPAL_ARN.match(value):
        raise ConfigError(key, f"an IAM role or user ARN, arn:aws:iam::<12 digits>:role/<name> (got {value!r})")
    return value


def _vault_path(key: str, value: str) -> str:
    if not _VAULT_PATH.match(value.strip("/")):
        raise ConfigError(
            key, f"a Vault path such as 'dev' (letters, digits, '_.-', '/' between parts) (got {value!r})"
        )
    return value.strip("/")


def _chart_version(key: str, value: str, minimum: tuple[int, int, int] | None = None) -> str:
    try:
        parsed = parse_semver(value)
    except ValueError:
        raise ConfigError(key, f"an exact semver chart version such as {_DEFAULTS[key]} (got {value!r})") from None
    # A pre-release of the minimum (1.15.3-beta1) precedes it in semver order, so it is too old too.
    match = _SEMVER.match(value)
    prerelease = match.group(4) if match else None
    if minimum and (parsed < minimum or (parsed == minimum and prerelease)):
        floor = ".".join(map(str, minimum))
        raise ConfigError(key, f"{floor} or later: earlier Gloo cannot log in to Vault with IRSA (got {value!r})")
    return value.lstrip("v")


def parse_settings(
    get: Callable[[str], str | None],
    secret: Callable[[str], pulumi.Output[str] | None],
    env: Mapping[str, str],
) -> Settings:
    """Validates every key; raises `ConfigError` on the first bad one."""
    r = _Reader(get)

    cluster_name = r.required("clusterName", "the name of an existing EKS cluster")
    if not _EKS_CLUSTER_NAME.match(cluster_name):
        raise ConfigError(
            "clusterName", f"an EKS cluster name (letters, digits, '-', '_', at most 100) (got {cluster_name!r})"
        )
    region = r.required("region", "an AWS region")
    if region not in AWS_REGIONS:
        raise ConfigError("region", f"a known AWS region such as us-east-1 (got {region!r})")

    gloo_namespace = _dns_label("glooNamespace", r.required("glooNamespace", "a namespace"))
    accounts = r.string_list("glooServiceAccounts")
    if not accounts:
        raise ConfigError("glooServiceAccounts", "a non-empty list of service account names")
    for sa in accounts:
        _dns_label("glooServiceAccounts", sa)
    if len(set(accounts)) != len(accounts):
        raise ConfigError("glooServiceAccounts", "service account names without duplicates")

    header = r.required("iamServerIdHeader", "a header value")
    if not header or any(c.isspace() for c in header) or not header.isprintable():
        raise ConfigError("iamServerIdHeader", f"a header value without whitespace (got {header!r})")

    topology = _one_of("vaultTopology", r.required("vaultTopology", "a topology"), TOPOLOGIES)
    vault_namespace = _dns_label("vaultNamespace", r.required("vaultNamespace", "a namespace"))
    vault_address = _url("vaultAddress", r.text("vaultAddress"))
    if vault_address is None:
        if topology == "external":
            raise ConfigError("vaultAddress", "the address of the existing Vault when vaultTopology is external")
        vault_address = in_cluster_vault_address(vault_namespace)
    provider_address = _url("vaultProviderAddress", r.text("vaultProviderAddress"))

    token = secret("vaultToken")
    if token is None and env.get("VAULT_TOKEN"):
        token = pulumi.Output.secret(env["VAULT_TOKEN"])
    if token is None:
        raise ConfigError(
            "vaultToken", "a Vault token as a secret (pulumi config set --secret vaultToken ...) or VAULT_TOKEN"
        )

    principal = _principal_arn("vaultAwsPrincipalArn", r.text("vaultAwsPrincipalArn"))
    cross = _principal_arn("vaultCrossAccountPrincipalArn", r.text("vaultCrossAccountPrincipalArn"))
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

    ttl_text = r.required("tokenMaxTtl", "a duration")
    try:
        ttl = parse_duration(ttl_text)
    except ValueError:
        raise ConfigError("tokenMaxTtl", f"a duration such as 24h, 90m or 3600s (got {ttl_text!r})") from None
    if not 60 <= ttl <= MAX_TOKEN_TTL_SECONDS:
        raise ConfigError("tokenMaxTtl", f"between 1m and 168h (got {ttl_text!r})")

    edition = _one_of("glooEdition", r.required("glooEdition", "an edition"), EDITIONS)
    license_key = secret("glooLicenseKey")
    if edition == "enterprise" and license_key is None:
        raise ConfigError("glooLicenseKey", "a license key as a secret when glooEdition is enterprise")

    kube_context = r.text("kubeContext")
    kubeconfig = r.text("kubeconfig")
    if kube_context and not kubeconfig:
        raise ConfigError("kubeContext", "to be set only together with kubeconfig")

    return Settings(
        cluster_name=cluster_name,
        region=region,
        environment=_one_of("environment", r.required("environment", "an environment"), ENVIRONMENTS),
        adopt_oidc_provider=r.flag("adoptOidcProvider"),
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        gloo_namespace=gloo_namespace,
        gloo_service_accounts=tuple(accounts),
        iam_server_id_header=header,
        vault_topology=topology,
        vault_address=vault_address,
        vault_provider_address=provider_address,
        vault_token=token,
        vault_namespace=vault_namespace,
        vault_service_account=_dns_label("vaultServiceAccount", r.required("vaultServiceAccount", "a name")),
        vault_chart_version=_chart_version("vaultChartVersion", r.required("vaultChartVersion", "a version")),
        vault_aws_principal_arn=principal,
        vault_cross_account_principal_arn=cross,
        auth_mount_path=_vault_path("authMountPath", r.required("authMountPath", "a path")),
        kv_path=_vault_path("kvPath", r.required("kvPath", "a path")),
        vault_policy_name=_vault_policy_name("vaultPolicyName", r.required("vaultPolicyName", "a name")),
        vault_policy_mode=_one_of("vaultPolicyMode", r.required("vaultPolicyMode", "a mode"), POLICY_MODES),
        gloo_root_key=_vault_path("glooRootKey", r.required("glooRootKey", "a key")),
        token_max_ttl_seconds=ttl,
        gloo_edition=edition,
        gloo_chart_version=_chart_version(
            "glooChartVersion", r.required("glooChartVersion", "a version"), MIN_GLOO_VERSION_FOR_IRSA
        ),
        gloo_license_key=license_key,
        gloo_release_name=_helm_release_name("glooReleaseName", r.required("glooReleaseName", "a name")),
    )


def load_settings() -> Settings:
    """Reads the current stack's config (project namespace) and the process environment."""
    config = pulumi.Config(PROJECT)
    return parse_settings(config.get, config.get_secret, os.environ)

"""Gloo layer: the Gloo Edge Helm release, reading its secrets from Vault with IRSA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.documents.gloo import gloo_helm_values, gloo_vault_source
from components.project import HELM_TIMEOUT_SECONDS
from components.settings import Settings


@dataclass
class GlooReleaseArgs:
    release_name: str
    """Helm release name (config `glooReleaseName`)."""
    namespace: str
    """Namespace of the release and of Gloo's service accounts (config `glooNamespace`)."""
    chart: str
    """`gloo` or `gloo-ee` (config `glooEdition`)."""
    repository: str
    """The chart's Helm repository (config `glooEdition`)."""
    chart_version: str
    """Exact chart version (config `glooChartVersion`)."""
    enterprise: bool
    """Enterprise nests Gloo's values under `gloo` and adds the license."""
    vault_address: str
    """The address Gloo reaches Vault at (config `vaultAddress`)."""
    iam_server_id_header: str
    """The header value Gloo signs (config; Vault's client config requires the same)."""
    auth_mount_path: pulumi.Input[str]
    """The aws auth mount (Vault layer output)."""
    region: str
    """The region Gloo signs its login for (config; Vault verifies in the same)."""
    kv_path: pulumi.Input[str]
    """The kv-v2 mount (Vault layer output): Gloo's `pathPrefix`."""
    root_key: str
    """Gloo's `rootKey` under the mount (config `glooRootKey`)."""
    vault_role: pulumi.Input[str]
    """The Vault role's name output: the release waits for the role Gloo logs in with, and only it."""
    role_arn: pulumi.Input[str]
    """The Gloo IRSA role (IAM layer), annotated on Gloo's service accounts."""
    service_accounts: Sequence[str]
    """Gloo's service accounts that get the role, exactly those its trust policy names (config)."""
    license_key: pulumi.Input[str] | None = None
    """Enterprise license (secret config `glooLicenseKey`)."""
    vault_ca_cert_path: str | None = None
    """The CA file, inside Gloo's pod, Gloo verifies Vault with (config `glooVaultCaCertPath`)."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        role_arn: pulumi.Input[str],
        vault_role: pulumi.Input[str],
        auth_mount_path: pulumi.Input[str],
        kv_path: pulumi.Input[str],
    ) -> GlooReleaseArgs:
        """The `gloo` section, plus what Gloo must agree on with Vault (header, region, address)."""
        gloo = settings.gloo
        chart, repository = gloo.chart
        return cls(
            release_name=gloo.release_name,
            namespace=gloo.namespace,
            chart=chart,
            repository=repository,
            chart_version=gloo.chart_version,
            enterprise=gloo.edition == "enterprise",
            vault_address=settings.vault.address,
            iam_server_id_header=settings.vault.iam_server_id_header,
            auth_mount_path=auth_mount_path,
            region=settings.region,
            kv_path=kv_path,
            root_key=gloo.root_key,
            vault_role=vault_role,
            role_arn=role_arn,
            service_accounts=gloo.service_accounts,
            license_key=gloo.license_key,
            vault_ca_cert_path=gloo.vault_ca_cert_path,
        )


class GlooRelease(pulumi.ComponentResource):
    """The guide's `helm install gloo gloo/gloo --values helm-overrides.yaml`."""

    release: k8s.helm.v3.Release
    name: pulumi.Output[str | None]
    namespace: pulumi.Output[str | None]
    chart_version: pulumi.Output[str | None]
    vault_source: pulumi.Output[dict[str, Any]]
    """Gloo's Vault settings exactly as in its values, known once the release is deployed."""

    def __init__(self, name: str, args: GlooReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:gloo:GlooRelease", name, None, opts)
        source = pulumi.Output.all(
            auth_mount_path=args.auth_mount_path, kv_path=args.kv_path, vault_role=args.vault_role
        ).apply(
            lambda a: gloo_vault_source(
                vault_address=args.vault_address,
                iam_server_id_header=args.iam_server_id_header,
                region=args.region,
                root_key=args.root_key,
                vault_ca_cert_path=args.vault_ca_cert_path,
                **a,
            )
        )
        values = pulumi.Output.all(vault=source, role_arn=args.role_arn, license_key=args.license_key).apply(
            lambda a: gloo_helm_values(enterprise=args.enterprise, service_accounts=args.service_accounts, **a)
        )
        self.release = k8s.helm.v3.Release(
            name,
            name=args.release_name,
            chart=args.chart,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.repository),
            namespace=args.namespace,
            create_namespace=True,
            timeout=HELM_TIMEOUT_SECONDS,
            values=values,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.release.name
        self.namespace = self.release.namespace
        self.chart_version = self.release.version
        self.vault_source = pulumi.Output.all(source=source, deployed=self.release.status).apply(lambda a: a["source"])
        self.register_outputs({"name": self.name, "namespace": self.namespace, "chart_version": self.chart_version})

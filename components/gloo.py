"""Gloo layer: the Gloo Edge Helm release, reading its secrets from Vault with IRSA."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.documents import gloo_helm_values


@dataclass
class GlooReleaseArgs:
    release_name: str
    namespace: str
    chart: str
    repository: str
    chart_version: str
    enterprise: bool
    vault_address: str
    iam_server_id_header: str
    auth_mount_path: pulumi.Input[str]
    region: str
    kv_path: pulumi.Input[str]
    root_key: str
    vault_role: pulumi.Input[str]
    """The Vault role's name output: the release waits for the role Gloo logs in with, and only it."""
    role_arn: pulumi.Input[str]
    license_key: pulumi.Input[str] | None = None


class GlooRelease(pulumi.ComponentResource):
    """The guide's `helm install gloo gloo/gloo --values helm-overrides.yaml`."""

    release: k8s.helm.v3.Release
    name: pulumi.Output[str | None]
    namespace: pulumi.Output[str | None]
    chart_version: pulumi.Output[str | None]

    def __init__(self, name: str, args: GlooReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:gloo:GlooRelease", name, None, opts)
        values = pulumi.Output.all(
            args.auth_mount_path, args.kv_path, args.vault_role, args.role_arn, args.license_key
        ).apply(
            lambda a: gloo_helm_values(
                enterprise=args.enterprise,
                vault_address=args.vault_address,
                iam_server_id_header=args.iam_server_id_header,
                auth_mount_path=a[0],
                region=args.region,
                kv_path=a[1],
                root_key=args.root_key,
                vault_role=a[2],
                role_arn=a[3],
                license_key=a[4],
            )
        )
        self.release = k8s.helm.v3.Release(
            name,
            name=args.release_name,
            chart=args.chart,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.repository),
            namespace=args.namespace,
            create_namespace=True,
            values=values,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.release.name
        self.namespace = self.release.namespace
        self.chart_version = self.release.version
        self.register_outputs({"name": self.name, "namespace": self.namespace, "chart_version": self.chart_version})

"""The `in-cluster-dev` topology: the guide's dev-mode Vault chart, and how Pulumi reaches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault

from components.cluster import EksOidcCluster
from components.documents.iam import irsa_annotations
from components.documents.vault import VAULT_CHART, VAULT_RELEASE, vault_dev_helm_values
from components.project import HELM_TIMEOUT_SECONDS
from components.settings import Settings
from components.vault_provider import vault_provider, vault_provider_via_api_server


@dataclass
class InClusterVaultArgs:
    namespace: str
    """Namespace of the Vault release (config `vaultNamespace`)."""
    service_account: str
    """Vault's service account, created here with Vault's IRSA role (config `vaultServiceAccount`)."""
    chart_version: str
    """Exact `hashicorp/vault` chart version (config `vaultChartVersion`)."""
    root_token: pulumi.Input[str]
    """The dev server's root token: the stack's `vaultToken` secret."""
    role_arn: pulumi.Input[str]
    """Vault's own IRSA role (IAM layer), which resolves the roles its aws auth binds."""

    @classmethod
    def from_settings(cls, settings: Settings, *, role_arn: pulumi.Input[str]) -> InClusterVaultArgs:
        """The `vault` section's in-cluster keys; its root token is Pulumi's Vault token."""
        vault = settings.vault
        return cls(
            namespace=vault.namespace,
            service_account=vault.service_account,
            chart_version=vault.chart_version,
            root_token=vault.token,
            role_arn=role_arn,
        )


class InClusterVault(pulumi.ComponentResource):
    """The guide's `helm install vault hashicorp/vault --set server.dev.enabled=true`.

    Dev mode keeps everything in memory and unseals with a root token: for trying the guide
    only. Its service is ClusterIP, so nothing outside the cluster reaches it.
    """

    release: k8s.helm.v3.Release
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: InClusterVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:vault:InClusterVault", name, None, opts)
        self._namespace = args.namespace
        namespace = k8s.core.v1.Namespace(
            name, metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=pulumi.ResourceOptions(parent=self)
        )
        account = self._service_account(name, args, namespace)
        values: pulumi.Output[dict[str, Any]] = pulumi.Output.all(
            root_token=args.root_token, service_account=account.metadata.name
        ).apply(lambda a: vault_dev_helm_values(**a))
        chart, repo = VAULT_CHART
        self.release = k8s.helm.v3.Release(
            name,
            name=VAULT_RELEASE,
            chart=chart,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
            namespace=namespace.metadata.name,
            create_namespace=False,
            timeout=HELM_TIMEOUT_SECONDS,
            values=pulumi.Output.secret(values),  # type: ignore[arg-type]  # the dev root token is in them
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = self.release.status.namespace
        self.register_outputs({"namespace": self.namespace})

    def _service_account(
        self, name: str, args: InClusterVaultArgs, namespace: k8s.core.v1.Namespace
    ) -> k8s.core.v1.ServiceAccount:
        """The account Vault runs as, with its IRSA role: the chart drops these annotations in dev mode."""
        return k8s.core.v1.ServiceAccount(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.service_account,
                namespace=namespace.metadata.name,
                annotations=pulumi.Output.from_input(args.role_arn).apply(irsa_annotations),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def provider(
        self,
        name: str,
        *,
        cluster: EksOidcCluster,
        token: pulumi.Input[str],
        token_name: str,
        address: str | None,
        ca_pem: str | None = None,
        parent: pulumi.Resource | None = None,
    ) -> vault.Provider:
        """Pulumi's way in: the API server's service proxy, or `address` (e.g. a port-forward,
        verified with `ca_pem` when it is https).

        Either way the provider waits for the release, so Vault is up before it is configured.
        """
        if address:
            return vault_provider(
                name,
                address=address,
                token=token,
                token_name=token_name,
                ca_pem=ca_pem,
                depends_on=[self.release],
                parent=parent,
            )
        return vault_provider_via_api_server(
            name,
            cluster_name=cluster.cluster_name,
            endpoint=cluster.endpoint,
            ca_data=cluster.certificate_authority,
            bearer_token=cluster.api_token(),
            namespace=self._namespace,
            token=token,
            token_name=token_name,
            vault_release=self.release,
            parent=parent,
        )

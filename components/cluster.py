"""Cluster layer: the EKS cluster's OIDC identity in IAM, and a Kubernetes provider for it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.documents.cluster import STS_AUDIENCE, eks_kubeconfig, issuer_host
from components.project import CLUSTER_TAG
from components.settings import Settings


@dataclass
class EksOidcClusterArgs:
    cluster_name: pulumi.Input[str]
    """The existing EKS cluster (config `clusterName`, or the cluster's stack's output)."""
    region: pulumi.Input[str]
    """Its region (config `region`), for `aws eks get-token` in the kubeconfig."""
    existing_oidc_provider_arn: pulumi.Input[str] | None = None
    """The provider eksctl or another stack already made (`adoptOidcProvider`, looked up by
    `preflight`, or the cluster's stack's output): used as it is, never duplicated, never deleted."""
    oidc_issuer_url: pulumi.Input[str] | None = None
    """The issuer as the cluster's stack exports it; None: read from the cluster (EKS lookup)."""
    kubeconfig: pulumi.Input[str] | None = None
    """A kubeconfig to use instead of one built from the cluster (config `kubeconfig`, or the
    cluster's stack's output)."""
    kube_context: pulumi.Input[str] | None = None
    """The context inside `kubeconfig` (config `kubeContext`)."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The OIDC provider's own tags (on top of the AWS provider's default tags)."""
    protect: bool = False
    """Production: a provider created here cannot be deleted without unprotecting it first."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cluster_name: pulumi.Input[str],
        existing_oidc_provider_arn: pulumi.Input[str] | None,
        oidc_issuer_url: pulumi.Input[str] | None,
        kubeconfig: pulumi.Input[str] | None,
        kube_context: str | None,
    ) -> EksOidcClusterArgs:
        """A cluster of this stack: in its region, tagged with its name, protected in production."""
        return cls(
            cluster_name=cluster_name,
            region=settings.region,
            existing_oidc_provider_arn=existing_oidc_provider_arn,
            oidc_issuer_url=oidc_issuer_url,
            kubeconfig=kubeconfig,
            kube_context=kube_context,
            tags={CLUSTER_TAG: cluster_name},
            protect=settings.production,
        )


class EksOidcCluster(pulumi.ComponentResource):
    """Replaces `eksctl utils associate-iam-oidc-provider` and `aws eks update-kubeconfig`.

    The issuer is read from the cluster (or from the stack that made it), never typed in, so
    trust policies cannot name the wrong cluster.
    """

    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    k8s_provider: k8s.Provider
    cluster_name: pulumi.Input[str]

    def __init__(self, name: str, args: EksOidcClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:cluster:EksOidcCluster", name, None, opts)
        self.cluster_name = args.cluster_name
        self._lookup: pulumi.Output[aws.eks.GetClusterResult] | None = None
        if args.oidc_issuer_url is not None:
            self.oidc_issuer_url = pulumi.Output.from_input(args.oidc_issuer_url)
        else:
            self.oidc_issuer_url = self._cluster().identities[0].oidcs[0].issuer
        self.oidc_issuer = self.oidc_issuer_url.apply(issuer_host)

        if args.existing_oidc_provider_arn is not None:
            self.oidc_provider_arn = pulumi.Output.from_input(args.existing_oidc_provider_arn)
        else:
            # No thumbprints: IAM verifies EKS issuers against its own trusted CAs.
            provider = aws.iam.OpenIdConnectProvider(
                name,
                url=self.oidc_issuer_url,
                client_id_lists=[STS_AUDIENCE],
                tags=dict(args.tags) or None,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.oidc_provider_arn = provider.arn

        self.k8s_provider = k8s.Provider(
            name,
            kubeconfig=args.kubeconfig if args.kubeconfig is not None else self._built_kubeconfig(args.region),
            context=args.kube_context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer_url": self.oidc_issuer_url,
                "oidc_issuer": self.oidc_issuer,
            }
        )

    def _cluster(self) -> pulumi.Output[aws.eks.GetClusterResult]:
        """The EKS cluster, looked up by name once, and only when something needs it."""
        if self._lookup is None:
            self._lookup = aws.eks.get_cluster_output(
                name=self.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self)
            )
        return self._lookup

    def _built_kubeconfig(self, region: pulumi.Input[str]) -> pulumi.Output[str]:
        """A kubeconfig from the cluster's endpoint and CA that authenticates with `aws eks get-token`."""
        return pulumi.Output.all(
            cluster_name=self.cluster_name,
            endpoint=self.endpoint,
            ca_data=self.certificate_authority,
            region=region,
        ).apply(lambda a: json.dumps(eks_kubeconfig(**a)))

    @property
    def endpoint(self) -> pulumi.Output[str]:
        """The cluster's API server URL (EKS lookup)."""
        return self._cluster().endpoint

    @property
    def certificate_authority(self) -> pulumi.Output[str]:
        """The cluster's CA, base64 PEM (EKS lookup)."""
        return self._cluster().certificate_authorities[0].data

    def api_token(self) -> pulumi.Output[str]:
        """A short-lived EKS bearer token (`aws eks get-token`) for the cluster's API server."""
        auth = aws.eks.get_cluster_auth_output(name=self.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        return auth.token

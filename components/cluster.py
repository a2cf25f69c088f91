"""Cluster layer: the EKS cluster's OIDC identity in IAM, and a Kubernetes provider for it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.documents import STS_AUDIENCE, eks_kubeconfig, issuer_host


@dataclass
class EksOidcClusterArgs:
    cluster_name: str
    """The existing EKS cluster (config `clusterName`)."""
    region: pulumi.Input[str]
    """Its region (config `region`), for `aws eks get-token` in the kubeconfig."""
    existing_oidc_provider_arn: str | None = None
    """The provider eksctl or another stack already made (`adoptOidcProvider`, looked up by
    `preflight`): used as it is, never duplicated, never deleted."""
    kubeconfig: pulumi.Input[str] | None = None
    """A kubeconfig to use instead of one built from the cluster (config `kubeconfig`)."""
    kube_context: pulumi.Input[str] | None = None
    """The context inside `kubeconfig` (config `kubeContext`)."""


class EksOidcCluster(pulumi.ComponentResource):
    """Replaces `eksctl utils associate-iam-oidc-provider` and `aws eks update-kubeconfig`.

    The issuer is read from the cluster, never typed in, so trust policies cannot name the
    wrong cluster.
    """

    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    k8s_provider: k8s.Provider
    cluster_name: str

    def __init__(self, name: str, args: EksOidcClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:cluster:EksOidcCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.cluster_name = args.cluster_name
        cluster = aws.eks.get_cluster_output(name=args.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        self.oidc_issuer_url = cluster.identities[0].oidcs[0].issuer
        self.oidc_issuer = self.oidc_issuer_url.apply(issuer_host)
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authorities[0].data

        if args.existing_oidc_provider_arn is not None:
            self.oidc_provider_arn = pulumi.Output.from_input(args.existing_oidc_provider_arn)
        else:
            # No thumbprints: IAM verifies EKS issuers against its own trusted CAs.
            provider = aws.iam.OpenIdConnectProvider(
                name,
                url=self.oidc_issuer_url,
                client_id_lists=[STS_AUDIENCE],
                tags={"eks-cluster": args.cluster_name},
                opts=child,
            )
            self.oidc_provider_arn = provider.arn

        if args.kubeconfig is not None:
            kubeconfig: pulumi.Input[str] = args.kubeconfig
        else:
            kubeconfig = pulumi.Output.all(
                cluster_name=args.cluster_name,
                endpoint=self.endpoint,
                ca_data=self.certificate_authority,
                region=args.region,
            ).apply(lambda a: json.dumps(eks_kubeconfig(**a)))
        self.k8s_provider = k8s.Provider(name, kubeconfig=kubeconfig, context=args.kube_context, opts=child)

        self.register_outputs(
            {
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer_url": self.oidc_issuer_url,
                "oidc_issuer": self.oidc_issuer,
                "endpoint": self.endpoint,
            }
        )

    def api_token(self) -> pulumi.Output[str]:
        """A short-lived EKS bearer token (`aws eks get-token`) for the cluster's API server."""
        auth = aws.eks.get_cluster_auth_output(name=self.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        return auth.token

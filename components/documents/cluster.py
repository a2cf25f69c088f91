"""Pure builders for the cluster layer: the issuer as IAM's conditions name it, and a
kubeconfig for an EKS cluster.
"""

from __future__ import annotations

from typing import Any

STS_AUDIENCE = "sts.amazonaws.com"


def issuer_host(issuer_url: str) -> str:
    """`https://oidc.eks.../id/X` → `oidc.eks.../id/X`: the form IAM condition keys use."""
    for scheme in ("https://", "http://"):
        if issuer_url.startswith(scheme):
            return issuer_url[len(scheme) :].rstrip("/")
    return issuer_url.rstrip("/")


def eks_kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig that authenticates with `aws eks get-token`, as `aws eks update-kubeconfig` writes."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }

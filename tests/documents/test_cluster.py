"""components/documents/cluster.py: the issuer's host and the kubeconfig, against the guide's."""

from __future__ import annotations

import pytest

from components.documents.cluster import eks_kubeconfig, issuer_host


@pytest.mark.parametrize(
    ("issuer", "host"),
    [
        ("https://oidc.eks.eu-west-1.amazonaws.com/id/X", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
        ("oidc.eks.eu-west-1.amazonaws.com/id/X", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
        ("https://oidc.eks.eu-west-1.amazonaws.com/id/X/", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
    ],
)
def test_issuer_host_strips_scheme_like_the_guides_sed(issuer: str, host: str) -> None:
    assert issuer_host(issuer) == host


def test_kubeconfig_authenticates_with_aws_eks_get_token() -> None:
    config = eks_kubeconfig(cluster_name="edge", endpoint="https://api.example", ca_data="Q0E=", region="eu-west-1")
    current = config["current-context"]
    [context] = [c["context"] for c in config["contexts"] if c["name"] == current]
    [cluster] = [c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]]
    [user] = [u["user"] for u in config["users"] if u["name"] == context["user"]]
    assert cluster == {"server": "https://api.example", "certificate-authority-data": "Q0E="}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == ["eks", "get-token", "--cluster-name", "edge", "--region", "eu-west-1"]
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"

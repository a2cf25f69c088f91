"""Pure builders for the IAM layer: the IRSA and assume-role trust policies, Vault's `iam:GetRole`
grant, and the service-account annotations that hand a role to a pod.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.documents.cluster import STS_AUDIENCE, issuer_host

IAM_VERSION = "2012-10-17"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# The EKS pod identity webhook turns this into AWS_STS_REGIONAL_ENDPOINTS=regional, so the pod's
# STS calls (aws-sdk-go v1.34.9 in Gloo) go to its region's endpoint, not the global one, whatever
# the cluster's default. Gloo's login stays signed for its configured `region` either way.
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, subjects: Sequence[str]) -> dict[str, Any]:
    """Trust for `AssumeRoleWithWebIdentity` from one OIDC provider and exactly these subjects.

    `StringEquals` on both keys (the guide's `StringEqualsIfExists` would let a token without
    a `sub` or `aud` claim through).
    """
    if not subjects:
        raise ValueError("an IRSA role needs at least one service account subject")
    host = issuer_host(issuer)
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "IrsaWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:aud": STS_AUDIENCE,
                        f"{host}:sub": sorted(subjects),
                    }
                },
            }
        ],
    }


def assume_role_trust_policy(principal_arn: str) -> dict[str, Any]:
    """Trust for `sts:AssumeRole` by one named principal (an external Vault in another account)."""
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "VaultAssumesToResolveRoles",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def get_role_policy(bound_role_arns: Sequence[str]) -> dict[str, Any]:
    """What Vault's aws auth needs to resolve a bound role ARN to its unique ID, and no more.

    Without it, writing the Vault role fails as in the guide's Troubleshooting section; with
    `Resource: "*"` Vault could read every role in the account.
    """
    if not bound_role_arns:
        raise ValueError("the GetRole policy needs at least one bound role ARN")
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "ResolveBoundRoles",
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": sorted(bound_role_arns),
            }
        ],
    }


def irsa_annotations(role_arn: str) -> dict[str, str]:
    """What a service account needs to assume `role_arn`, signing for its own region's STS."""
    return {IRSA_ANNOTATION: role_arn, STS_REGIONAL_ANNOTATION: "true"}

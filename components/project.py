"""Names and values every layer shares: the project's name, the tags the program puts on its own
resources, and the waits the Vault provider's token is sized by (Helm's timeout, IAM's propagation).
"""

from __future__ import annotations

# How long a Helm release may take to install, upgrade or uninstall (the Pulumi Kubernetes
# provider's default, set explicitly: the Vault provider's token is sized by it).
HELM_TIMEOUT_SECONDS = 300
# The tags the program puts on resources of its own: the cluster a role or OIDC provider serves,
# and the service accounts (`<namespace>/<name> ...`) an IRSA role trusts.
CLUSTER_TAG = "eks-cluster"
SERVICE_ACCOUNTS_TAG = "irsa-service-accounts"
PROGRAM_TAG_KEYS = (CLUSTER_TAG, SERVICE_ACCOUNTS_TAG)

# Writing the role makes Vault call iam:GetRole on the bound ARN at once; a grant made seconds
# earlier may not have reached every IAM endpoint yet. Retried on this error only, after these
# waits (seconds): about 75 s in all, far beyond IAM's usual propagation, and bounded.
IAM_PROPAGATION_WAITS = (2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0)

PROJECT = "gloo-vault-irsa"

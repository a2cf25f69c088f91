"""The guardrails of gloo-vault-irsa as plain functions, testable without the Pulumi CLI.

One module per area, each readable on its own: `trust` (who may assume the IAM roles),
`grants` (what IAM policies allow, which roles hold policies), `helm` (pinned charts, one
release per name in each cluster), `production` (what a production stack may not do with
Vault), `vault` (Vault's aws auth client and role), `agreement` (Gloo's values against the
Vault resources, a stack policy), `service_accounts` (IRSA trust against the service accounts
annotated with each role), `clusters` (each cluster's IRSA and Vault roles its own, a stack
policy), `dev_mode` (no Vault dev server in production, however it is given), `secrets` (no
secret key in plain text in the stack file); `common` holds the type tokens, the unknown-value
handling, the stack context (is it production?) and readers of properties, `gloo_values` the
readers of Gloo's chart values.

Each resource check takes the resource's type token, its properties as the engine sends them
to a policy pack (camelCase names, secrets unwrapped, values not known during preview replaced
by `UNKNOWN` or left as the engine's sentinel strings) and the `StackContext`, and returns the
violations as messages that say what to change; an empty list means compliant. A stack check
(`check_stack`, `check_irsa_role_policies`, `check_irsa_subjects`, `check_unique_releases`,
`check_cluster_isolation`) does
the same over every resource of the stack, as the engine gives them: their outputs, and the URNs
of each one's provider (a Kubernetes resource's provider is its cluster: one stack may serve
several) and parent. `pack.py` only wraps them as `ResourceValidationPolicy`/`StackValidationPolicy`.

A value that is not known yet (a preview before the resource it comes from exists) is skipped:
the same check runs again during `pulumi up`, when it is known. The one exception is the
Vault chart's values in a production stack (see `check_vault_dev_mode`).
"""

from __future__ import annotations

from .agreement import check_stack
from .clusters import check_cluster_isolation
from .common import (
    HELM_CHART_V3,
    HELM_CHART_V4,
    HELM_RELEASE,
    HELM_TYPES,
    IAM_POLICY_TYPES,
    IRSA_ANNOTATION,
    K8S_PROVIDER,
    OIDC_PROVIDER,
    PACK_NAME,
    PROJECT,
    ROLE,
    UNKNOWN,
    UNKNOWN_SENTINELS,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_PROVIDER,
    YAML_TYPES,
    ResourceCheck,
    ResourcePolicy,
    StackCheck,
    StackContext,
    StackPolicy,
    StackResource,
    is_production,
    is_unknown,
)
from .dev_mode import check_vault_dev_mode_anywhere
from .grants import check_iam_grants, check_irsa_role_policies
from .helm import check_chart_pinned, check_unique_releases
from .production import check_gloo_vault_tls, check_vault_dev_mode, check_vault_provider_tls, is_local_or_in_cluster
from .secrets import SECRET_KEYS, check_secrets_encrypted, plaintext_keys
from .service_accounts import check_irsa_subjects
from .trust import STS_AUDIENCE, WEB_IDENTITY_ACTION, check_trust_policy
from .vault import (
    MAX_TOKEN_TTL_SECONDS,
    check_gloo_vault_keys,
    check_vault_aws_client,
    check_vault_aws_role,
    check_vault_role_principals,
)
from .vault_versions import check_vault_version, vault_version_is_vulnerable

RESOURCE_POLICIES: tuple[ResourcePolicy, ...] = (
    ResourcePolicy(
        "irsa-trust-policy",
        "IRSA trust: one OIDC provider (one cluster) per role, only sts:AssumeRoleWithWebIdentity, StringEquals "
        "on aud and exact subs; other trust names exact principals and actions.",
        check_trust_policy,
    ),
    ResourcePolicy(
        "iam-no-wildcard-grants",
        "IAM policies allow no '*', no service-wide or iam:/sts: wildcard, no IAM/STS write, no NotAction, no "
        "iam:GetRole on a wildcard resource; no AWS-managed policy is attached.",
        check_iam_grants,
    ),
    ResourcePolicy(
        "helm-chart-version-pinned",
        "Helm releases pin one exact chart version.",
        check_chart_pinned,
    ),
    ResourcePolicy(
        "no-vault-dev-mode-in-production",
        "Production stacks run no Vault dev server: no Vault chart in dev mode (refusing values the pack cannot "
        "read), no Kubernetes object nor inline manifest whose container runs `server -dev`, sets "
        "VAULT_DEV_ROOT_TOKEN_ID or runs the Vault image's default command.",
        check_vault_dev_mode_anywhere,
    ),
    ResourcePolicy(
        "vault-provider-tls-in-production",
        "Production stacks reach Vault over https (plain http only to loopback/cluster-internal addresses).",
        check_vault_provider_tls,
    ),
    ResourcePolicy(
        "gloo-vault-tls-in-production",
        "Production stacks: Gloo reaches its Vault secret sources over https (plain http only to "
        "loopback/cluster-internal addresses), with TLS verified.",
        check_gloo_vault_tls,
    ),
    ResourcePolicy(
        "vault-aws-auth-client",
        "Gloo's Vault aws auth client requires the IAM server ID header, verifies logins with AWS's own STS "
        "(and IAM) endpoints over https, in sts_region, and stores no static AWS key.",
        check_vault_aws_client,
    ),
    ResourcePolicy(
        "vault-aws-auth-role-bounded",
        "Gloo's Vault aws auth role: auth_type iam without inference, exactly one exact bound ARN (one cluster's "
        "Gloo role), token_max_ttl set and at most 7 days; a periodic token bounded by token_explicit_max_ttl.",
        check_vault_aws_role,
    ),
    ResourcePolicy(
        "gloo-vault-no-static-keys",
        "Gloo's Vault secret sources log in with IRSA: no static AWS keys.",
        check_gloo_vault_keys,
    ),
    ResourcePolicy(
        "vault-version-fixed-in-production",
        "Production stacks run no in-cluster Vault (chart default or pinned image) below the fix of CVE-2025-11621.",
        check_vault_version,
    ),
)

STACK_POLICIES: tuple[StackPolicy, ...] = (
    StackPolicy(
        "gloo-vault-agreement",
        "Gloo's Vault settings (header, mount, region, kv path, role, IRSA role ARN) match the Vault resources.",
        check_stack,
    ),
    StackPolicy(
        "irsa-role-policies",
        "No managed policy is attached to an IRSA role, and each cluster's Gloo role has no policy at all.",
        check_irsa_role_policies,
    ),
    StackPolicy(
        "irsa-subjects-annotated",
        "Each IRSA role trusts exactly the service accounts annotated with it (Gloo's: those the Gloo release "
        "annotates).",
        check_irsa_subjects,
    ),
    StackPolicy(
        "helm-releases-unique",
        "No two Helm releases on one cluster (Kubernetes provider) share a namespace and a name.",
        check_unique_releases,
    ),
    StackPolicy(
        "gloo-clusters-isolated",
        "Per cluster (Kubernetes provider): its IRSA roles are annotated in no other cluster and trust its own OIDC "
        "provider alone, one no other cluster's roles trust; its Gloo logs in as a Vault role no other cluster's "
        "Gloo names; and no EKS cluster is there twice (two Kubernetes providers reaching one API server, two "
        "IAM OIDC providers registering one issuer).",
        check_cluster_isolation,
    ),
    # Rules that look past one resource's properties: how resources of the stack relate.
    StackPolicy(
        "vault-aws-auth-role-binds-gloo-irsa",
        "Each Vault aws auth role binds only IRSA roles of this stack that a Gloo release annotates on its service "
        "accounts, trusting web identities alone (irsa-subjects-annotated: exactly those accounts); never a node "
        "role nor any other principal.",
        check_vault_role_principals,
    ),
    StackPolicy(
        "stack-secrets-encrypted",
        "The stack file sets no secret key (vaultToken, glooLicenseKey, kubeconfig) in plain text.",
        check_secrets_encrypted,
    ),
)

__all__ = [
    "HELM_CHART_V3",
    "HELM_CHART_V4",
    "HELM_RELEASE",
    "HELM_TYPES",
    "IAM_POLICY_TYPES",
    "IRSA_ANNOTATION",
    "K8S_PROVIDER",
    "MAX_TOKEN_TTL_SECONDS",
    "OIDC_PROVIDER",
    "PACK_NAME",
    "PROJECT",
    "RESOURCE_POLICIES",
    "ROLE",
    "SECRET_KEYS",
    "STACK_POLICIES",
    "STS_AUDIENCE",
    "UNKNOWN",
    "UNKNOWN_SENTINELS",
    "VAULT_AUTH_BACKEND",
    "VAULT_AWS_CLIENT",
    "VAULT_AWS_ROLE",
    "VAULT_MOUNT",
    "VAULT_PROVIDER",
    "WEB_IDENTITY_ACTION",
    "YAML_TYPES",
    "ResourceCheck",
    "ResourcePolicy",
    "StackCheck",
    "StackContext",
    "StackPolicy",
    "StackResource",
    "check_chart_pinned",
    "check_cluster_isolation",
    "check_gloo_vault_keys",
    "check_gloo_vault_tls",
    "check_iam_grants",
    "check_irsa_role_policies",
    "check_irsa_subjects",
    "check_secrets_encrypted",
    "check_stack",
    "check_trust_policy",
    "check_unique_releases",
    "check_vault_aws_client",
    "check_vault_aws_role",
    "check_vault_dev_mode",
    "check_vault_dev_mode_anywhere",
    "check_vault_provider_tls",
    "check_vault_role_principals",
    "check_vault_version",
    "is_local_or_in_cluster",
    "is_production",
    "is_unknown",
    "plaintext_keys",
    "vault_version_is_vulnerable",
]

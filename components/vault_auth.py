"""The Vault layer Gloo logs in to: aws auth, the kv-v2 mount, the policy, client config and role."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_vault as vault


@dataclass
class VaultAwsAuthArgs:
    auth_mount_path: str
    """Mount path of the aws auth method (config `authMountPath`; Gloo's `mountPath`)."""
    kv_path: str
    """Mount path of the kv-v2 engine (config `kvPath`; Gloo's `pathPrefix`)."""
    policy_name: str
    """Name of the policy Gloo's token gets (config `vaultPolicyName`)."""
    policy_hcl: str
    """The policy itself (`documents.vault_policy_hcl`)."""
    iam_server_id_header: str
    """The `X-Vault-AWS-IAM-Server-ID` value Vault requires (config; Gloo signs the same)."""
    region: str
    """The STS region Vault verifies logins in (config `region`; Gloo signs for it)."""
    sts_endpoint: str
    """The STS endpoint of that region (derived from `region`)."""
    bound_role_arn: pulumi.Input[str]
    """The Gloo IRSA role's ARN (IAM layer): the only principal the Vault role accepts."""
    role_name: pulumi.Input[str]
    """The Vault role's name: the Gloo IAM role's name output (IAM layer)."""
    token_max_ttl_seconds: int
    """Max TTL of Gloo's token (config `tokenMaxTtl`)."""
    identity_grant: pulumi.Resource
    """Vault's `iam:GetRole` grant (IAM layer): writing the role resolves the bound ARN and needs it first."""
    sts_role_arn: pulumi.Input[str] | None = None
    """Cross-account: the role Vault assumes to resolve ARNs in the bound role's account (IAM layer)."""


class VaultAwsAuth(pulumi.ComponentResource):
    """The guide's Vault steps 2-6: aws auth, kv-v2, policy, client config and the IAM-bound role."""

    auth_mount_path: pulumi.Output[str]
    kv_path: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    role_name: pulumi.Output[str]
    role: vault.aws.AuthBackendRole

    def __init__(self, name: str, args: VaultAwsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:vault:VaultAwsAuth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        backend = vault.AuthBackend(
            name, type="aws", path=args.auth_mount_path, description="Gloo logs in with IRSA", opts=child
        )
        kv = vault.Mount(
            name,
            path=args.kv_path,
            type="kv",
            options={"version": "2"},
            description="Gloo's secrets (kv-v2)",
            opts=child,
        )
        policy = vault.Policy(name, name=args.policy_name, policy=args.policy_hcl, opts=child)
        client = vault.aws.AuthBackendClient(
            name,
            backend=backend.path,
            iam_server_id_header_value=args.iam_server_id_header,
            sts_endpoint=args.sts_endpoint,
            sts_region=args.region,
            opts=child,
        )
        role_deps: list[pulumi.Resource] = [client, args.identity_grant]
        if args.sts_role_arn is not None:
            role_deps.append(self._sts_role(name, backend, args.bound_role_arn, args.sts_role_arn))
        self.role = vault.aws.AuthBackendRole(
            name,
            backend=backend.path,
            role=args.role_name,
            auth_type="iam",
            bound_iam_principal_arns=[args.bound_role_arn],
            resolve_aws_unique_ids=True,
            token_policies=[policy.name],
            token_max_ttl=args.token_max_ttl_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=role_deps),
        )
        self.auth_mount_path = backend.path
        self.kv_path = kv.path
        self.policy_name = policy.name
        self.role_name = self.role.role
        self.register_outputs(
            {
                "auth_mount_path": self.auth_mount_path,
                "kv_path": self.kv_path,
                "policy_name": self.policy_name,
                "role_name": self.role_name,
            }
        )

    def _sts_role(
        self,
        name: str,
        backend: vault.AuthBackend,
        bound_role_arn: pulumi.Input[str],
        sts_role_arn: pulumi.Input[str],
    ) -> vault.aws.AuthBackendStsRole:
        """Cross-account: `auth/<mount>/config/sts/<account>`, the role Vault assumes in the bound role's account."""
        return vault.aws.AuthBackendStsRole(
            name,
            backend=backend.path,
            account_id=pulumi.Output.from_input(bound_role_arn).apply(lambda arn: arn.split(":")[4]),
            sts_role=sts_role_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

"""IAM layer: IRSA roles, and the AWS identity Vault uses to resolve the roles it binds."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.documents.iam import assume_role_trust_policy, get_role_policy, irsa_trust_policy
from components.project import CLUSTER_TAG, SERVICE_ACCOUNTS_TAG
from components.settings import PrincipalArn, ServiceAccountRef, Settings


@dataclass(frozen=True)
class RoleOptions:
    """What an organisation requires of every IAM role the program creates (terraform-aws-modules'
    IRSA role inputs `role_path`, `role_permissions_boundary_arn`, `max_session_duration`, `tags`)."""

    path: str = "/"
    """IAM path of the role (config `iamRolePath`); the role's ARN carries it, its name does not."""
    permissions_boundary: str | None = None
    """Managed policy that caps the role's permissions (config `iamPermissionsBoundaryArn`)."""
    max_session_seconds: int | None = None
    """Longest session STS issues for the role (config `iamMaxSessionDuration`; IAM's default 1h)."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The role's own tags, merged over the AWS provider's default tags."""
    protect: bool = False
    """Production: the role cannot be deleted or replaced without unprotecting it first."""

    @classmethod
    def from_settings(cls, settings: Settings, cluster_name: pulumi.Input[str] | None) -> RoleOptions:
        """The organisation's `iam*` keys, the cluster the role serves as a tag (None: several), and
        `protect` in production."""
        return cls(
            path=settings.iam.role_path,
            permissions_boundary=settings.iam.permissions_boundary_arn,
            max_session_seconds=settings.iam.max_session_seconds,
            tags={CLUSTER_TAG: cluster_name} if cluster_name is not None else {},
            protect=settings.production,
        )

    def tagged(self, tags: Mapping[str, pulumi.Input[str]]) -> RoleOptions:
        """The same options with more tags of the role's own."""
        return replace(self, tags={**self.tags, **tags})


def iam_role(
    name: str, trust: pulumi.Input[str], description: str, options: RoleOptions, parent: pulumi.Resource
) -> aws.iam.Role:
    """An IAM role with the organisation's path, boundary, session limit, tags and protection."""
    return aws.iam.Role(
        name,
        assume_role_policy=trust,
        description=description,
        path=options.path,
        permissions_boundary=options.permissions_boundary,
        max_session_duration=options.max_session_seconds,
        tags=dict(options.tags) or None,
        opts=pulumi.ResourceOptions(parent=parent, protect=options.protect),
    )


@dataclass
class IrsaRoleArgs:
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (cluster layer): the only federated principal trusted."""
    oidc_issuer: pulumi.Input[str]
    """The issuer host (cluster layer), which prefixes the `aud` and `sub` condition keys."""
    service_accounts: Sequence[ServiceAccountRef]
    """Exactly the service accounts allowed to assume the role (config)."""
    description: str
    """Why the role exists, as IAM shows it."""
    options: RoleOptions = field(default_factory=RoleOptions)
    """Path, boundary, session limit, tags and protection (config `iam*`, `awsDefaultTags`, production)."""


class IrsaRole(pulumi.ComponentResource):
    """An IAM role only the named Kubernetes service accounts of one cluster can assume."""

    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    unique_id: pulumi.Output[str]
    """IAM's ID for this role: a role recreated under the same ARN gets a new one."""

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:iam:IrsaRole", name, None, opts)
        subjects = [sa.subject for sa in args.service_accounts]
        trust = pulumi.Output.all(provider_arn=args.oidc_provider_arn, issuer=args.oidc_issuer).apply(
            lambda a: json.dumps(irsa_trust_policy(a["provider_arn"], a["issuer"], subjects))
        )
        accounts = " ".join(f"{sa.namespace}/{sa.name}" for sa in args.service_accounts)
        role = iam_role(name, trust, args.description, args.options.tagged({SERVICE_ACCOUNTS_TAG: accounts}), self)
        self.arn = role.arn
        self.name = role.name
        self.unique_id = role.unique_id
        self.register_outputs({"arn": self.arn, "name": self.name, "unique_id": self.unique_id})


@dataclass
class InClusterVaultIdentity:
    """`in-cluster-dev`: an IRSA role for the in-cluster Vault's own service account."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (cluster layer)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer host (cluster layer)."""
    service_account: ServiceAccountRef
    """The Vault server's service account (config)."""


@dataclass
class SameAccountVaultIdentity:
    """`external`, same account: the Vault server's own role or user gets the grant inline."""

    principal: PrincipalArn
    """`vaultAwsPrincipalArn` (config)."""


@dataclass
class CrossAccountVaultIdentity:
    """`external`, another account: a role here, trusted to Vault's principal, holds the grant."""

    principal: PrincipalArn
    """`vaultCrossAccountPrincipalArn` (config): the only principal the new role trusts."""


VaultIdentitySource = InClusterVaultIdentity | SameAccountVaultIdentity | CrossAccountVaultIdentity


@dataclass
class VaultAwsIdentityArgs:
    bound_role_arns: Sequence[pulumi.Input[str]]
    """The roles Vault's aws auth binds (the Gloo role's ARN output): the only `iam:GetRole` resources."""
    source: VaultIdentitySource
    """Where Vault's AWS identity comes from, chosen once from `vaultTopology` and the ARN keys."""
    role_options: RoleOptions = field(default_factory=RoleOptions)
    """For the role the program creates for Vault (in-cluster IRSA, cross-account): as Gloo's."""


class VaultAwsIdentity(pulumi.ComponentResource):
    """The AWS identity Vault calls `iam:GetRole` with, granted exactly that on the bound roles.

    Vault resolves each bound role ARN to its unique ID when the aws auth role is written; the
    guide gives Vault no such permission, hence its Troubleshooting section. Here the grant is
    built from the same role ARN output that is bound, so the two cannot disagree, and
    `grant` is what the Vault role must wait for.
    """

    arn: pulumi.Output[str]
    sts_role_arn: pulumi.Output[str] | None
    """Cross-account only: the role Vault assumes, registered as the aws auth's STS role."""
    grant: pulumi.Resource

    def __init__(self, name: str, args: VaultAwsIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:iam:VaultAwsIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = pulumi.Output.all(*args.bound_role_arns).apply(lambda arns: json.dumps(get_role_policy(arns)))
        self.sts_role_arn = None

        match args.source:
            case SameAccountVaultIdentity(principal=principal):
                self.arn = pulumi.Output.from_input(principal.arn)
                if principal.kind == "role":
                    self.grant = aws.iam.RolePolicy(name, role=principal.name, policy=policy, opts=child)
                else:
                    self.grant = aws.iam.UserPolicy(name, user=principal.name, policy=policy, opts=child)
            case CrossAccountVaultIdentity(principal=principal):
                role = iam_role(
                    name,
                    json.dumps(assume_role_trust_policy(principal.arn)),
                    "Assumed by an external Vault to resolve the roles its aws auth binds",
                    args.role_options,
                    self,
                )
                self.arn = self.sts_role_arn = role.arn
                self.grant = aws.iam.RolePolicy(name, role=role.name, policy=policy, opts=child)
            case InClusterVaultIdentity() as source:
                irsa = IrsaRole(
                    name,
                    IrsaRoleArgs(
                        oidc_provider_arn=source.oidc_provider_arn,
                        oidc_issuer=source.oidc_issuer,
                        service_accounts=[source.service_account],
                        description="Vault's own identity: resolves the roles its aws auth binds",
                        options=args.role_options,
                    ),
                    opts=child,
                )
                self.arn = irsa.arn
                self.grant = aws.iam.RolePolicy(name, role=irsa.name, policy=policy, opts=child)

        self.register_outputs({"arn": self.arn, "sts_role_arn": self.sts_role_arn})

"""IAM layer: IRSA roles, and the AWS identity Vault uses to resolve the roles it binds."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ServiceAccountRef
from components.documents import assume_role_trust_policy, get_role_policy, irsa_trust_policy


@dataclass
class IrsaRoleArgs:
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    service_accounts: Sequence[ServiceAccountRef]
    description: str


class IrsaRole(pulumi.ComponentResource):
    """An IAM role only the named Kubernetes service accounts of one cluster can assume."""

    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:iam:IrsaRole", name, None, opts)
        subjects = [sa.subject for sa in args.service_accounts]
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda a: json.dumps(irsa_trust_policy(a[0], a[1], subjects))
        )
        role = aws.iam.Role(
            name,
            assume_role_policy=trust,
            description=args.description,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = role.arn
        self.name = role.name
        self.register_outputs({"arn": self.arn, "name": self.name})


@dataclass
class VaultAwsIdentityArgs:
    """Exactly one way Vault gets its AWS identity (chosen by `vaultTopology` and the ARN keys)."""

    bound_role_arns: Sequence[pulumi.Input[str]]
    # in-cluster: an IRSA role for Vault's own service account
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None
    vault_service_account: ServiceAccountRef | None = None
    # external, same account: the Vault server's own role or user
    principal_arn: str | None = None
    # external, another account: a role here that Vault's principal assumes
    cross_account_principal_arn: str | None = None


_PRINCIPAL = re.compile(r"^arn:[^:]+:iam::\d{12}:(role|user)/(?:.*/)?([^/]+)$")


class VaultAwsIdentity(pulumi.ComponentResource):
    """The AWS identity Vault calls `iam:GetRole` with, granted exactly that on the bound roles.

    Vault resolves each bound role ARN to its unique ID when the aws auth role is written; the
    guide gives Vault no such permission, hence its Troubleshooting section. Here the grant is
    built from the same role ARN output that is bound, so the two cannot disagree, and
    `grant` is what the Vault role must wait for.
    """

    arn: pulumi.Output[str]
    sts_role_arn: pulumi.Output[str] | None
    grant: pulumi.Resource

    def __init__(self, name: str, args: VaultAwsIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:iam:VaultAwsIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = pulumi.Output.all(*args.bound_role_arns).apply(lambda arns: json.dumps(get_role_policy(arns)))
        self.sts_role_arn = None

        if args.principal_arn is not None:
            kind, principal_name = _principal_parts(args.principal_arn)
            self.arn = pulumi.Output.from_input(args.principal_arn)
            if kind == "role":
                self.grant = aws.iam.RolePolicy(name, role=principal_name, policy=policy, opts=child)
            else:
                self.grant = aws.iam.UserPolicy(name, user=principal_name, policy=policy, opts=child)
        elif args.cross_account_principal_arn is not None:
            role = aws.iam.Role(
                name,
                assume_role_policy=json.dumps(assume_role_trust_policy(args.cross_account_principal_arn)),
                description="Assumed by an external Vault to resolve the roles its aws auth binds",
                opts=child,
            )
            self.arn = role.arn
            self.sts_role_arn = role.arn
            self.grant = aws.iam.RolePolicy(name, role=role.name, policy=policy, opts=child)
        else:
            if args.oidc_provider_arn is None or args.oidc_issuer is None or args.vault_service_account is None:
                raise ValueError("an in-cluster Vault identity needs the OIDC provider and Vault's service account")
            irsa = IrsaRole(
                name,
                IrsaRoleArgs(
                    oidc_provider_arn=args.oidc_provider_arn,
                    oidc_issuer=args.oidc_issuer,
                    service_accounts=[args.vault_service_account],
                    description="Vault's own identity: resolves the roles its aws auth binds",
                ),
                opts=child,
            )
            self.arn = irsa.arn
            self.grant = aws.iam.RolePolicy(name, role=irsa.name, policy=policy, opts=child)

        self.register_outputs({"arn": self.arn, "sts_role_arn": self.sts_role_arn})


def _principal_parts(arn: str) -> tuple[str, str]:
    """`arn:aws:iam::1:role/path/name` → ("role", "name"): IAM policies attach by bare name."""
    m = _PRINCIPAL.match(arn)
    if not m:
        raise ValueError(f"not an IAM role or user ARN: {arn}")
    return m.group(1), m.group(2)


def account_of(arn: str) -> str:
    return arn.split(":")[4]

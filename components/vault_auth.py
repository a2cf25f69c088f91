"""The Vault layer Gloo logs in to: aws auth, the kv-v2 mount, the policy, client config and role."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_vault as vault

from components.documents.vault import vault_policy_hcl
from components.project import IAM_PROPAGATION_WAITS
from components.settings import Settings

_UNRESOLVED_ARN = re.compile(r'unable to resolve ARN \\?"?(?P<arn>arn:[^"\\\s]+)')


@dataclass
class GlooRoleBinding:
    """One cluster's Gloo IAM role, which gets a Vault role of its own on the shared mount."""

    key: str | None
    """The cluster's `clusters` name, which suffixes the Vault role's resource name (None: the stack's one cluster)."""
    arn: pulumi.Input[str]
    """The Gloo IRSA role's ARN (IAM layer): the only principal its Vault role accepts."""
    name: pulumi.Input[str]
    """The Vault role's name: the Gloo IAM role's name output (IAM layer)."""
    unique_id: pulumi.Input[str]
    """IAM's ID of the role (IAM layer): Vault stores it, so a recreated role needs a rewrite."""
    from_single_cluster: bool = False
    """The stack's single cluster before `clusters` was set: the Vault role keeps its identity (alias)."""


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
    gloo_roles: Sequence[GlooRoleBinding]
    """Every cluster's Gloo role (IAM layer): one Vault role each, bound to that IAM role only."""
    token_max_ttl_seconds: int
    """Max TTL of Gloo's token (config `tokenMaxTtl`)."""
    identity_grant: pulumi.Resource
    """Vault's `iam:GetRole` grant (IAM layer): writing the role resolves the bound ARN and needs it first."""
    kv_retain_on_delete: bool = True
    """Keep the kv mount and its secrets on destroy (config `kvRetainOnDelete`)."""
    protect: bool = False
    """Production: the mounts cannot be deleted without unprotecting them first."""
    sts_role_arn: pulumi.Input[str] | None = None
    """Cross-account: the role Vault assumes to resolve ARNs in the bound role's account (IAM layer)."""
    adopt_auth_mount: bool = False
    """The aws auth method is already enabled at `auth_mount_path` (config `adoptAuthMount`)."""
    adopt_kv_mount: bool = False
    """The kv-v2 mount already exists at `kv_path` (config `adoptKvMount`)."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        gloo_roles: Sequence[GlooRoleBinding],
        identity_grant: pulumi.Resource,
        sts_role_arn: pulumi.Input[str] | None,
    ) -> VaultAwsAuthArgs:
        """The `vault` section, and Gloo's root key, which Vault's policy is scoped to."""
        vault = settings.vault
        return cls(
            auth_mount_path=vault.auth_mount_path,
            kv_path=vault.kv_path,
            policy_name=vault.policy_name,
            policy_hcl=vault_policy_hcl(vault.kv_path, settings.gloo.root_key, vault.policy_mode),
            iam_server_id_header=vault.iam_server_id_header,
            region=settings.region,
            sts_endpoint=settings.sts_endpoint,
            gloo_roles=gloo_roles,
            token_max_ttl_seconds=vault.token_max_ttl_seconds,
            identity_grant=identity_grant,
            sts_role_arn=sts_role_arn,
            kv_retain_on_delete=vault.kv_retain_on_delete,
            adopt_auth_mount=vault.adopt_auth_mount,
            adopt_kv_mount=vault.adopt_kv_mount,
            protect=settings.production,
        )


class VaultAwsAuth(pulumi.ComponentResource):
    """The guide's Vault steps 2-6: aws auth, kv-v2, policy, client config and the IAM-bound role."""

    auth_mount_path: pulumi.Output[str]
    kv_path: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    role_names: dict[str | None, pulumi.Output[str]]
    """Each cluster's Vault role name, by `GlooRoleBinding.key`."""

    def __init__(self, name: str, args: VaultAwsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:vault:VaultAwsAuth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        auth_mount_path = self._auth_mount(name, args)
        kv_path = self._kv_mount(name, args)
        policy = vault.Policy(name, name=args.policy_name, policy=args.policy_hcl, opts=child)
        # An adopted mount has one client config for all its roles: written, as Gloo's header and
        # region must be its own, but kept on destroy, as the mount and its other roles outlive the stack.
        client = vault.aws.AuthBackendClient(
            name,
            backend=auth_mount_path,
            iam_server_id_header_value=args.iam_server_id_header,
            sts_endpoint=args.sts_endpoint,
            sts_region=args.region,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.adopt_auth_mount or None),
        )
        role_deps: list[pulumi.Resource] = [client, args.identity_grant]
        if args.sts_role_arn is not None:
            # Every Gloo role is in this stack's account: one STS role serves them all.
            role_deps.append(self._sts_role(name, auth_mount_path, args.gloo_roles[0].arn, args.sts_role_arn))
        self.role_names = {
            gloo.key: self._role(name, args, gloo, auth_mount_path, policy, role_deps).role for gloo in args.gloo_roles
        }
        self.auth_mount_path = pulumi.Output.from_input(auth_mount_path)
        self.kv_path = pulumi.Output.from_input(kv_path)
        self.policy_name = policy.name
        self.register_outputs(
            {
                "auth_mount_path": self.auth_mount_path,
                "kv_path": self.kv_path,
                "policy_name": self.policy_name,
                "role_names": {key or "": role for key, role in self.role_names.items()},
            }
        )

    def _auth_mount(self, name: str, args: VaultAwsAuthArgs) -> pulumi.Input[str]:
        """The aws auth mount's path: the adopted one as configured, else the path of the one enabled here."""
        if args.adopt_auth_mount:
            return args.auth_mount_path
        backend = vault.AuthBackend(
            name,
            type="aws",
            path=args.auth_mount_path,
            description="Gloo logs in with IRSA",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        return backend.path

    def _kv_mount(self, name: str, args: VaultAwsAuthArgs) -> pulumi.Input[str]:
        """The kv-v2 mount's path: the adopted one as configured, else the path of the one created here."""
        if args.adopt_kv_mount:
            return args.kv_path
        kv = vault.Mount(
            name,
            path=args.kv_path,
            type="kv",
            options={"version": "2"},
            description="Gloo's secrets (kv-v2)",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.kv_retain_on_delete, protect=args.protect),
        )
        return kv.path

    def _role(
        self,
        name: str,
        args: VaultAwsAuthArgs,
        gloo: GlooRoleBinding,
        auth_mount_path: pulumi.Input[str],
        policy: vault.Policy,
        depends_on: list[pulumi.Resource],
    ) -> vault.aws.AuthBackendRole:
        """Guide step 6: the role one cluster's Gloo logs in with, bound to its Gloo role by unique ID
        (each cluster's own: a Gloo role cannot log in with another cluster's Vault role)."""
        role_name = name if gloo.key is None else f"{name}-{gloo.key}"
        retry = pulumi.ErrorHook(f"{role_name}-retries-while-iam-propagates", _retry_while_iam_propagates)
        return vault.aws.AuthBackendRole(
            role_name,
            backend=auth_mount_path,
            role=gloo.name,
            auth_type="iam",
            bound_iam_principal_arns=[gloo.arn],
            resolve_aws_unique_ids=True,
            token_policies=[policy.name],
            token_max_ttl=args.token_max_ttl_seconds,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # A role recreated under the same ARN has a new unique ID, which Vault must resolve
                # again; create-before-delete would write this path and then delete it.
                replacement_trigger=gloo.unique_id,
                delete_before_replace=True,
                hooks=pulumi.ResourceHookBinding(on_error=[retry]),
                aliases=[pulumi.Alias(name=name)] if gloo.from_single_cluster else None,
            ),
        )

    def _sts_role(
        self,
        name: str,
        backend: pulumi.Input[str],
        bound_role_arn: pulumi.Input[str],
        sts_role_arn: pulumi.Input[str],
    ) -> vault.aws.AuthBackendStsRole:
        """Cross-account: `auth/<mount>/config/sts/<account>`, the role Vault assumes in the bound role's account."""
        return vault.aws.AuthBackendStsRole(
            name,
            backend=backend,
            account_id=pulumi.Output.from_input(bound_role_arn).apply(lambda arn: arn.split(":")[4]),
            sts_role=sts_role_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )


def iam_propagation_delay(errors: Sequence[str]) -> float | None:
    """How long to wait before writing the role again, or None to stop: only Vault's failure to
    resolve the bound ARN is retried, at most `len(IAM_PROPAGATION_WAITS)` times. `errors` is
    newest first, as the engine gives them."""
    if not errors or not _is_propagation_error(errors[0]) or len(errors) > len(IAM_PROPAGATION_WAITS):
        return None
    return IAM_PROPAGATION_WAITS[len(errors) - 1]


def iam_propagation_failure(error: str, *, attempts: int) -> str:
    """The one line that says which role Vault could not read, and with which missing permission."""
    match = _UNRESOLVED_ARN.search(error)
    arn = match.group("arn") if match else "the bound role"
    return (
        f"gloo-vault-irsa: after {attempts} attempts over {sum(IAM_PROPAGATION_WAITS):.0f}s Vault still cannot "
        f"resolve {arn}: its AWS identity (stack output vaultAwsIdentityArn) lacks iam:GetRole on that role"
    )


def _is_propagation_error(error: str) -> bool:
    return "unable to resolve ARN" in error and any(sign in error for sign in ("AccessDenied", "not authorized", "403"))


async def _retry_while_iam_propagates(args: pulumi.ErrorHookArgs) -> bool:
    """The Vault role's error hook: wait and retry while the `iam:GetRole` grant propagates."""
    delay = iam_propagation_delay(args.errors)
    if delay is None:
        if args.errors and _is_propagation_error(args.errors[0]):
            pulumi.log.error(iam_propagation_failure(args.errors[0], attempts=len(args.errors)))
        return False
    await asyncio.sleep(delay)
    return True

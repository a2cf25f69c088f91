"""The whole guide as one graph: each layer consumes the previous layers' outputs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_vault as vault

from components.cluster import EksOidcCluster, EksOidcClusterArgs
from components.config.cluster_stack import ClusterStack, after, all_gates, read_cluster_stack
from components.config.preflight import check_against_aws
from components.config.vault_versions import warn_if_external_vault_vulnerable
from components.destroy_guard import DestroyGuard
from components.gloo import GlooRelease, GlooReleaseArgs
from components.iam import (
    CrossAccountVaultIdentity,
    InClusterVaultIdentity,
    IrsaRole,
    IrsaRoleArgs,
    RoleOptions,
    SameAccountVaultIdentity,
    VaultAwsIdentity,
    VaultAwsIdentityArgs,
    VaultIdentitySource,
)
from components.in_cluster_vault import InClusterVault, InClusterVaultArgs
from components.project import PROJECT
from components.settings import ClusterTarget, Settings
from components.vault_auth import GlooRoleBinding, VaultAwsAuth, VaultAwsAuthArgs
from components.vault_provider import vault_provider
from components.verification import GlooVaultLoginCheck, GlooVaultLoginCheckArgs


@dataclass
class ClusterChain:
    """One cluster's part of the graph: its OIDC identity, Gloo's role, and where its Gloo runs."""

    target: ClusterTarget
    """The cluster as config names it."""
    cluster: EksOidcCluster
    """Its OIDC provider and Kubernetes provider (cluster layer)."""
    gloo_role: IrsaRole
    """The role only its Gloo service accounts can assume (IAM layer)."""
    parent: pulumi.Resource | None
    """What the graph is built under: None in the program (the stack), the component in the package."""

    @property
    def on_k8s(self) -> pulumi.ResourceOptions:
        """Options that put a resource on this cluster (its Kubernetes provider)."""
        return pulumi.ResourceOptions(providers={"kubernetes": self.cluster.k8s_provider}, parent=self.parent)


def _aliased(target: ClusterTarget, opts: pulumi.ResourceOptions, single_name: str) -> pulumi.ResourceOptions:
    """`opts`, plus an alias to the name the resource had when the stack served this one cluster
    (`fromSingleCluster`): moving to `clusters` renames its resources, and replaces none."""
    if not target.from_single_cluster:
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=single_name)]))


def build(settings: Settings, parent: pulumi.Resource | None = None) -> dict[str, pulumi.Input[object]]:
    """Registers every resource, under `parent` when given (the package's component); returns the
    stack outputs (the contract other stacks read).

    Shared once: the AWS provider, Vault's AWS identity, the Vault provider and its mounts and
    policy. Per cluster, side by side: OIDC provider, Gloo role, Vault role, Gloo release.
    """
    warn_if_external_vault_vulnerable(settings)
    cluster_stacks = [read_cluster_stack(settings, target, parent) for target in settings.cluster.targets]
    gate = all_gates(cluster_stacks)
    aws_provider = aws.Provider(
        "aws",
        region=after(gate, settings.region),
        default_tags=_default_tags(settings),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    adopted = check_against_aws(settings, aws_provider)
    on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider}, parent=parent)
    chains = [
        _cluster_chain(settings, target, stack, adopted.get(target.output_key), on_aws, parent)
        for target, stack in zip(settings.cluster.targets, cluster_stacks, strict=True)
    ]
    # A stack of one cluster tags Vault's role with it; with `clusters`, however many, with none.
    shared_role_options = RoleOptions.from_settings(
        settings, None if settings.cluster.several else chains[0].cluster.cluster_name
    )
    vault_identity = VaultAwsIdentity(
        "vault-identity",
        VaultAwsIdentityArgs(
            bound_role_arns=[chain.gloo_role.arn for chain in chains],
            source=_vault_identity_source(settings, chains[0].cluster),
            role_options=shared_role_options,
        ),
        opts=on_aws,
    )
    provider = _vault_provider(settings, chains[0], vault_identity, gate)
    vault_auth = VaultAwsAuth(
        "gloo",
        VaultAwsAuthArgs.from_settings(
            settings,
            gloo_roles=[_gloo_role_binding(chain) for chain in chains],
            identity_grant=vault_identity.grant,
            sts_role_arn=vault_identity.sts_role_arn,
        ),
        opts=pulumi.ResourceOptions(providers={"vault": provider}, parent=parent),
    )
    built: list[pulumi.Resource] = [*(c.cluster for c in chains), *(c.gloo_role for c in chains)]
    built += [vault_identity, vault_auth]
    per_cluster = {c.target.output_key: _gloo_on_cluster(settings, c, vault_auth, built) for c in chains}
    if settings.production:
        DestroyGuard("destroy-guard", built, parent=parent)
    return _outputs(settings, vault_identity, vault_auth, per_cluster)


def _cluster_chain(
    settings: Settings,
    target: ClusterTarget,
    cluster_stack: ClusterStack | None,
    adopted_oidc_provider_arn: str | None,
    on_aws: pulumi.ResourceOptions,
    parent: pulumi.Resource | None,
) -> ClusterChain:
    """One cluster's OIDC identity and Gloo role: nothing here waits for another cluster."""
    args = _cluster_args(settings, target, cluster_stack, adopted_oidc_provider_arn)
    cluster = EksOidcCluster(target.named("cluster"), args, opts=_aliased(target, on_aws, "cluster"))
    gloo_role = IrsaRole(
        target.named("gloo"),
        IrsaRoleArgs(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_accounts=settings.gloo.subjects,
            description=f"Gloo Edge in {settings.gloo.namespace} logs in to Vault with this role",
            options=RoleOptions.from_settings(settings, cluster.cluster_name),
        ),
        opts=_aliased(target, on_aws, "gloo"),
    )
    return ClusterChain(target, cluster, gloo_role, parent)


def _gloo_on_cluster(
    settings: Settings, chain: ClusterChain, vault_auth: VaultAwsAuth, built: list[pulumi.Resource]
) -> dict[str, pulumi.Input[object]]:
    """The cluster's Gloo release (with its own Vault role) and login check, added to `built`; its outputs."""
    vault_role = vault_auth.role_names[chain.target.key]
    gloo = GlooRelease(
        chain.target.named("gloo"),
        GlooReleaseArgs.from_settings(
            settings,
            role_arn=chain.gloo_role.arn,
            vault_role=vault_role,
            auth_mount_path=vault_auth.auth_mount_path,
            kv_path=vault_auth.kv_path,
        ),
        opts=_aliased(chain.target, chain.on_k8s, "gloo"),
    )
    built.append(gloo)
    return _cluster_outputs(chain, vault_role, gloo, _login_check(settings, chain, gloo, built))


def _cluster_args(
    settings: Settings,
    target: ClusterTarget,
    cluster_stack: ClusterStack | None,
    adopted_oidc_provider_arn: str | None,
) -> EksOidcClusterArgs:
    """The cluster as config names it, or as the stack that owns it exports it (`clusterStackRef`)."""
    name: pulumi.Input[str]
    provider_arn: pulumi.Input[str] | None
    kubeconfig: pulumi.Input[str] | None
    if cluster_stack is None:
        assert target.cluster_name is not None  # parse_settings requires one of the two
        name, provider_arn, issuer_url, kubeconfig = (
            target.cluster_name,
            adopted_oidc_provider_arn,
            None,
            target.kubeconfig,
        )
    else:
        name, provider_arn, issuer_url = (
            cluster_stack.cluster_name,
            cluster_stack.oidc_provider_arn,
            cluster_stack.oidc_issuer_url,
        )
        kubeconfig = after(cluster_stack.gate, cluster_stack.kubeconfig)
    return EksOidcClusterArgs.from_settings(
        settings,
        cluster_name=name,
        existing_oidc_provider_arn=provider_arn,
        oidc_issuer_url=issuer_url,
        kubeconfig=kubeconfig,
        kube_context=target.kube_context,
    )


def _default_tags(settings: Settings) -> aws.ProviderDefaultTagsArgs | None:
    """`awsDefaultTags` as the AWS provider's default tags: on every AWS resource it creates."""
    return aws.ProviderDefaultTagsArgs(tags=settings.iam.aws_default_tags) if settings.iam.aws_default_tags else None


def _vault_identity_source(settings: Settings, cluster: EksOidcCluster) -> VaultIdentitySource:
    """Where Vault's AWS identity comes from: `vaultTopology` and which principal ARN is set."""
    vault = settings.vault
    if vault.topology == "in-cluster-dev":
        return InClusterVaultIdentity(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_account=vault.subject,
        )
    if vault.aws_principal is not None:
        return SameAccountVaultIdentity(vault.aws_principal)
    assert vault.cross_account_principal is not None  # parse_settings requires exactly one
    return CrossAccountVaultIdentity(vault.cross_account_principal)


def _vault_provider(
    settings: Settings, chain: ClusterChain, identity: VaultAwsIdentity, gate: pulumi.Output[bool] | None
) -> vault.Provider:
    """How Pulumi reaches Vault belongs to the topology: the in-cluster Vault owns its way in (and
    waits for the cluster's stack through the Kubernetes provider its release uses)."""
    vault = settings.vault
    if vault.topology != "in-cluster-dev":
        return vault_provider(
            "vault",
            address=after(gate, vault.provider_address or vault.address),
            token=vault.token,
            token_name=_token_name(settings),
            ca_pem=vault.ca_cert,
            parent=chain.parent,
        )
    args = InClusterVaultArgs.from_settings(settings, role_arn=identity.arn)
    server = InClusterVault("vault", args, opts=chain.on_k8s)
    return server.provider(
        "vault",
        cluster=chain.cluster,
        token=vault.token,
        token_name=_token_name(settings),
        address=vault.provider_address,
        ca_pem=vault.ca_cert,
        parent=chain.parent,
    )


def _token_name(settings: Settings) -> str:
    """The provider's child token's name: which project and stack wrote what, in Vault's audit log."""
    return f"pulumi-{PROJECT}-{settings.stack or 'stack'}".replace("/", "-")


def _gloo_role_binding(chain: ClusterChain) -> GlooRoleBinding:
    """What Vault binds a cluster's Gloo role by (its unique ID), and under which role name."""
    return GlooRoleBinding(
        key=chain.target.key,
        arn=chain.gloo_role.arn,
        name=chain.gloo_role.name,
        unique_id=chain.gloo_role.unique_id,
        from_single_cluster=chain.target.from_single_cluster,
    )


def _login_check(
    settings: Settings, chain: ClusterChain, gloo: GlooRelease, built: list[pulumi.Resource]
) -> pulumi.Input[object]:
    """The verification Job (config `loginCheck`): Gloo's login from Gloo's namespace, after the
    Vault role and the Gloo release, again whenever the role is recreated or the release changes."""
    if not settings.verification.login_check:
        return {"status": "off"}
    check = GlooVaultLoginCheck(
        chain.target.named("gloo-login-check"),
        GlooVaultLoginCheckArgs.from_settings(
            settings,
            namespace=gloo.namespace,  # type: ignore[arg-type]  # the release's, always set here
            vault_source=gloo.vault_source,
            rerun_on=pulumi.Output.all(role=chain.gloo_role.unique_id, release=gloo.release.status.revision),
        ),
        opts=_aliased(chain.target, chain.on_k8s, "gloo-login-check"),
    )
    built.append(check)
    return check.result


def _cluster_outputs(
    chain: ClusterChain, vault_role: pulumi.Output[str], gloo: GlooRelease, login_check: pulumi.Input[object]
) -> dict[str, pulumi.Input[object]]:
    """One cluster's outputs: its identity in IAM, its Vault role and its login check (the release's
    name, namespace and chart are the stack's, exported once)."""
    return {
        "clusterName": chain.cluster.cluster_name,
        "oidcProviderArn": chain.cluster.oidc_provider_arn,
        "oidcIssuer": chain.cluster.oidc_issuer,
        "oidcIssuerUrl": chain.cluster.oidc_issuer_url,
        "glooRoleArn": chain.gloo_role.arn,
        "glooRoleName": chain.gloo_role.name,
        "glooRoleUniqueId": chain.gloo_role.unique_id,
        "vaultRoleName": vault_role,
        "loginCheck": login_check,
    }


def _outputs(
    settings: Settings,
    vault_identity: VaultAwsIdentity,
    vault_auth: VaultAwsAuth,
    per_cluster: dict[str, dict[str, pulumi.Input[object]]],
) -> dict[str, pulumi.Input[object]]:
    """The stack outputs: the contract other stacks read through `StackReference` (docs/outputs.md),
    each value once: a stack of one cluster exports that cluster's at the top; with `clusters`,
    each cluster's go under its short name in `clusters`."""
    vault, gloo = settings.vault, settings.gloo
    shared: dict[str, pulumi.Input[object]] = {
        "region": settings.region,
        "vaultAwsIdentityArn": vault_identity.arn,
        "vaultTopology": vault.topology,
        "vaultAddress": vault.address,
        "vaultAuthMountPath": vault_auth.auth_mount_path,
        "vaultKvPath": vault_auth.kv_path,
        "vaultPolicyName": vault_auth.policy_name,
        "iamServerIdHeader": vault.iam_server_id_header,
        "glooNamespace": gloo.namespace,
        "glooReleaseName": gloo.release_name,
        "glooChart": gloo.chart[0],
        "glooChartVersion": gloo.chart_version,
        "glooRootKey": gloo.root_key,
        "vaultCaCert": vault.ca_cert or "",
    }
    if not settings.cluster.several:
        [single] = per_cluster.values()
        return {**shared, **single}
    return {**shared, "clusters": per_cluster}

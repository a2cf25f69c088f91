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
from components.documents.vault import vault_policy_hcl
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
from components.project import CLUSTER_TAG, PROJECT
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

    @property
    def on_k8s(self) -> pulumi.ResourceOptions:
        """Options that put a resource on this cluster (its Kubernetes provider)."""
        return pulumi.ResourceOptions(providers={"kubernetes": self.cluster.k8s_provider})


def _aliased(target: ClusterTarget, opts: pulumi.ResourceOptions, single_name: str) -> pulumi.ResourceOptions:
    """`opts`, plus an alias to the name the resource had when the stack served this one cluster
    (`fromSingleCluster`): moving to `clusters` renames its resources, and replaces none."""
    if not target.from_single_cluster:
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=single_name)]))


def build(settings: Settings) -> dict[str, pulumi.Input[object]]:
    """Registers every resource; returns the stack outputs (the contract other stacks read).

    Shared once: the AWS provider, Vault's AWS identity, the Vault provider and its mounts and
    policy. Per cluster, side by side: OIDC provider, Gloo role, Vault role, Gloo release.
    """
    warn_if_external_vault_vulnerable(settings)
    cluster_stacks = [read_cluster_stack(settings, target) for target in settings.targets]
    gate = all_gates(cluster_stacks)
    aws_provider = aws.Provider("aws", region=after(gate, settings.region), default_tags=_default_tags(settings))
    adopted = check_against_aws(settings, aws_provider)
    on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider})
    chains = [
        _cluster_chain(settings, target, stack, adopted.get(target.output_key), on_aws)
        for target, stack in zip(settings.targets, cluster_stacks, strict=True)
    ]
    # A stack of one cluster tags Vault's role with it; with `clusters`, however many, with none.
    shared_role_options = _role_options(settings, chains[0].cluster if settings.clusters is None else None)
    vault_identity = VaultAwsIdentity(
        "vault-identity",
        VaultAwsIdentityArgs(
            bound_role_arns=[chain.gloo_role.arn for chain in chains],
            source=_vault_identity_source(settings, chains[0].cluster),
            role_options=shared_role_options,
        ),
        opts=on_aws,
    )
    provider = _vault_provider(settings, chains[0].cluster, vault_identity, chains[0].on_k8s, gate)
    vault_auth = VaultAwsAuth(
        "gloo",
        _vault_aws_auth_args(settings, chains, vault_identity),
        opts=pulumi.ResourceOptions(providers={"vault": provider}),
    )
    built: list[pulumi.Resource] = [*(c.cluster for c in chains), *(c.gloo_role for c in chains)]
    built += [vault_identity, vault_auth]
    per_cluster = {c.target.output_key: _gloo_on_cluster(settings, c, vault_auth, built) for c in chains}
    if settings.production:
        DestroyGuard("destroy-guard", built)
    return _outputs(settings, vault_identity, vault_auth, per_cluster)


def _cluster_chain(
    settings: Settings,
    target: ClusterTarget,
    cluster_stack: ClusterStack | None,
    adopted_oidc_provider_arn: str | None,
    on_aws: pulumi.ResourceOptions,
) -> ClusterChain:
    """One cluster's OIDC identity and Gloo role: nothing here waits for another cluster."""
    args = _cluster_args(settings, target, cluster_stack, adopted_oidc_provider_arn)
    cluster = EksOidcCluster(target.named("cluster"), args, opts=_aliased(target, on_aws, "cluster"))
    gloo_role = IrsaRole(
        target.named("gloo"),
        IrsaRoleArgs(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_accounts=settings.gloo_subjects,
            description=f"Gloo Edge in {settings.gloo_namespace} logs in to Vault with this role",
            options=_role_options(settings, cluster),
        ),
        opts=_aliased(target, on_aws, "gloo"),
    )
    return ClusterChain(target, cluster, gloo_role)


def _gloo_on_cluster(
    settings: Settings, chain: ClusterChain, vault_auth: VaultAwsAuth, built: list[pulumi.Resource]
) -> dict[str, pulumi.Input[object]]:
    """The cluster's Gloo release (with its own Vault role) and login check, added to `built`; its outputs."""
    vault_role = vault_auth.role_names[chain.target.key]
    gloo = GlooRelease(
        chain.target.named("gloo"),
        _gloo_release_args(settings, chain.gloo_role, vault_auth, vault_role),
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
    return EksOidcClusterArgs(
        cluster_name=name,
        region=settings.region,
        existing_oidc_provider_arn=provider_arn,
        oidc_issuer_url=issuer_url,
        kubeconfig=kubeconfig,
        kube_context=target.kube_context,
        tags={CLUSTER_TAG: name},
        protect=settings.production,
    )


def _default_tags(settings: Settings) -> aws.ProviderDefaultTagsArgs | None:
    """`awsDefaultTags` as the AWS provider's default tags: on every AWS resource it creates."""
    return aws.ProviderDefaultTagsArgs(tags=settings.aws_default_tags) if settings.aws_default_tags else None


def _role_options(settings: Settings, cluster: EksOidcCluster | None) -> RoleOptions:
    """What every IAM role the program creates gets: the organisation's `iam*` keys, the cluster it
    serves as a tag (none for Vault's role when it serves several), and `protect` in production."""
    return RoleOptions(
        path=settings.iam_role_path,
        permissions_boundary=settings.iam_permissions_boundary_arn,
        max_session_seconds=settings.iam_max_session_seconds,
        tags={CLUSTER_TAG: cluster.cluster_name} if cluster is not None else {},
        protect=settings.production,
    )


def _vault_identity_source(settings: Settings, cluster: EksOidcCluster) -> VaultIdentitySource:
    """Where Vault's AWS identity comes from: `vaultTopology` and which principal ARN is set."""
    if settings.vault_topology == "in-cluster-dev":
        return InClusterVaultIdentity(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_account=settings.vault_subject,
        )
    if settings.vault_aws_principal is not None:
        return SameAccountVaultIdentity(settings.vault_aws_principal)
    assert settings.vault_cross_account_principal is not None  # parse_settings requires exactly one
    return CrossAccountVaultIdentity(settings.vault_cross_account_principal)


def _vault_provider(
    settings: Settings,
    cluster: EksOidcCluster,
    identity: VaultAwsIdentity,
    on_k8s: pulumi.ResourceOptions,
    gate: pulumi.Output[bool] | None,
) -> vault.Provider:
    """How Pulumi reaches Vault belongs to the topology: the in-cluster Vault owns its way in (and
    waits for the cluster's stack through the Kubernetes provider its release uses)."""
    if settings.vault_topology != "in-cluster-dev":
        address = settings.vault_provider_address or settings.vault_address
        return vault_provider(
            "vault",
            address=after(gate, address),
            token=settings.vault_token,
            token_name=_token_name(settings),
            ca_pem=settings.vault_ca_cert,
        )
    server = InClusterVault(
        "vault",
        InClusterVaultArgs(
            namespace=settings.vault_namespace,
            service_account=settings.vault_service_account,
            chart_version=settings.vault_chart_version,
            root_token=settings.vault_token,
            role_arn=identity.arn,
        ),
        opts=on_k8s,
    )
    return server.provider(
        "vault",
        cluster=cluster,
        token=settings.vault_token,
        token_name=_token_name(settings),
        address=settings.vault_provider_address,
        ca_pem=settings.vault_ca_cert,
    )


def _token_name(settings: Settings) -> str:
    """The provider's child token's name: which project and stack wrote what, in Vault's audit log."""
    return f"pulumi-{PROJECT}-{settings.stack or 'stack'}".replace("/", "-")


def _vault_aws_auth_args(
    settings: Settings, chains: list[ClusterChain], identity: VaultAwsIdentity
) -> VaultAwsAuthArgs:
    return VaultAwsAuthArgs(
        auth_mount_path=settings.auth_mount_path,
        kv_path=settings.kv_path,
        policy_name=settings.vault_policy_name,
        policy_hcl=vault_policy_hcl(settings.kv_path, settings.gloo_root_key, settings.vault_policy_mode),
        iam_server_id_header=settings.iam_server_id_header,
        region=settings.region,
        sts_endpoint=settings.sts_endpoint,
        gloo_roles=[
            GlooRoleBinding(
                key=chain.target.key,
                arn=chain.gloo_role.arn,
                name=chain.gloo_role.name,
                unique_id=chain.gloo_role.unique_id,
                from_single_cluster=chain.target.from_single_cluster,
            )
            for chain in chains
        ],
        token_max_ttl_seconds=settings.token_max_ttl_seconds,
        identity_grant=identity.grant,
        sts_role_arn=identity.sts_role_arn,
        kv_retain_on_delete=settings.kv_retain_on_delete,
        adopt_auth_mount=settings.adopt_auth_mount,
        adopt_kv_mount=settings.adopt_kv_mount,
        protect=settings.production,
    )


def _gloo_release_args(
    settings: Settings, gloo_role: IrsaRole, vault_auth: VaultAwsAuth, vault_role: pulumi.Output[str]
) -> GlooReleaseArgs:
    chart, repository = settings.gloo_chart
    return GlooReleaseArgs(
        release_name=settings.gloo_release_name,
        namespace=settings.gloo_namespace,
        chart=chart,
        repository=repository,
        chart_version=settings.gloo_chart_version,
        enterprise=settings.gloo_edition == "enterprise",
        vault_address=settings.vault_address,
        iam_server_id_header=settings.iam_server_id_header,
        auth_mount_path=vault_auth.auth_mount_path,
        region=settings.region,
        kv_path=vault_auth.kv_path,
        root_key=settings.gloo_root_key,
        vault_role=vault_role,
        role_arn=gloo_role.arn,
        service_accounts=settings.gloo_service_accounts,
        license_key=settings.gloo_license_key,
        vault_ca_cert_path=settings.gloo_vault_ca_cert_path,
    )


def _login_check(
    settings: Settings, chain: ClusterChain, gloo: GlooRelease, built: list[pulumi.Resource]
) -> pulumi.Input[object]:
    """The verification Job (config `loginCheck`): Gloo's login from Gloo's namespace, after the
    Vault role and the Gloo release, again whenever the role is recreated or the release changes."""
    if not settings.login_check:
        return {"status": "off"}
    check = GlooVaultLoginCheck(
        chain.target.named("gloo-login-check"),
        GlooVaultLoginCheckArgs(
            namespace=gloo.namespace,  # type: ignore[arg-type]  # the release's, always set here
            vault_source=gloo.vault_source,
            rerun_on=pulumi.Output.all(role=chain.gloo_role.unique_id, release=gloo.release.status.revision),
            # Gloo verifies Vault with its own CA file: the check, which cannot read it, with the same CA.
            vault_ca_pem=settings.vault_ca_cert if settings.gloo_vault_ca_cert_path else None,
        ),
        opts=_aliased(chain.target, chain.on_k8s, "gloo-login-check"),
    )
    built.append(check)
    return check.result


def _cluster_outputs(
    chain: ClusterChain, vault_role: pulumi.Output[str], gloo: GlooRelease, login_check: pulumi.Input[object]
) -> dict[str, pulumi.Input[object]]:
    """One cluster's outputs: its identity in IAM, its Vault role and its Gloo release."""
    return {
        "clusterName": chain.cluster.cluster_name,
        "oidcProviderArn": chain.cluster.oidc_provider_arn,
        "oidcIssuer": chain.cluster.oidc_issuer,
        "oidcIssuerUrl": chain.cluster.oidc_issuer_url,
        "glooRoleArn": chain.gloo_role.arn,
        "glooRoleName": chain.gloo_role.name,
        "glooRoleUniqueId": chain.gloo_role.unique_id,
        "vaultRoleName": vault_role,
        "glooNamespace": gloo.namespace,
        "glooReleaseName": gloo.name,
        "glooChartVersion": gloo.chart_version,
        "loginCheck": login_check,
    }


def _outputs(
    settings: Settings,
    vault_identity: VaultAwsIdentity,
    vault_auth: VaultAwsAuth,
    per_cluster: dict[str, dict[str, pulumi.Input[object]]],
) -> dict[str, pulumi.Input[object]]:
    """The stack outputs: the contract other stacks read through `StackReference` (README). Each
    cluster's under `clusters`; with one cluster (no `clusters` key) also at the top, as before."""
    shared: dict[str, pulumi.Input[object]] = {
        "region": settings.region,
        "vaultAwsIdentityArn": vault_identity.arn,
        "vaultTopology": settings.vault_topology,
        "vaultAddress": settings.vault_address,
        "vaultAuthMountPath": vault_auth.auth_mount_path,
        "vaultKvPath": vault_auth.kv_path,
        "vaultPolicyName": vault_auth.policy_name,
        "iamServerIdHeader": settings.iam_server_id_header,
        "glooNamespace": settings.gloo_namespace,
        "glooReleaseName": settings.gloo_release_name,
        "glooChart": settings.gloo_chart[0],
        "glooChartVersion": settings.gloo_chart_version,
        "glooRootKey": settings.gloo_root_key,
        "vaultCaCert": settings.vault_ca_cert or "",
        "clusters": per_cluster,
    }
    if settings.clusters is None:
        [single] = per_cluster.values()
        return {**shared, **single}
    return shared

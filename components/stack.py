"""The whole guide as one graph: each layer consumes the previous layers' outputs."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_vault as vault

from components.cluster import EksOidcCluster, EksOidcClusterArgs
from components.cluster_stack import ClusterStack, after, read_cluster_stack
from components.config import PROJECT, Settings
from components.documents import CLUSTER_TAG, vault_policy_hcl
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
from components.preflight import check_against_aws
from components.vault_auth import VaultAwsAuth, VaultAwsAuthArgs
from components.vault_provider import vault_provider
from components.verification import GlooVaultLoginCheck, GlooVaultLoginCheckArgs


def build(settings: Settings) -> dict[str, pulumi.Input[object]]:
    """Registers every resource; returns the stack outputs (the contract other stacks read)."""
    cluster_stack = read_cluster_stack(settings)
    gate = cluster_stack.gate if cluster_stack is not None else None
    aws_provider = aws.Provider("aws", region=after(gate, settings.region), default_tags=_default_tags(settings))
    existing_oidc_provider_arn = check_against_aws(settings, aws_provider)
    on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider})
    cluster = EksOidcCluster("cluster", _cluster_args(settings, cluster_stack, existing_oidc_provider_arn), opts=on_aws)
    on_k8s = pulumi.ResourceOptions(providers={"kubernetes": cluster.k8s_provider})

    role_options = _role_options(settings, cluster)
    gloo_role = IrsaRole(
        "gloo",
        IrsaRoleArgs(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_accounts=settings.gloo_subjects,
            description=f"Gloo Edge in {settings.gloo_namespace} logs in to Vault with this role",
            options=role_options,
        ),
        opts=on_aws,
    )
    vault_identity = VaultAwsIdentity(
        "vault-identity",
        VaultAwsIdentityArgs(
            bound_role_arns=[gloo_role.arn],
            source=_vault_identity_source(settings, cluster),
            role_options=role_options,
        ),
        opts=on_aws,
    )
    provider = _vault_provider(settings, cluster, vault_identity, on_k8s, gate)
    vault_auth = VaultAwsAuth(
        "gloo",
        _vault_aws_auth_args(settings, gloo_role, vault_identity),
        opts=pulumi.ResourceOptions(providers={"vault": provider}),
    )
    gloo = GlooRelease("gloo", _gloo_release_args(settings, gloo_role, vault_auth), opts=on_k8s)
    outputs = _outputs(settings, cluster, gloo_role, vault_identity, vault_auth, gloo)
    outputs["loginCheck"] = _login_check(settings, gloo_role, gloo, on_k8s)
    return outputs


def _cluster_args(
    settings: Settings, cluster_stack: ClusterStack | None, adopted_oidc_provider_arn: str | None
) -> EksOidcClusterArgs:
    """The cluster as config names it, or as the stack that owns it exports it (`clusterStackRef`)."""
    name: pulumi.Input[str]
    provider_arn: pulumi.Input[str] | None
    kubeconfig: pulumi.Input[str] | None
    if cluster_stack is None:
        assert settings.cluster_name is not None  # parse_settings requires one of the two
        name, provider_arn, issuer_url, kubeconfig = (
            settings.cluster_name,
            adopted_oidc_provider_arn,
            None,
            settings.kubeconfig,
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
        kube_context=settings.kube_context,
        tags={CLUSTER_TAG: name},
        protect=settings.production,
    )


def _default_tags(settings: Settings) -> aws.ProviderDefaultTagsArgs | None:
    """`awsDefaultTags` as the AWS provider's default tags: on every AWS resource it creates."""
    return aws.ProviderDefaultTagsArgs(tags=settings.aws_default_tags) if settings.aws_default_tags else None


def _role_options(settings: Settings, cluster: EksOidcCluster) -> RoleOptions:
    """What every IAM role the program creates gets: the organisation's `iam*` keys, the cluster it
    serves as a tag, and `protect` in production."""
    return RoleOptions(
        path=settings.iam_role_path,
        permissions_boundary=settings.iam_permissions_boundary_arn,
        max_session_seconds=settings.iam_max_session_seconds,
        tags={CLUSTER_TAG: cluster.cluster_name},
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


def _vault_aws_auth_args(settings: Settings, gloo_role: IrsaRole, identity: VaultAwsIdentity) -> VaultAwsAuthArgs:
    return VaultAwsAuthArgs(
        auth_mount_path=settings.auth_mount_path,
        kv_path=settings.kv_path,
        policy_name=settings.vault_policy_name,
        policy_hcl=vault_policy_hcl(settings.kv_path, settings.gloo_root_key, settings.vault_policy_mode),
        iam_server_id_header=settings.iam_server_id_header,
        region=settings.region,
        sts_endpoint=settings.sts_endpoint,
        bound_role_arn=gloo_role.arn,
        role_name=gloo_role.name,
        bound_role_unique_id=gloo_role.unique_id,
        token_max_ttl_seconds=settings.token_max_ttl_seconds,
        identity_grant=identity.grant,
        sts_role_arn=identity.sts_role_arn,
        kv_retain_on_delete=settings.kv_retain_on_delete,
        adopt_auth_mount=settings.adopt_auth_mount,
        adopt_kv_mount=settings.adopt_kv_mount,
        protect=settings.production,
    )


def _gloo_release_args(settings: Settings, gloo_role: IrsaRole, vault_auth: VaultAwsAuth) -> GlooReleaseArgs:
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
        vault_role=vault_auth.role_name,
        role_arn=gloo_role.arn,
        service_accounts=settings.gloo_service_accounts,
        license_key=settings.gloo_license_key,
        vault_ca_cert_path=settings.gloo_vault_ca_cert_path,
    )


def _login_check(
    settings: Settings, gloo_role: IrsaRole, gloo: GlooRelease, on_k8s: pulumi.ResourceOptions
) -> pulumi.Input[object]:
    """The verification Job (config `loginCheck`): Gloo's login from Gloo's namespace, after the
    Vault role and the Gloo release, again whenever the role is recreated or the release changes."""
    if not settings.login_check:
        return {"status": "off"}
    check = GlooVaultLoginCheck(
        "gloo-login-check",
        GlooVaultLoginCheckArgs(
            namespace=gloo.namespace,  # type: ignore[arg-type]  # the release's, always set here
            vault_source=gloo.vault_source,
            rerun_on=pulumi.Output.all(role=gloo_role.unique_id, release=gloo.release.status.revision),
        ),
        opts=on_k8s,
    )
    return check.result


def _outputs(
    settings: Settings,
    cluster: EksOidcCluster,
    gloo_role: IrsaRole,
    vault_identity: VaultAwsIdentity,
    vault_auth: VaultAwsAuth,
    gloo: GlooRelease,
) -> dict[str, pulumi.Input[object]]:
    """The stack outputs: the contract other stacks read through `StackReference` (README)."""
    return {
        "clusterName": cluster.cluster_name,
        "region": settings.region,
        "oidcProviderArn": cluster.oidc_provider_arn,
        "oidcIssuer": cluster.oidc_issuer,
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "glooRoleArn": gloo_role.arn,
        "glooRoleName": gloo_role.name,
        "glooRoleUniqueId": gloo_role.unique_id,
        "vaultAwsIdentityArn": vault_identity.arn,
        "vaultTopology": settings.vault_topology,
        "vaultAddress": settings.vault_address,
        "vaultAuthMountPath": vault_auth.auth_mount_path,
        "vaultKvPath": vault_auth.kv_path,
        "vaultPolicyName": vault_auth.policy_name,
        "vaultRoleName": vault_auth.role_name,
        "iamServerIdHeader": settings.iam_server_id_header,
        "glooNamespace": gloo.namespace,
        "glooReleaseName": gloo.name,
        "glooChart": settings.gloo_chart[0],
        "glooChartVersion": gloo.chart_version,
        "glooRootKey": settings.gloo_root_key,
        "vaultCaCert": settings.vault_ca_cert or "",
    }

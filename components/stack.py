"""The whole guide as one graph: each layer consumes the previous layers' outputs."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster import EksOidcCluster, EksOidcClusterArgs
from components.config import Settings
from components.documents import vault_policy_hcl
from components.gloo import GlooRelease, GlooReleaseArgs
from components.iam import IrsaRole, IrsaRoleArgs, VaultAwsIdentity, VaultAwsIdentityArgs
from components.vault import (
    InClusterVault,
    InClusterVaultArgs,
    VaultAwsAuth,
    VaultAwsAuthArgs,
    vault_provider,
    vault_provider_via_api_server,
)


def build(settings: Settings) -> dict[str, pulumi.Input[object]]:
    """Registers every resource; returns the stack outputs (the contract other stacks read)."""
    aws_provider = aws.Provider("aws", region=settings.region)
    cluster = EksOidcCluster(
        "cluster",
        EksOidcClusterArgs(
            cluster_name=settings.cluster_name,
            region=settings.region,
            adopt_oidc_provider=settings.adopt_oidc_provider,
            kubeconfig=settings.kubeconfig,
            kube_context=settings.kube_context,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
    )
    on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider})
    on_k8s = pulumi.ResourceOptions(providers={"kubernetes": cluster.k8s_provider})

    gloo_role = IrsaRole(
        "gloo",
        IrsaRoleArgs(
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            service_accounts=settings.gloo_subjects,
            description=f"Gloo Edge in {settings.gloo_namespace} logs in to Vault with this role",
        ),
        opts=on_aws,
    )

    in_cluster = settings.vault_topology == "in-cluster-dev"
    vault_identity = VaultAwsIdentity(
        "vault-identity",
        VaultAwsIdentityArgs(
            bound_role_arns=[gloo_role.arn],
            oidc_provider_arn=cluster.oidc_provider_arn if in_cluster else None,
            oidc_issuer=cluster.oidc_issuer if in_cluster else None,
            vault_service_account=settings.vault_subject if in_cluster else None,
            principal_arn=settings.vault_aws_principal_arn,
            cross_account_principal_arn=settings.vault_cross_account_principal_arn,
        ),
        opts=on_aws,
    )

    assert settings.vault_token is not None  # parse_settings refuses a config without one
    if in_cluster:
        server = InClusterVault(
            "vault",
            InClusterVaultArgs(
                namespace=settings.vault_namespace,
                service_account=settings.vault_service_account,
                chart_version=settings.vault_chart_version,
                root_token=settings.vault_token,
                role_arn=vault_identity.arn,
            ),
            opts=on_k8s,
        )
        if settings.vault_provider_address:
            provider = vault_provider(
                "vault",
                address=settings.vault_provider_address,
                token=settings.vault_token,
                depends_on=[server.release],
            )
        else:
            auth = aws.eks.get_cluster_auth_output(
                name=settings.cluster_name, opts=pulumi.InvokeOutputOptions(provider=aws_provider)
            )
            provider = vault_provider_via_api_server(
                "vault",
                cluster_name=settings.cluster_name,
                endpoint=cluster.endpoint,
                ca_data=cluster.certificate_authority,
                bearer_token=auth.token,
                namespace=settings.vault_namespace,
                token=settings.vault_token,
                vault_release=server.release,
            )
    else:
        provider = vault_provider(
            "vault",
            address=settings.vault_provider_address or settings.vault_address,
            token=settings.vault_token,
        )

    vault_auth = VaultAwsAuth(
        "gloo",
        VaultAwsAuthArgs(
            auth_mount_path=settings.auth_mount_path,
            kv_path=settings.kv_path,
            policy_name=settings.vault_policy_name,
            policy_hcl=vault_policy_hcl(settings.kv_path, settings.gloo_root_key, settings.vault_policy_mode),
            iam_server_id_header=settings.iam_server_id_header,
            region=settings.region,
            sts_endpoint=settings.sts_endpoint,
            bound_role_arn=gloo_role.arn,
            role_name=gloo_role.name,
            token_max_ttl_seconds=settings.token_max_ttl_seconds,
            identity_grant=vault_identity.grant,
            sts_role_arn=vault_identity.sts_role_arn,
        ),
        opts=pulumi.ResourceOptions(providers={"vault": provider}),
    )

    chart, repository = settings.gloo_chart
    gloo = GlooRelease(
        "gloo",
        GlooReleaseArgs(
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
            license_key=settings.gloo_license_key,
        ),
        opts=on_k8s,
    )

    return {
        "clusterName": settings.cluster_name,
        "region": settings.region,
        "oidcProviderArn": cluster.oidc_provider_arn,
        "oidcIssuer": cluster.oidc_issuer,
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "glooRoleArn": gloo_role.arn,
        "glooRoleName": gloo_role.name,
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
        "glooChart": chart,
        "glooChartVersion": gloo.chart_version,
    }

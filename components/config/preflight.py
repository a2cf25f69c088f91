"""Checks against AWS before anything is registered: config that is well-formed but wrong for
this account or cluster stops the program with one line, not half-way through `pulumi up`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config.checks import ConfigError
from components.settings import ClusterTarget, Settings


def check_against_aws(settings: Settings, provider: aws.Provider) -> dict[str, str]:
    """Runs the look-ups the config depends on; returns each adopted OIDC provider's ARN by cluster
    (`ClusterTarget.output_key`).

    Only the (explicit) AWS provider is registered before this: it creates nothing.
    """
    opts = pulumi.InvokeOptions(provider=provider)
    if settings.vault.aws_principal is not None:
        _same_account(settings, opts)
    return {
        target.output_key: _existing_oidc_provider(target, opts)
        for target in settings.cluster.targets
        if target.adopt_oidc_provider
    }


def _same_account(settings: Settings, opts: pulumi.InvokeOptions) -> None:
    """The inline `iam:GetRole` policy attaches by name in the caller's account: another account's
    principal would silently get a same-named role here instead."""
    assert settings.vault.aws_principal is not None
    account = aws.get_caller_identity(opts=opts).account_id
    if settings.vault.aws_principal.account != account:
        raise ConfigError(
            "vaultAwsPrincipalArn",
            f"a principal in this account, {account} (for another account use vaultCrossAccountPrincipalArn) "
            f"(got {settings.vault.aws_principal.arn!r})",
        )


def _existing_oidc_provider(target: ClusterTarget, opts: pulumi.InvokeOptions) -> str:
    assert target.cluster_name is not None  # adoptOidcProvider is refused with a cluster stack
    key = "adoptOidcProvider" if target.key is None else f"clusters.{target.key}.adoptOidcProvider"
    issuer = aws.eks.get_cluster(name=target.cluster_name, opts=opts).identities[0].oidcs[0].issuer
    try:
        return aws.iam.get_open_id_connect_provider(url=issuer, opts=opts).arn
    except Exception as error:  # the provider's lookup error: reported as one line below
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            key,
            f"an existing IAM OIDC provider for {issuer} to adopt, and the lookup found none ({reason}); "
            f"set {key} false to create it",
        ) from None

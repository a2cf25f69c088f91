"""Checks against AWS before anything is registered: config that is well-formed but wrong for
this account or cluster stops the program with one line, not half-way through `pulumi up`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import ConfigError, Settings


def check_against_aws(settings: Settings, provider: aws.Provider) -> str | None:
    """Runs the look-ups the config depends on; returns the adopted OIDC provider's ARN, if any.

    Only the (explicit) AWS provider is registered before this: it creates nothing.
    """
    opts = pulumi.InvokeOptions(provider=provider)
    if settings.vault_aws_principal is not None:
        _same_account(settings, opts)
    if settings.adopt_oidc_provider:
        return _existing_oidc_provider(settings, opts)
    return None


def _same_account(settings: Settings, opts: pulumi.InvokeOptions) -> None:
    """The inline `iam:GetRole` policy attaches by name in the caller's account: another account's
    principal would silently get a same-named role here instead."""
    assert settings.vault_aws_principal is not None
    account = aws.get_caller_identity(opts=opts).account_id
    if settings.vault_aws_principal.account != account:
        raise ConfigError(
            "vaultAwsPrincipalArn",
            f"a principal in this account, {account} (for another account use vaultCrossAccountPrincipalArn) "
            f"(got {settings.vault_aws_principal.arn!r})",
        )


def _existing_oidc_provider(settings: Settings, opts: pulumi.InvokeOptions) -> str:
    assert settings.cluster_name is not None  # adoptOidcProvider is refused with clusterStackRef
    issuer = aws.eks.get_cluster(name=settings.cluster_name, opts=opts).identities[0].oidcs[0].issuer
    try:
        return aws.iam.get_open_id_connect_provider(url=issuer, opts=opts).arn
    except Exception as error:  # the provider's lookup error: reported as one line below
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            "adoptOidcProvider",
            f"an existing IAM OIDC provider for {issuer} to adopt, and the lookup found none ({reason}); "
            "set adoptOidcProvider false to create it",
        ) from None

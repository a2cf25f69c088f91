"""The package's component: the whole chain for one EKS cluster, for programs in any Pulumi
language (`pulumi package add`, docs/package.md).

Its inputs are the config keys (`GlooVaultIrsaArgs`, generated from `KEYS`), read through the same
checks and rules as a stack's config, so a program in TypeScript gets the same one-line errors
before anything is registered; its outputs are a one-cluster stack's (docs/outputs.md). It builds
the same graph as the program does (`components.stack.build`), under itself.
"""

# No `from __future__ import annotations`: Pulumi reads the component's annotations at run time.
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.provider.experimental.util import camel_case  # how Pulumi names the schema's inputs

from components.config.checks import config_text
from components.config.keys import KEYS, snake_case
from components.config.load import parse_settings
from components.gloo_vault_irsa_args import GlooVaultIrsaArgs
from components.project import PROJECT
from components.settings import Settings
from components.stack import build


class GlooVaultIrsa(pulumi.ComponentResource):
    """Everything Gloo Edge needs to read its secrets from Vault with IRSA, on one existing EKS
    cluster: its IAM OIDC provider, Gloo's IRSA role, Vault's AWS identity and aws auth method,
    the kv-v2 mount and Gloo's policy, the Gloo Helm release and the login check."""

    region: pulumi.Output[str]
    """The stack's AWS region: Gloo signs its Vault login for it, Vault verifies it there."""
    cluster_name: pulumi.Output[str]
    """The EKS cluster's name."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's IAM OIDC provider (created, adopted, or the cluster's stack's)."""
    oidc_issuer: pulumi.Output[str]
    """The issuer as IAM condition keys use it (`oidc.eks…/id/X`)."""
    oidc_issuer_url: pulumi.Output[str]
    """The issuer as a URL."""
    gloo_role_arn: pulumi.Output[str]
    """The IRSA role annotated on Gloo's service accounts (with its IAM path)."""
    gloo_role_name: pulumi.Output[str]
    """That role's name."""
    gloo_role_unique_id: pulumi.Output[str]
    """IAM's unique ID of that role (changes when the role is recreated under the same ARN)."""
    vault_aws_identity_arn: pulumi.Output[str]
    """The AWS principal Vault uses to resolve bound roles (IRSA role, given principal, or cross-account role)."""
    vault_topology: pulumi.Output[str]
    """`in-cluster-dev` or `external`."""
    vault_address: pulumi.Output[str]
    """The address Gloo reaches Vault at."""
    vault_auth_mount_path: pulumi.Output[str]
    """The aws auth mount."""
    vault_kv_path: pulumi.Output[str]
    """The kv-v2 mount (Gloo's `pathPrefix`)."""
    vault_policy_name: pulumi.Output[str]
    """The Vault policy Gloo's token gets."""
    vault_role_name: pulumi.Output[str]
    """The aws auth role Gloo logs in with."""
    iam_server_id_header: pulumi.Output[str]
    """The `X-Vault-AWS-IAM-Server-ID` value Vault requires."""
    gloo_namespace: pulumi.Output[str]
    """The Gloo release's namespace (the same in every cluster)."""
    gloo_release_name: pulumi.Output[str]
    """The Gloo Helm release (the same in every cluster)."""
    gloo_chart: pulumi.Output[str]
    """`gloo` or `gloo-ee`."""
    gloo_chart_version: pulumi.Output[str]
    """The chart's exact version (the same in every cluster)."""
    gloo_root_key: pulumi.Output[str]
    """Gloo's `rootKey` under the kv mount: its secrets are at `<vaultKvPath>/data/<glooRootKey>/gloo.solo.io/v1/Secret/<namespace>/<name>`."""  # noqa: E501
    vault_ca_cert: pulumi.Output[str]
    """The PEM CA bundle Vault's certificate is verified with (`vaultCaCert`); empty: the system's CAs."""
    login_check: pulumi.Output[dict[str, str]]
    """The login check Job: `job` (`<namespace>/<name>`), `status` (`passed`) and `logs` (the command that shows its line); `{"status": "off"}` when config `loginCheck` is off."""  # noqa: E501

    def __init__(self, name: str, args: GlooVaultIrsaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PROJECT}:index:GlooVaultIrsa", name, {}, opts)
        outputs = build(settings_from_inputs(args, pulumi.get_stack()), parent=self)
        for output, value in outputs.items():
            setattr(self, snake_case(output), pulumi.Output.from_input(value))
        self.register_outputs(outputs)


def settings_from_inputs(inputs: Mapping[str, Any], stack: str) -> Settings:
    """The component's inputs as a stack's config: each through its key's check, then the rules
    between keys (`ConfigError`, one line naming the key, on the first bad one)."""
    values = {camel_case(name): value for name, value in inputs.items() if value is not None}
    secrets = {key.name for key in KEYS if key.secret}

    def get(key: str) -> str | None:
        return None if key in secrets or key not in values else config_text(values[key])

    def secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(values[key]) if key in secrets and key in values else None

    return parse_settings(get, secret, {}, stack)

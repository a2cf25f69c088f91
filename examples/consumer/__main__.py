"""A downstream team's program: one Gloo secret, written into the Vault a gloo-vault-irsa stack
configured, where that stack's Gloo reads it, from that stack's outputs alone.

Gloo's Vault secret client (solo-kit's resource client) keeps a Secret at the kv-v2 path
`<vaultKvPath>/data/<glooRootKey>/gloo.solo.io/v1/Secret/<namespace>/<name>`, stored as the
Secret's proto JSON: its kind (`aws` here: an Upstream's AWS credentials) and its `metadata`,
and nothing else (Gloo's reader refuses unknown fields). `vault.kv.SecretV2` writes exactly
that body under `data`. The namespace is the Gloo release's (`glooNamespace`), where Upstreams
that reference the secret live.

Config: `glooVaultIrsaStack` (the stack to read), `vaultToken` (secret: this team's token, allowed
to write below the root key), `awsAccessKeyId` and `awsSecretAccessKey` (secrets: the upstream's
credentials), `secretName`, `vaultProviderAddress` (Pulumi.yaml).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any

import pulumi
import pulumi_vault as vault

PROJECT = "gloo-vault-irsa-consumer"
SECRET_KIND = ("gloo.solo.io", "v1", "Secret")
"""Gloo's Secret resource: group, version, kind, as solo-kit lays out its directory."""
OUTPUTS = ("vaultAddress", "vaultCaCert", "vaultKvPath", "glooRootKey", "glooNamespace")
"""What this program reads of gloo-vault-irsa's output contract (its README), and nothing else."""


def gloo_secret_name(root_key: str, namespace: str, name: str) -> str:
    """The secret's path below the kv mount, as solo-kit's resource client builds it."""
    return "/".join([root_key, *SECRET_KIND, namespace, name])


def gloo_aws_secret(name: str, namespace: str, access_key: str, secret_key: str) -> dict[str, Any]:
    """A Gloo `Secret` of kind `aws` as solo-kit stores it (proto JSON, camelCase)."""
    return {
        "metadata": {"name": name, "namespace": namespace},
        "aws": {"accessKey": access_key, "secretKey": secret_key},
    }


def read_outputs(stack: str) -> dict[str, pulumi.Output[Any]]:
    """The outputs of the gloo-vault-irsa stack, each checked to be exported."""
    ref = pulumi.StackReference("gloo-vault-irsa", stack_name=stack)

    def exported(name: str) -> pulumi.Output[Any]:
        def check(value: Any) -> Any:
            if value is None:
                raise pulumi.RunError(
                    f"{PROJECT}: stack {stack} exports no {name}, which gloo-vault-irsa's output contract "
                    "has: update that stack"
                )
            return value

        return ref.get_output(name).apply(check)

    return {name: exported(name) for name in OUTPUTS}


def ca_file(pem: str) -> str | None:
    """The Vault provider takes a CA only as a file: this stack's CA, in a directory of this user's."""
    if not pem:
        return None
    directory = os.path.join(tempfile.gettempdir(), f"{PROJECT}-{os.geteuid()}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"vault-ca-{hashlib.sha256(pem.encode()).hexdigest()[:12]}.pem")
    with open(path, "w", encoding="ascii") as f:
        f.write(pem)
    return path


def main() -> None:
    """Reads the stack's outputs, reaches its Vault, writes the secret where its Gloo reads it."""
    config = pulumi.Config()
    outputs = read_outputs(config.require("glooVaultIrsaStack"))
    provider = vault.Provider(
        "vault",
        address=config.get("vaultProviderAddress") or outputs["vaultAddress"],
        token=config.require_secret("vaultToken"),
        ca_cert_file=outputs["vaultCaCert"].apply(ca_file),
        token_name=f"pulumi-{PROJECT}-{pulumi.get_stack()}",
    )
    name = config.get("secretName") or "upstream-aws"
    data: pulumi.Output[str] = pulumi.Output.all(
        namespace=outputs["glooNamespace"],
        access_key=config.require_secret("awsAccessKeyId"),
        secret_key=config.require_secret("awsSecretAccessKey"),
    ).apply(lambda a: json.dumps(gloo_aws_secret(name, a["namespace"], a["access_key"], a["secret_key"])))
    secret_data: pulumi.Output[str] = pulumi.Output.secret(data)
    path = pulumi.Output.all(root_key=outputs["glooRootKey"], namespace=outputs["glooNamespace"]).apply(
        lambda a: gloo_secret_name(a["root_key"], a["namespace"], name)
    )
    secret = vault.kv.SecretV2(
        "gloo-secret",
        mount=outputs["vaultKvPath"],
        name=path,
        data_json=secret_data,
        opts=pulumi.ResourceOptions(provider=provider),
    )
    pulumi.export("secretPath", pulumi.Output.concat(secret.mount, "/data/", secret.name))


main()

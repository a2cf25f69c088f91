"""What the CLI tests set up around a stack: the cluster's own stack, Vault's existing identity, and
snapshots of every server that show what a command changed."""

from __future__ import annotations

import json
from typing import Any

from components.documents.cluster import eks_kubeconfig
from tests.cli.account import Account, EksCluster
from tests.cli.workspace import Workspace, write_program

EKS_PROGRAM = '''"""The EKS cluster's own stack, as a platform team's exports it: name, kubeconfig, OIDC provider."""
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
issuer = config.require("issuer")
provider = aws.iam.OpenIdConnectProvider("cluster", url=issuer, client_id_lists=["sts.amazonaws.com"])
pulumi.export("clusterName", config.require("clusterName"))
pulumi.export("kubeconfig", pulumi.Output.secret(config.require("kubeconfig")))
pulumi.export("oidcProviderArn", provider.arn)
pulumi.export("oidcIssuerUrl", issuer)
'''


def cluster_stack(workspace: Workspace, cluster: EksCluster, stack: str = "organization/eks/prod") -> str:
    """`stack`, a real stack of a project `eks` on the same backend, up with `cluster`'s outputs; returns
    its name as `clusterStackRef` takes it (a file backend's one organization is `organization`)."""
    folder = write_program(workspace.root / "eks", "eks", EKS_PROGRAM)
    kubeconfig = eks_kubeconfig(
        cluster_name=cluster.name, endpoint=cluster.endpoint, ca_data=cluster.ca_data, region=cluster.region
    )
    workspace.pulumi("stack", "init", stack, cwd=folder).ok()
    for key, value in (("aws:region", cluster.region), ("clusterName", cluster.name), ("issuer", cluster.issuer)):
        workspace.pulumi("config", "set", key, value, "--stack", stack, cwd=folder).ok()
    workspace.pulumi(
        "config", "set", "--secret", "kubeconfig", json.dumps(kubeconfig), "--stack", stack, cwd=folder
    ).ok()
    workspace.pulumi("up", "--yes", "--stack", stack, cwd=folder).ok()
    return stack


def existing_vault_identity(account: Account, arn: str) -> None:
    """An external Vault's servers already run as the IAM role `arn` (same account): the role exists,
    and the local Vault's aws auth plugin runs with its credentials."""
    from tests.cli.plugins.kubernetes import register_vault_aws_plugin

    path, name = arn.split(":role", 1)[1].rsplit("/", 1)
    iam = account.engines.moto.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=name, Path=path + "/", AssumeRolePolicyDocument=json.dumps(trust))
    creds = account.engines.moto.client("sts").assume_role(RoleArn=arn, RoleSessionName="vault-server")["Credentials"]
    env = {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    with _env(account.env()):
        register_vault_aws_plugin(account.engines.bao.root_token, env)


def managed_policy(account: Account, arn: str) -> None:
    """A customer managed policy `arn` that exists already (an organisation's permissions boundary)."""
    path, name = arn.split(":policy", 1)[1].rsplit("/", 1)
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    account.engines.moto.client("iam").create_policy(
        PolicyName=name, Path=path + "/", PolicyDocument=json.dumps(document)
    )


def _env(values: dict[str, str]) -> Any:
    from tests.harness import patched_environ

    return patched_environ(values)


def everything(account: Account) -> dict[str, Any]:
    """What exists in moto's IAM, the local Vault and the API server: a snapshot to compare."""
    iam = account.engines.moto.client("iam")
    bao = account.engines.bao
    roles = {
        r["Arn"]: sorted(iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"])
        for r in iam.list_roles()["Roles"]
    }
    auth = sorted(bao.api("GET", "sys/auth").expect(200).data)
    vault_roles = {
        mount: sorted((bao.api("LIST", f"auth/{mount}role").data or {}).get("keys", []))
        for mount in auth
        if mount != "token/"
    }
    _, secrets, _ = account.kube.request("GET", "/api/v1/secrets", query={"labelSelector": "owner=helm"})
    return {
        "iam roles": roles,
        "oidc providers": sorted(p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]),
        "vault auth": auth,
        "vault roles": vault_roles,
        "vault mounts": sorted(bao.api("GET", "sys/mounts").expect(200).data),
        "vault policies": sorted(bao.api("LIST", "sys/policies/acl").expect(200).data["keys"]),
        "helm releases": sorted(s["metadata"]["name"] for s in secrets["items"]),
    }

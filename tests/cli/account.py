"""Fixtures of the CLI tests (registered by tests/engines/conftest.py, beside the engines they use):
the servers behind the test plugins, an AWS account on moto with the
guide's EKS cluster, and a fresh `Workspace` (copy of the project, its own state) per test."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.plugins.kubernetes import SYSTEM_NAMESPACES, remove_namespace
from tests.cli.workspace import Workspace, cli_directory, missing_cli, pinned_version
from tests.engines.kube import KubeApiServer
from tests.engines.servers import Engines

REGIONS = ("us-east-1", "eu-west-1")
OPERATOR = "pulumi-operator"
"""The moto IAM user whose keys the test plugin for AWS uses, as an operator's would be (admin)."""


@dataclass(frozen=True)
class EksCluster:
    """An EKS cluster as moto made it, and the local API server that stands in for it."""

    name: str
    region: str
    endpoint: str
    issuer: str
    ca_data: str
    api_server: KubeApiServer
    """The local API server standing in for it (no nodes)."""


@dataclass
class Account:
    """The AWS account on moto, the EKS clusters in it and the environment the plugins need."""

    engines: Engines
    kube: KubeApiServer
    keys: dict[str, str]
    clusters: dict[str, EksCluster]

    def cluster(self, name: str, region: str = "us-east-1", api_server: KubeApiServer | None = None) -> EksCluster:
        """The EKS cluster `name` in `region`, created in moto the first time (with its OIDC issuer),
        on `api_server` (default: the session's)."""
        if name not in self.clusters:
            eks = self.engines.moto.client("eks", region=region)
            made = eks.create_cluster(
                name=name,
                roleArn="arn:aws:iam::123456789012:role/eks-cluster",
                resourcesVpcConfig={"subnetIds": []},
            )["cluster"]
            self.clusters[name] = EksCluster(
                name,
                region,
                made["endpoint"],
                made["identity"]["oidc"]["issuer"],
                made["certificateAuthority"]["data"],
                api_server or self.kube,
            )
        return self.clusters[name]

    def env(self) -> dict[str, str]:
        """What the test plugins read: the servers, and which local API server stands in for each cluster."""
        bao = self.engines.bao
        kube = {
            c.endpoint: {
                "url": c.api_server.url,
                "token": c.api_server.credentials.token,
                "ca": str(c.api_server.credentials.ca),
                "issuer": c.issuer,
                "region": c.region,
            }
            for c in self.clusters.values()
        }
        return {
            "GVI_MOTO_URL": self.engines.moto.url,
            "GVI_MOTO_ENFORCEMENT": str(self.engines.moto.enforcement_count),
            "GVI_BAO_URL": bao.url,
            "GVI_BAO_PLUGIN": json.dumps({"sha256": bao.plugin_sha256, "command": bao.plugin.name}),
            "GVI_STS_URLS": json.dumps({region: self.engines.sts_url(region) for region in REGIONS}),
            "GVI_KUBE_CLUSTERS": json.dumps(kube),
            **self.keys,
        }


@pytest.fixture(scope="session")
def cli() -> None:
    """The real CLI and Python host: a skip naming what is missing, a failure where engines are required."""
    from tests.engines.conftest import engine_missing

    reason = missing_cli()
    if reason:
        engine_missing(reason)
    directory = cli_directory()
    assert directory is not None
    version = subprocess.run([str(directory / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == pinned_version(), f"{directory / 'pulumi'} is {version.stdout.strip()}"


@pytest.fixture
def account(cli: None, engines: Engines, kube: KubeApiServer) -> Iterator[Account]:
    """A fresh moto account and Vault (the engines reset) with an operator and the guide's cluster."""
    engines.reset()
    _, namespaces, _ = kube.request("GET", "/api/v1/namespaces")
    for namespace in namespaces["items"]:
        if namespace["metadata"]["name"] not in SYSTEM_NAMESPACES:
            remove_namespace(
                lambda method, path, body: kube.request(method, path, body)[:2], namespace["metadata"]["name"]
            )
    iam = engines.moto.client("iam")
    iam.create_user(UserName=OPERATOR)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName=OPERATOR, PolicyName="admin", PolicyDocument=json.dumps(admin))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    keys = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    yield Account(engines, kube, keys, {})


@pytest.fixture
def workspace(tmp_path: Path, account: Account) -> Workspace:
    """A copy of the project whose commands reach the account (call `refresh_env` after adding clusters)."""
    return Workspace.create(tmp_path, account.env())


def release_values(kube: KubeApiServer, namespace: str = "gloo-system", name: str = "gloo") -> dict[str, Any]:
    """The values of the newest revision of a Helm release, as the test plugin recorded it."""
    import base64

    status, found, _ = kube.request(
        "GET", f"/api/v1/namespaces/{namespace}/secrets", query={"labelSelector": f"owner=helm,name={name}"}
    )
    assert status == 200, found
    newest = max(found["items"], key=lambda item: int(item["metadata"]["labels"]["version"]))
    record = json.loads(base64.b64decode(newest["data"]["release"]))
    values: dict[str, Any] = record["config"]
    return values

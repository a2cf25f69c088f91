"""The consumer example on the engines: a downstream team's program, given only the deployed
stack's outputs and a token of its own, writes a secret that Gloo, logged in with its IRSA role
and its Vault role's token, lists and reads with its own libraries."""

from __future__ import annotations

import json

import pytest

from tests.engines.apply import Deployment, apply_another
from tests.engines.conftest import Deployer, Scenario
from tests.engines.servers import OpenBao
from tests.engines.test_auth_chain import ENTERPRISE, IN_CLUSTER, UPSTREAM_SECRET, seed_secret
from tests.test_consumer import SECRETS, consumer

pytestmark = pytest.mark.engines


def team_token(dep: Deployment) -> str:
    """The downstream team's Vault token for the deployed stack's kv mount and root key."""
    return issue_team_token(dep.engines.bao, dep.run.outputs["vaultKvPath"], dep.run.outputs["glooRootKey"])


def issue_team_token(bao: OpenBao, kv_path: str, root_key: str) -> str:
    """The downstream team's Vault token as README "A consumer" sizes it: it may create and update
    below Gloo's root key (and create the child token pulumi-vault works with), nothing else; the
    operator issues it with the root token."""
    policy = (
        f'path "{kv_path}/data/{root_key}/*" {{ capabilities = ["create", "update"] }}\n'
        'path "auth/token/create" { capabilities = ["update"] }\n'
    )
    bao.api("PUT", "sys/policies/acl/edge-team", {"policy": policy}).expect(200, 204)
    created = bao.api("POST", "auth/token/create", {"policies": ["edge-team"], "ttl": "1h"}).expect(200)
    token: str = created.body["auth"]["client_token"]
    return token


@pytest.mark.parametrize("scenario", [IN_CLUSTER, ENTERPRISE], ids=lambda s: s.name)
def test_a_secret_the_consumer_writes_is_what_gloo_reads(deployer: Deployer, scenario: Scenario) -> None:
    dep = deployer(scenario)
    deployer.forget()  # this test adds a secret that the shared deployment's other tests do not expect
    seed_secret(dep)
    run = consumer(dep.run.outputs, {"secretName": "consumer-upstream"}, vault_token=team_token(dep))
    apply_another(dep, run)

    gloo = dep.run_gloo().ok()
    namespace = dep.run.outputs["glooNamespace"]
    assert gloo.reads[0]["keys"] == ["consumer-upstream", "upstream-aws"]
    assert gloo.reads[0]["secrets"] == {
        "upstream-aws": UPSTREAM_SECRET,
        "consumer-upstream": {
            "metadata": {"name": "consumer-upstream", "namespace": namespace},
            "aws": {"accessKey": SECRETS["awsAccessKeyId"], "secretKey": SECRETS["awsSecretAccessKey"]},
        },
    }
    [write] = [w for w in dep.vault_writes if w[1].endswith("/consumer-upstream")]
    assert write[1] == run.outputs["secretPath"]
    assert json.loads(run.one("vault:kv/secretV2:SecretV2").inputs["dataJson"]) == write[2]["data"]

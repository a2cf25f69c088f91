"""The consumer example (`examples/consumer/`, README "A consumer") under the real CLI: a downstream
team's own project reads the dev stack's outputs through a StackReference on the same backend,
writes one Gloo secret with a token of its own, and Gloo, logged in with the release's values,
lists and reads it."""

from __future__ import annotations

import json

import pytest

from tests.cli.account import Account
from tests.cli.steps import gloo_run, up_dev
from tests.cli.workspace import Workspace
from tests.engines.test_consumer import issue_team_token

pytestmark = [pytest.mark.engines, pytest.mark.cli]

UPSTREAM_KEYS = {"awsAccessKeyId": "AKIACONSUMER0000EXMP", "awsSecretAccessKey": "consumer-secret-key"}


def team_token(account: Account, kv_path: str, root_key: str) -> str:
    """The downstream team's token, sized as README "A consumer" says (test_consumer.issue_team_token)."""
    return issue_team_token(account.engines.bao, kv_path, root_key)


def test_the_consumer_writes_through_a_stack_reference_what_gloo_reads(account: Account, workspace: Workspace) -> None:
    cluster = up_dev(account, workspace)
    outputs = json.loads(workspace.pulumi("stack", "output", "--json", "--stack", "dev").ok().stdout)
    consumer = workspace.root / "examples" / "consumer"
    workspace.pulumi("stack", "init", "edge-team", cwd=consumer).ok()
    # A file backend's one organization is `organization` (README, "Team state").
    settings = {"glooVaultIrsaStack": "organization/gloo-vault-irsa/dev", "secretName": "consumer-upstream"}
    for key, value in settings.items():
        workspace.pulumi("config", "set", key, value, "--stack", "edge-team", cwd=consumer).ok()
    secrets = {**UPSTREAM_KEYS, "vaultToken": team_token(account, outputs["vaultKvPath"], outputs["glooRootKey"])}
    for key, value in secrets.items():
        workspace.pulumi("config", "set", "--secret", key, value, "--stack", "edge-team", cwd=consumer).ok()

    workspace.pulumi("up", "--yes", "--stack", "edge-team", cwd=consumer).ok()
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "edge-team", cwd=consumer).ok()

    written = workspace.pulumi("stack", "output", "secretPath", "--stack", "edge-team", cwd=consumer).ok()
    namespace = outputs["glooNamespace"]
    assert written.stdout.strip() == (
        f"{outputs['vaultKvPath']}/data/{outputs['glooRootKey']}/gloo.solo.io/v1/Secret/{namespace}/consumer-upstream"
    )
    gloo = gloo_run(account, cluster, namespace).ok()
    assert gloo.reads[0]["keys"] == ["consumer-upstream"]
    assert gloo.reads[0]["secrets"] == {
        "consumer-upstream": {
            "metadata": {"name": "consumer-upstream", "namespace": namespace},
            "aws": {"accessKey": UPSTREAM_KEYS["awsAccessKeyId"], "secretKey": UPSTREAM_KEYS["awsSecretAccessKey"]},
        }
    }

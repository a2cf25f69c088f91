"""README, "Several clusters", "Moving a one-cluster stack to `clusters`", under the real CLI and
engine: a one-cluster stack on an external Vault lists its cluster under `clusters` with
`fromSingleCluster: true`; the preview shows no replacement and no delete, and the `up` keeps every
physical resource (the same IAM role, unique ID and all, the same Vault role) and Gloo still reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.account import Account
from tests.cli.stacks import everything, existing_vault_identity
from tests.cli.steps import GUIDE_CLUSTER, REPLACING, gloo_run, preview_steps
from tests.cli.workspace import Workspace
from tests.engines.servers import ROOT_TOKEN

pytestmark = [pytest.mark.engines, pytest.mark.cli]

VAULT_SERVER = "arn:aws:iam::123456789012:role/vault-server"
ONE_CLUSTER_STACK = f"""config:
  gloo-vault-irsa:region: us-east-1
  gloo-vault-irsa:vaultTopology: external
  gloo-vault-irsa:vaultAddress: https://vault.example.com:8200
  gloo-vault-irsa:vaultAwsPrincipalArn: {VAULT_SERVER}
  gloo-vault-irsa:clusterName: {GUIDE_CLUSTER}
"""


def physical(account: Account, outputs: dict[str, Any]) -> dict[str, Any]:
    """What must survive the move: the Gloo role as IAM knows it (name, unique ID, creation) and the
    Vault role as Vault knows it (its role ID, its bound unique ID)."""
    role = account.engines.moto.client("iam").get_role(RoleName=outputs["glooRoleName"])["Role"]
    mount, name = outputs["vaultAuthMountPath"], outputs["vaultRoleName"]
    vault_role = account.engines.bao.api("GET", f"auth/{mount}/role/{name}").expect(200).data
    return {
        "gloo role": (role["RoleName"], role["RoleId"], role["CreateDate"]),
        "vault role": (name, vault_role["role_id"], vault_role["bound_iam_principal_id"]),
    }


def test_moving_a_one_cluster_stack_to_clusters_replaces_and_deletes_nothing(
    account: Account, workspace: Workspace
) -> None:
    cluster = account.cluster(GUIDE_CLUSTER)
    existing_vault_identity(account, VAULT_SERVER)
    workspace.env.update(account.env())
    workspace.stack_file("edge").write_text(ONE_CLUSTER_STACK)
    workspace.pulumi("stack", "init", "edge").ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "edge").ok()
    workspace.pulumi("up", "--yes", "--stack", "edge").ok()
    outputs = json.loads(workspace.pulumi("stack", "output", "--json", "--stack", "edge").ok().stdout)
    before, servers = physical(account, outputs), everything(account)

    workspace.pulumi("config", "rm", "clusterName", "--stack", "edge").ok()
    workspace.pulumi("config", "set", "--path", "clusters.main.clusterName", GUIDE_CLUSTER, "--stack", "edge").ok()
    workspace.pulumi("config", "set", "--path", "clusters.main.fromSingleCluster", "true", "--stack", "edge").ok()
    steps = preview_steps(workspace, "edge")
    assert [(s.op, s.name, s.replace_keys) for s in steps if s.op in REPLACING or s.op == "delete"] == []
    assert {s.type for s in steps if s.op not in ("same", "update")} <= {"pulumi:pulumi:Stack"}, steps

    workspace.pulumi("up", "--yes", "--stack", "edge").ok()
    moved = json.loads(workspace.pulumi("stack", "output", "--json", "--stack", "edge").ok().stdout)
    main = moved["clusters"]["main"]
    assert physical(account, {**moved, **main}) == before
    assert everything(account) == servers
    gloo_run(account, cluster).ok()
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "edge").ok()

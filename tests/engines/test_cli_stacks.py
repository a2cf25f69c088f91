"""Every committed stack under the real Pulumi CLI and engine, as a user runs it (README, "Tests").

The CLI is the pinned build (scripts/install-pulumi.sh) with Pulumi's own Python language host; the
provider plugins are the tests' own (tests/cli/plugins), backed by moto, OpenBao and kube-apiserver.
Each test works on a copy of the project with its own file-backend state and passphrase.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.cli.account import Account, EksCluster, release_values
from tests.cli.stacks import cluster_stack, everything, existing_vault_identity, managed_policy
from tests.cli.steps import preview_steps
from tests.cli.workspace import Workspace
from tests.engines.gloo_client import GlooSecretClient, gloo_settings_of
from tests.engines.gloo_pod import GlooPod
from tests.engines.kube import start_kube
from tests.engines.servers import ROOT_TOKEN
from tests.engines.test_auth_chain import UPSTREAM_SECRET
from tests.engines.test_clusters import assert_a_removed_clusters_token_cannot_renew, grant_resources
from tests.harness import ROOT

pytestmark = [pytest.mark.engines, pytest.mark.cli]

GUIDE_CLUSTER = "gloo-ee-vault-integration"


def test_the_dev_stack_previews_ups_repreviews_clean_and_destroys(account: Account, workspace: Workspace) -> None:
    cluster = account.cluster(GUIDE_CLUSTER)
    workspace.env.update(account.env())
    workspace.pulumi("stack", "init", "dev").ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "dev").ok()

    preview = workspace.pulumi("preview", "--stack", "dev", "--policy-pack", "policy-pack").ok()
    assert "gloo-vault-irsa:" not in preview.output.split("Diagnostics:")[-1], preview.output
    workspace.pulumi("up", "--yes", "--stack", "dev").ok()
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()

    values = release_values(account.kube)
    pod = GlooPod.of_release(values, "gloo-system", cluster.region, cluster.issuer)
    pod.run(vault_address=account.engines.bao.url, sts_endpoint=account.engines.moto.url).ok()

    workspace.pulumi("destroy", "--yes", "--stack", "dev").ok()
    mounts = account.engines.bao.api("GET", "sys/mounts").expect(200).data
    assert "dev/" in mounts, "kvRetainOnDelete keeps the kv mount and its secrets on destroy"


def test_stack_init_only_adds_the_passphrase_salt_to_a_committed_stack_file(workspace: Workspace) -> None:
    """README, "The two commands": `pulumi stack init` with a passphrase writes the salt of the stack's
    secrets into its file; nothing else of the committed file changes."""
    for stack in ("dev", "prod"):
        before = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        workspace.pulumi("stack", "init", stack).ok()
        after = workspace.stack_file(stack).read_text()
        added = after.removeprefix(before)
        assert after.startswith(before), f"stack init rewrote Pulumi.{stack}.yaml:\n{after}"
        assert list(yaml.safe_load(added)) == ["encryptionsalt"], added


PROD_VAULT_IDENTITY = "arn:aws:iam::123456789012:role/platform/vault-server"
PROD_BOUNDARY = "arn:aws:iam::123456789012:policy/platform/workload-boundary"


def up_prod(account: Account, workspace: Workspace) -> EksCluster:
    """Pulumi.prod.yaml, up: its cluster from a real cluster stack on the same backend, its external
    Vault's existing identity and the organisation's boundary given, its two secrets set."""
    cluster = account.cluster("edge-prod", "eu-west-1")
    existing_vault_identity(account, PROD_VAULT_IDENTITY)
    managed_policy(account, PROD_BOUNDARY)
    workspace.env.update(account.env())
    eks_stack = cluster_stack(workspace, cluster)
    workspace.pulumi("stack", "init", "prod").ok()
    workspace.pulumi("config", "set", "clusterStackRef", eks_stack, "--stack", "prod").ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "prod").ok()
    workspace.pulumi("config", "set", "--secret", "glooLicenseKey", "test-license", "--stack", "prod").ok()
    workspace.pulumi("preview", "--stack", "prod", "--policy-pack", "policy-pack").ok()
    workspace.pulumi("up", "--yes", "--stack", "prod").ok()
    return cluster


def test_the_prod_stack_ups_repreviews_clean_and_gloo_reads(account: Account, workspace: Workspace) -> None:
    cluster = up_prod(account, workspace)
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "prod").ok()
    values = release_values(account.kube)
    pod = GlooPod.of_release(values, "gloo-system", cluster.region, cluster.issuer)
    pod.run(vault_address=account.engines.bao.url, sts_endpoint=account.engines.moto.url).ok()


@pytest.mark.parametrize("skip_preview", [False, True], ids=["with its preview", "--skip-preview"])
def test_a_prod_destroy_stops_before_deleting_anything(
    account: Account, workspace: Workspace, skip_preview: bool
) -> None:
    up_prod(account, workspace)
    before = everything(account)
    recorded = workspace.urns("prod")
    destroy = workspace.pulumi("destroy", "--yes", "--stack", "prod", *(["--skip-preview"] if skip_preview else []))
    assert destroy.code != 0, destroy.output
    assert "protected" in destroy.output, destroy.output[-3000:]
    assert everything(account) == before
    assert workspace.urns("prod") == recorded  # the state still holds every resource


FLEET_STACK = """config:
  gloo-vault-irsa:region: us-east-1
  gloo-vault-irsa:vaultTopology: external
  gloo-vault-irsa:vaultAddress: https://vault.example.com:8200
  gloo-vault-irsa:vaultAwsPrincipalArn: arn:aws:iam::123456789012:role/vault-server
  gloo-vault-irsa:clusters:
    east-a:
      clusterName: edge-east-a
    east-b:
      clusterStackRef: organization/eks/east-b
"""


def test_a_clusters_stack_serves_each_cluster_and_drops_one_alone(
    account: Account, workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two clusters on one external Vault, each on its own API server: east-a by name, east-b from its
    own stack (in eu-west-1: a stack's cluster may be in another region). Each Gloo logs in with its
    own release's values; then east-b leaves the stack, and the engine deletes only east-b's
    resources: east-a's Gloo still reads, east-b's is refused."""
    with start_kube(tmp_path_factory.mktemp("kube-east-b")) as east_b_api:
        east_a = account.cluster("edge-east-a")
        # In another region: moto gives every EKS cluster of a region the same endpoint and issuer.
        east_b = account.cluster("edge-east-b", "eu-west-1", api_server=east_b_api)
        existing_vault_identity(account, "arn:aws:iam::123456789012:role/vault-server")
        workspace.env.update(account.env())
        cluster_stack(workspace, east_b, "organization/eks/east-b")
        workspace.stack_file("fleet").write_text(FLEET_STACK)
        workspace.pulumi("stack", "init", "fleet").ok()
        workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "fleet").ok()
        workspace.pulumi("preview", "--stack", "fleet", "--policy-pack", "policy-pack").ok()
        workspace.pulumi("up", "--yes", "--stack", "fleet").ok()
        workspace.pulumi("preview", "--expect-no-changes", "--stack", "fleet").ok()

        pods = {
            c.name: GlooPod.of_release(release_values(c.api_server), "gloo-system", c.region, c.issuer)
            for c in (east_a, east_b)
        }
        bao, sts = account.engines.bao.url, account.engines.moto.url
        tokens = {name: pod.run(vault_address=bao, sts_endpoint=sts).ok().token for name, pod in pods.items()}
        settings = gloo_settings_of(release_values(east_a.api_server), "gloo-system", lambda _: bao)
        operator = GlooSecretClient(settings, ROOT_TOKEN)
        operator.write(settings.namespace, "upstream-aws", UPSTREAM_SECRET).expect(200, 204)
        assert_removing_east_b_changes_only_it(workspace, account)

        reads = pods["edge-east-a"].run(vault_address=bao, sts_endpoint=sts).ok().reads
        assert reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}
        kept = GlooSecretClient(settings, tokens["edge-east-a"])
        renewed = kept.call("PUT", "auth/token/renew-self", {}).expect(200).body["auth"]["client_token"]
        assert renewed == tokens["edge-east-a"]
        refused = pods["edge-east-b"].run(vault_address=bao, sts_endpoint=sts).refused()
        assert refused.status == 400 and "entry for role east-b-gloo-" in refused.error, refused.error
        assert_a_removed_clusters_token_cannot_renew(GlooSecretClient(settings, tokens["edge-east-b"]))
        workspace.pulumi("destroy", "--yes", "--stack", "fleet").ok()


def assert_removing_east_b_changes_only_it(workspace: Workspace, account: Account) -> None:
    """east-b leaves `clusters`: the engine's plan deletes east-b's resources and updates Vault's grant,
    nothing else; after the up, moto and Vault hold exactly that."""
    workspace.pulumi("config", "rm", "--path", "clusters.east-b", "--stack", "fleet").ok()
    ops = {(step.op, step.name, step.type) for step in preview_steps(workspace, "fleet") if step.op != "same"}
    gone = ("delete", "discard")  # a StackReference is a read: the engine discards it
    assert {(op, name) for op, name, _ in ops if op not in gone} == {("update", "vault-identity")}, ops
    deleted = {(name, type_) for op, name, type_ in ops if op in gone}
    assert all("east-b" in name or type_ == "pulumi:providers:pulumi" for name, type_ in deleted), deleted
    assert {type_ for _, type_ in deleted} >= {
        "aws:iam/role:Role",
        "vault:aws/authBackendRole:AuthBackendRole",
        "kubernetes:helm.sh/v3:Release",
    }
    workspace.pulumi("up", "--yes", "--stack", "fleet").ok()
    outputs = json.loads(
        workspace.pulumi("stack", "output", "--json", "--show-secrets", "--stack", "fleet").ok().stdout
    )
    iam = account.engines.moto.client("iam")
    [grant] = iam.list_role_policies(RoleName="vault-server")["PolicyNames"]
    document = iam.get_role_policy(RoleName="vault-server", PolicyName=grant)["PolicyDocument"]
    assert grant_resources(document) == [outputs["clusters"]["east-a"]["glooRoleArn"]]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if "east-b" in r["RoleName"]] == []
    mount = outputs["vaultAuthMountPath"]
    assert account.engines.bao.api("LIST", f"auth/{mount}/role").expect(200).data["keys"] == [
        outputs["clusters"]["east-a"]["vaultRoleName"]
    ]


def test_a_misspelt_key_stops_a_real_preview_in_one_line_naming_the_key_meant(
    account: Account, workspace: Workspace
) -> None:
    """`regoin` would otherwise leave `region` at its default: the CLI passes every key of the
    project's namespace to the program, which refuses the one it does not know, before any resource."""
    account.cluster(GUIDE_CLUSTER)
    workspace.env.update(account.env())
    workspace.pulumi("stack", "init", "dev").ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "dev").ok()
    workspace.pulumi("config", "set", "regoin", "eu-west-1", "--stack", "dev").ok()
    preview = workspace.pulumi("preview", "--stack", "dev")
    assert preview.code != 0
    expected = (
        "error: gloo-vault-irsa:regoin: expected no such key: not one of this program's keys "
        "(docs/configuration.md); did you mean region?"
    )
    assert expected in [line.strip() for line in preview.output.splitlines()], preview.output[-3000:]
    assert "+ 1 to create" in preview.output, preview.output[-2000:]  # the stack itself, and nothing else

"""README, "Prerequisites for a real deployment": IAM is eventually consistent, and the Vault role,
written right after Vault's `iam:GetRole` grant, carries an error hook that retries Vault's
`unable to resolve ARN` while the grant propagates. Under the real engine, with the grant landing
late (the aws plugin's PutRolePolicy taking effect only seconds after it answered,
`GVI_IAM_GRANT_DELAY`), one `pulumi up` converges through the hook; a grant that never lands stops
the `up` with the program's one line after its bounded retries."""

from __future__ import annotations

import re

import pytest

from components.project import IAM_PROPAGATION_WAITS
from tests.cli.account import Account
from tests.cli.plugins.aws import GRANT_DELAY
from tests.cli.plugins.vault import REFUSALS
from tests.cli.steps import GUIDE_CLUSTER, gloo_run
from tests.cli.workspace import Workspace
from tests.engines.servers import ROOT_TOKEN

pytestmark = [pytest.mark.engines, pytest.mark.cli]


def up_with_grant_delay(account: Account, workspace: Workspace, delay: str) -> str:
    """`pulumi up` of dev while Vault's grant takes `delay` seconds to land; its output."""
    account.cluster(GUIDE_CLUSTER)
    workspace.env.update({**account.env(), GRANT_DELAY: delay})
    workspace.pulumi("stack", "init", "dev").ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "dev").ok()
    up = workspace.pulumi("up", "--yes", "--stack", "dev", timeout=900)
    return f"{up.code}\n{up.output}"


def test_a_grant_that_lands_late_is_waited_for_by_the_vault_roles_error_hook(
    account: Account, workspace: Workspace
) -> None:
    # Late enough that the Vault role's first write comes before it (the role waits for the dev
    # Vault's release and the mounts, not for the grant to land), well inside the hook's retries.
    refusals = workspace.root / "vault-refusals.log"
    workspace.env[REFUSALS] = str(refusals)
    output = up_with_grant_delay(account, workspace, str(sum(IAM_PROPAGATION_WAITS) / 3))
    assert output.startswith("0\n"), output[-4000:]
    assert "unable to resolve ARN" not in output.split("Diagnostics:")[-1], output[-4000:]
    refused = refusals.read_text().splitlines()
    assert refused and all("unable to resolve ARN" in line for line in refused), refused
    assert all(line.startswith("vault:aws/authBackendRole:AuthBackendRole ") for line in refused), refused
    workspace.env.pop(GRANT_DELAY)
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()
    gloo_run(account, account.clusters[GUIDE_CLUSTER]).ok()


def test_a_grant_that_never_lands_stops_the_up_with_one_line(account: Account, workspace: Workspace) -> None:
    output = up_with_grant_delay(account, workspace, "never")
    assert not output.startswith("0\n"), output[-4000:]
    one_line = re.compile(
        rf"gloo-vault-irsa: after {len(IAM_PROPAGATION_WAITS) + 1} attempts over {sum(IAM_PROPAGATION_WAITS):.0f}s "
        r"Vault still cannot resolve arn:aws:iam::123456789012:role/gloo-[0-9a-f]{7}: its AWS identity "
        r"\(stack output vaultAwsIdentityArn\) lacks iam:GetRole on that role"
    )
    assert one_line.search(output), output[-4000:]

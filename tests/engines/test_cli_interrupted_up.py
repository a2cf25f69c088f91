"""An interrupted `pulumi up` under the real CLI: killed with SIGKILL (the CLI and its plugins, as a
lost runner or the OOM killer leave it) while it creates Gloo's IAM role, both Vault mounts and the
Vault policy. Those four exist on their servers, but the state only records them as pending creates
(`pending_operations`), and the file backend keeps the dead run's lock.

Then what README's Troubleshooting ("An interrupted `pulumi up`") tells the user to do, run as
written, must converge: the same IAM roles, Vault mounts, roles and policies and Helm releases as a
run that was never interrupted (auto-names aside), Gloo logs in, and nothing is made twice or left
unrecorded (a second Gloo role would be an orphan; a second `dev` mount is refused by Vault).

The kill lands while the creates are in flight: the test plugins hold the listed creates after
making them (`GVI_HOLD_CREATES`, tests/cli/plugins/base.py), and the test kills once the state file
records all of them as pending.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.account import Account
from tests.cli.plugins.base import HOLD_CREATES
from tests.cli.stacks import everything
from tests.cli.steps import gloo_run, init_dev, readme_block, up_dev
from tests.cli.workspace import Workspace
from tests.engines.test_cli_import import import_commands
from tests.engines.test_troubleshooting import troubleshooting

pytestmark = [pytest.mark.engines, pytest.mark.cli]

IN_FLIGHT = (
    "aws:iam/role:Role::gloo",
    "vault:index/authBackend:AuthBackend::gloo",
    "vault:index/mount:Mount::gloo",
    "vault:index/policy:Policy::gloo",
)
"""The creates the kill interrupts: Gloo's auto-named IAM role, the two mounts at fixed paths, the policy."""

LOCKED = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
    "or delete the lock file with `pulumi cancel`."
)
"""What the CLI says to the next update of a DIY backend's stack whose run died (README quotes it)."""

STATE = Path("state") / ".pulumi"
"""The file backend's folder in a workspace (`PULUMI_BACKEND_URL=file://<root>/state`)."""


def shape(snapshot: dict[str, Any]) -> dict[str, list[str]]:
    """`everything(account)` with the random part of auto-names (`-<7 hex>`) blanked, as sorted lists:
    two runs of one program compare equal, and a resource made twice still counts twice."""

    def blank(text: str) -> str:
        return re.sub(r"-[0-9a-f]{7}(?![0-9a-f])", "-*", text)

    flat: dict[str, list[str]] = {}
    for key, value in snapshot.items():
        items = [f"{k} {v}" for k, v in value.items()] if isinstance(value, dict) else list(value)
        flat[key] = sorted(blank(str(item)) for item in items)
    return flat


def pending_in_state_file(workspace: Workspace, stack: str) -> set[str]:
    """The URNs the file backend's state file records as pending creates (read while `up` runs)."""
    path = workspace.root / STATE / "stacks" / "gloo-vault-irsa" / f"{stack}.json"
    try:
        latest = json.loads(path.read_text())["checkpoint"].get("latest") or {}
    except (OSError, ValueError):  # not written yet, or being replaced
        return set()
    return {op["resource"]["urn"] for op in latest.get("pending_operations") or [] if op["type"] == "creating"}


def killed_mid_way(workspace: Workspace, stack: str, folder: Path) -> set[str]:
    """`pulumi up --yes` killed with SIGKILL, with all of it, once `IN_FLIGHT` exist on their servers
    and the state records them as pending; returns their URNs."""
    folder.mkdir()
    env = {**workspace.env, HOLD_CREATES: json.dumps({"folder": str(folder), "creates": list(IN_FLIGHT)})}
    with (folder.parent / "killed-up.log").open("w") as log:
        up = subprocess.Popen(
            ["pulumi", "up", "--yes", "--stack", stack, "--non-interactive", "--color=never"],
            cwd=workspace.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            made: set[str] = set()
            while time.monotonic() < deadline and up.poll() is None:
                made = {json.loads(p.read_text())["urn"] for p in folder.glob("*.json")}
                if len(made) == len(IN_FLIGHT) and made <= pending_in_state_file(workspace, stack):
                    break
                time.sleep(0.2)
        finally:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
    assert len(made) == len(IN_FLIGHT), (folder.parent / "killed-up.log").read_text()[-4000:]
    return made


def readme_recovery() -> list[str]:
    """The commands of README's Troubleshooting block for an interrupted `up`, as written."""
    return [line for line in readme_block("Troubleshooting").splitlines() if line.startswith("pulumi ")]


def recover(workspace: Workspace, variables: dict[str, str]) -> None:
    """README's commands in order, on the selected stack (`--yes` for a terminal's prompt); at its
    comment, the "Adopting what exists" import line of each listed resource, with the ID listed."""
    for line in readme_recovery():
        if "|" in line:  # the listing, a pipe: as bash runs it
            done = subprocess.run(
                ["bash", "-eo", "pipefail", "-c", line],
                cwd=workspace.root,
                env=workspace.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            listed = [row.split("\t") for row in done.stdout.splitlines()]
            assert {f"{type_}::{urn.rsplit('::', 1)[-1]}" for type_, urn, _ in listed} == set(IN_FLIGHT), listed
            continue
        workspace.pulumi(*shlex.split(line, comments=True)[1:], "--yes").ok()
        if "--clear-pending-creates" in line:
            for type_, urn, id_ in listed:
                workspace.pulumi(*import_line(type_, urn, id_, variables), "--yes", "--generate-code=false").ok()


def import_line(type_: str, urn: str, id_: str, variables: dict[str, str]) -> list[str]:
    """The README's `pulumi import` line for a resource of `type_` named as `urn`, taking `id_`."""
    name = urn.rsplit("::", 1)[-1]
    found = [
        command
        for command in import_commands({**variables, "VAULT_AUTH_ROLE_NAME": id_})
        if command[1:3] == [type_, name]
    ]
    assert len(found) == 1 and found[0][3] == id_, (type_, name, id_, found)
    return found[0]


def test_an_up_killed_mid_way_converges_with_what_the_readme_says(
    account: Account, workspace: Workspace, tmp_path: Path
) -> None:
    up_dev(account, workspace)
    uninterrupted = shape(everything(account))
    workspace.pulumi("destroy", "--yes", "--stack", "dev").ok()
    account.engines.bao.api("DELETE", "sys/mounts/dev").expect(200, 204)  # kept by destroy (kvRetainOnDelete)
    assert shape(everything(account))["iam roles"] == [], "the uninterrupted run's destroy left an IAM role"

    workspace.pulumi("stack", "rm", "dev", "--yes", "--preserve-config").ok()
    cluster = init_dev(account, workspace)
    in_flight = killed_mid_way(workspace, "dev", tmp_path / "held")

    locks = list((workspace.root / STATE / "locks").rglob("*.json"))
    assert len(locks) == 1, locks
    refused = workspace.pulumi("up", "--yes", "--stack", "dev")
    assert refused.code != 0 and LOCKED in refused.output, refused.output
    assert LOCKED in troubleshooting(), "README quotes what the CLI says"
    exported = json.loads(workspace.pulumi("stack", "export", "--stack", "dev").ok().stdout)
    pending = {op["resource"]["urn"] for op in exported["deployment"].get("pending_operations") or []}
    assert pending == in_flight
    assert not in_flight & workspace.urns("dev"), "a pending create is not a resource of the state"

    variables = {"ACCOUNT_ID": "123456789012", "OIDC_PROVIDER": cluster.issuer.removeprefix("https://")}
    recover(workspace, variables)

    workspace.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()
    assert shape(everything(account)) == uninterrupted
    exported = json.loads(workspace.pulumi("stack", "export", "--stack", "dev").ok().stdout)
    assert not exported["deployment"].get("pending_operations")
    assert not list((workspace.root / STATE / "locks").rglob("*.json"))
    gloo_run(account, cluster).ok()

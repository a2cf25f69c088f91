"""The drift workflow's commands (`.github/workflows/drift.yml`: a refreshed preview, then
scripts/drift_report.py on its JSON) run as written by bash on the dev stack: clean right after the
`up`, then, after changes made behind Pulumi's back in OpenBao and moto, a report that names each
drifted resource and the input that differs (`pulumi preview --refresh` calls the plugins' Read)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli.account import Account
from tests.cli.steps import up_dev
from tests.cli.workspace import Workspace
from tests.harness import ROOT

pytestmark = [pytest.mark.engines, pytest.mark.cli]

DRIFT_STEPS = ("Refreshed preview", "Drift or error")
"""The workflow's two steps that find and report drift, in order."""


def workflow_steps() -> list[str]:
    """The `run:` scripts of the drift workflow's two reporting steps, as written."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "drift.yml").read_text())
    steps = {step.get("name"): step for job in workflow["jobs"].values() for step in job["steps"]}
    return [steps[name]["run"] for name in DRIFT_STEPS]


def drift_report(workspace: Workspace, stack: str, folder: Path) -> tuple[int, str]:
    """Runs the two steps with bash in `folder` (the checkout's scripts/, the workspace's state), as the
    runner would: the exit code and output of the last one."""
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "drift_report.py").write_text((ROOT / "scripts" / "drift_report.py").read_text())
    env = {**workspace.env, "STACK": stack, "GITHUB_STEP_SUMMARY": str(folder / "summary.md")}
    done = None
    for script in workflow_steps():
        # GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`.
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace.root,
            env={**env, "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done is not None
    return done.returncode, done.stdout + done.stderr


def test_the_drift_workflow_names_what_changed_behind_pulumis_back(account: Account, workspace: Workspace) -> None:
    up_dev(account, workspace)
    outputs = json.loads(workspace.pulumi("stack", "output", "--json", "--stack", "dev").ok().stdout)
    code, report = drift_report(workspace, "dev", workspace.root)
    assert code == 0, report

    role_path = f"auth/{outputs['vaultAuthMountPath']}/role/{outputs['vaultRoleName']}"
    account.engines.bao.api("POST", role_path, {"token_max_ttl": "72h"}).expect(200, 204)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    account.engines.moto.client("iam").update_assume_role_policy(
        RoleName=outputs["glooRoleName"], PolicyDocument=json.dumps(trust)
    )

    code, report = drift_report(workspace, "dev", workspace.root)
    assert code == 1, report
    drifted = [line for line in report.splitlines() if line.startswith("drift: ")]
    assert sorted(drifted) == [
        "drift: update aws:iam/role:Role gloo (assumeRolePolicy)",
        "drift: update vault:aws/authBackendRole:AuthBackendRole gloo (tokenMaxTtl)",
    ], report

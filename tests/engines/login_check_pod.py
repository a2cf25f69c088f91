"""The login check Job's pod, run here as EKS would run it (components/verification.py).

The Job's container command and environment are taken from the registered graph as declared;
`vault` on its PATH is tests/engines/vaultcli (Vault 1.21.4's own aws CLI handler and API
client, the image's version), and the pod gets what EKS gives a pod of the Job's service
account: the projected token and the pod identity webhook's environment from that account's
annotations in the Gloo release (gloo_pod.pod_identity). Rewritten, as for Gloo's pod: the
Vault address and the pod's route to STS (the local engines), and the termination-log path
(the kubelet's file in a pod, a temp file here).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.engines.apply import Deployment
from tests.engines.gloo_pod import pod_identity, service_account_annotations
from tests.engines.servers import VAULTCLI
from tests.harness import JOB, Registered

# The POSIX shell the Job's command names: the image's busybox there, the system's here.
SHELL = "/bin/sh"


@dataclass(frozen=True)
class JobPodRun:
    """What the Job's container did: exit code, its output, and its termination message."""

    exit_code: int
    stdout: str
    stderr: str
    termination_message: str

    @property
    def line(self) -> str:
        """The one line the check printed (stdout when it passed, stderr when it failed)."""
        lines = (self.stdout if self.exit_code == 0 else self.stderr).strip().splitlines()
        assert len(lines) == 1, self
        return lines[0]


def job_container(job: Registered) -> dict[str, Any]:
    """The Job's one container, as declared."""
    [container] = job.inputs["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def run_job_pod(
    deployment: Deployment, container: Mapping[str, Any] | None = None, *, vault_address: str | None = None
) -> JobPodRun:
    """Runs the declared Job's container (or `container` in its place) as its pod would run;
    `vault_address`: where it reaches Vault instead of the local OpenBao (a TLS front of it)."""
    job = deployment.run.one(JOB)
    container = container or job_container(job)
    pod = job.inputs["spec"]["template"]["spec"]
    declared = {e["name"]: e["value"] for e in container.get("env", [])}
    with tempfile.TemporaryDirectory(prefix="login-check-pod-") as tmp:
        work = Path(tmp)
        (work / "bin").mkdir()
        (work / "bin" / "vault").symlink_to(VAULTCLI)
        termination_log = work / "termination-log"
        termination_log.touch()
        annotations = service_account_annotations(deployment.gloo_release.inputs["values"], pod["serviceAccountName"])
        identity = pod_identity(
            work,
            issuer_url=deployment.run.outputs["oidcIssuerUrl"],
            namespace=job.inputs["metadata"]["namespace"],
            service_account=pod["serviceAccountName"],
            annotations=annotations,
            region=deployment.run.outputs["region"],
        )
        env = {
            "PATH": f"{work / 'bin'}:/usr/bin:/bin",
            "HOME": str(work),
            "AWS_EC2_METADATA_DISABLED": "true",
            "TEST_STS_ROUTE": deployment.rewrites.pod_sts_endpoint(),
            **identity,
            **declared,
            "VAULT_ADDR": vault_address or deployment.rewrites.vault_address(declared["VAULT_ADDR"]),
            "TERMINATION_LOG": str(termination_log),
        }
        command = list(container["command"])
        assert command[0] == SHELL and os.access(SHELL, os.X_OK), command[0]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        return JobPodRun(done.returncode, done.stdout, done.stderr, termination_log.read_text())

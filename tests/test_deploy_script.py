"""./scripts/deploy.sh's preflight, in a sandbox: a copy of the scripts and stack files, stub `pulumi`
and `aws` commands that record how they were called, and nothing else of this machine's on PATH.

It provides the Pulumi CLI when it can, then stops before touching anything (no virtualenv, no
login, no stack) with one line for each thing it cannot provide, all of them at once."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT

STACK_FILE = """config:
  gloo-vault-irsa:clusterName: "gloo-ee-vault-integration"  # the guide's
  gloo-vault-irsa:region: eu-west-1
"""
SECRET_TOKEN = """  gloo-vault-irsa:vaultToken:
    secure: v1:AAAA
"""
# A stub records its arguments, one call a line, then answers as the test's environment says.
PULUMI_STUB = """#!/bin/sh
echo "pulumi $*" >> "$SANDBOX_CALLS"
case "$1" in
  whoami) [ "$STUB_LOGGED_IN" = 1 ] || exit 1; [ "$2" = --json ] && echo '{"url": "file:///state"}'; exit 0 ;;
  config) exit 1 ;;
esac
exit 0
"""
AWS_STUB = """#!/bin/sh
echo "aws $*" >> "$SANDBOX_CALLS"
case "$1 $2" in
  "sts get-caller-identity")
    [ "$STUB_AWS_CREDENTIALS" = 1 ] && exit 0
    echo "Unable to locate credentials. You can configure credentials by running \\"aws configure\\"." >&2; exit 255 ;;
  "eks describe-cluster")
    [ "$STUB_CLUSTER" = ACTIVE ] && [ "$4" != "$STUB_UNKNOWN_CLUSTER" ] && { echo ACTIVE; exit 0; }
    echo "NOT_FOUND" >&2
    exit 254 ;;
esac
exit 0
"""
NOT_FOUND = (
    "An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: "
    "No cluster found for name: gloo-ee-vault-integration."
)
AWS_STUB = AWS_STUB.replace("NOT_FOUND", NOT_FOUND)
VENV_STUB = """#!/bin/sh
echo "venv $(basename "$0") $*" >> "$SANDBOX_CALLS"
"""


@dataclass
class Deploy:
    exit_code: int
    stderr: list[str]
    calls: list[str]

    @property
    def missing(self) -> list[str]:
        return [line.removeprefix("deploy: - ") for line in self.stderr if line.startswith("deploy: - ")]


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """The repository's deploy files, a stack file, and `.venv` stubs (so a run that gets that far
    records the virtualenv step instead of building one)."""
    for name in ("scripts/deploy.sh", "scripts/install-pulumi.sh", "Pulumi.yaml", "requirements.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.dev.yaml").write_text(STACK_FILE)
    for tool in ("python", "pip"):
        _executable(tmp_path / ".venv" / "bin" / tool, VENV_STUB)
    return tmp_path


def deploy(sandbox: Path, *, pulumi: bool, aws: str, env: dict[str, str] | None = None) -> Deploy:
    """Runs deploy.sh in the sandbox. `aws`: "none" (not installed), "no-credentials",
    "unknown-cluster" or "ok"."""
    stubs = sandbox / "stubs"
    if pulumi:
        _executable(stubs / "pulumi", PULUMI_STUB)
        _executable(stubs / "pulumi-language-python", "#!/bin/sh\n")
    if aws != "none":
        _executable(stubs / "aws", AWS_STUB)
    calls = sandbox / "calls"
    environment = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "HOME": str(sandbox / "home"),
        "SANDBOX_CALLS": str(calls),
        "STUB_AWS_CREDENTIALS": "0" if aws == "no-credentials" else "1",
        "STUB_CLUSTER": "ACTIVE" if aws == "ok" else "missing",
        "STUB_LOGGED_IN": "1",
        **(env or {}),
    }
    assert shutil.which("go", path=environment["PATH"]) is None  # nothing can be built here
    done = subprocess.run(
        ["bash", "scripts/deploy.sh", "dev", "--yes"],
        cwd=sandbox,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return Deploy(done.returncode, done.stderr.splitlines(), recorded)


def test_with_nothing_it_names_everything_missing_at_once_and_touches_nothing(sandbox: Path) -> None:
    run = deploy(sandbox, pulumi=False, aws="no-credentials")
    assert run.exit_code == 1
    assert run.stderr[0] == "deploy: stopped before touching anything; missing for stack dev:"
    assert run.missing == [
        "the Pulumi CLI: no 'pulumi' on PATH and no Go to build it with: install the Pulumi CLI v3.274.1 "
        "(https://www.pulumi.com/docs/install/) or Go",
        "AWS credentials: 'aws sts get-caller-identity' failed: Unable to locate credentials. "
        'You can configure credentials by running "aws configure".',
        "the cluster: cannot check EKS cluster 'gloo-ee-vault-integration' in eu-west-1 without AWS credentials",
        "the Vault token: set it first: pulumi config set --secret vaultToken <token> --stack dev "
        "(or export VAULT_TOKEN)",
    ]
    assert run.calls == ["aws sts get-caller-identity --output text"]  # read-only, and nothing else


def test_an_unknown_cluster_and_a_missing_passphrase(sandbox: Path) -> None:
    run = deploy(sandbox, pulumi=True, aws="unknown-cluster", env={"VAULT_TOKEN": "t"})
    assert run.exit_code == 1
    assert run.missing == [
        "the cluster: EKS cluster 'gloo-ee-vault-integration' in eu-west-1 is not known to these credentials: "
        + NOT_FOUND,
        "the state passphrase: the local backend encrypts secrets with it: export PULUMI_CONFIG_PASSPHRASE",
    ]
    assert not any(call.startswith(("venv", "pulumi stack", "pulumi login", "pulumi up")) for call in run.calls)


def test_without_the_aws_cli(sandbox: Path) -> None:
    run = deploy(sandbox, pulumi=True, aws="none", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert run.missing == [
        "AWS credentials: 'aws' is not installed (AWS CLI v2; the kubeconfig runs 'aws eks get-token')",
        "the cluster: cannot check EKS cluster 'gloo-ee-vault-integration' in eu-west-1 without AWS credentials",
    ]


def test_a_stack_without_a_cluster_name(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text("config:\n  gloo-vault-irsa:region: eu-west-1\n")
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert run.missing == [
        "the cluster: clusterName is not set for stack dev (pulumi config set clusterName <name> --stack dev)"
    ]


def test_with_everything_it_sets_up_and_runs_pulumi_up(sandbox: Path) -> None:
    """The Vault token as the stack's secret (no VAULT_TOKEN), the region from the stack file."""
    (sandbox / "Pulumi.dev.yaml").write_text(STACK_FILE + SECRET_TOKEN)
    run = deploy(sandbox, pulumi=True, aws="ok", env={"PULUMI_CONFIG_PASSPHRASE": "p"})
    assert (run.exit_code, run.missing) == (0, []), run.stderr
    assert "aws eks describe-cluster --name gloo-ee-vault-integration --region eu-west-1 --query cluster.status" in (
        " ".join(run.calls)
    )
    tail = [c for c in run.calls if c.startswith(("venv", "pulumi stack", "pulumi up"))]
    assert tail == [
        "venv pip install --quiet --disable-pip-version-check -r requirements.txt",
        "pulumi stack select --create dev",
        "pulumi up --stack dev --yes",
    ]


def test_the_region_defaults_to_pulumi_yamls(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text("config:\n  gloo-vault-irsa:clusterName: c1\n")
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert run.exit_code == 0, run.stderr
    assert any(c.startswith("aws eks describe-cluster --name c1 --region us-east-1 ") for c in run.calls)


HOST_SOURCE = ROOT.parent / "shared" / "pulumi-language-python"


def _pinned_version() -> str:
    return next(
        line.split("=", 1)[1]
        for line in (ROOT / "scripts" / "install-pulumi.sh").read_text().splitlines()
        if line.startswith("PULUMI_VERSION=")
    )


def test_a_cli_and_host_already_built_into_the_tool_cache_are_used(sandbox: Path) -> None:
    """No `pulumi` on PATH, no Go: the CLI and Python host install-pulumi.sh built earlier are used,
    found by the version and host source they were built from."""
    tools = sandbox / ".cache" / "tools" / "pulumi" / "bin"
    _executable(tools / "pulumi", PULUMI_STUB)
    _executable(tools / "pulumi-language-python", "#!/bin/sh\n")
    sources = b"".join((HOST_SOURCE / name).read_bytes() for name in ("main.go", "go.mod", "go.sum"))
    (tools / ".installed").write_text(f"{_pinned_version()} host:{hashlib.sha256(sources).hexdigest()[:16]}\n")
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p", "PULUMI_PYTHON_HOST_SOURCE": str(HOST_SOURCE)}
    run = deploy(sandbox, pulumi=False, aws="ok", env=env)
    assert run.exit_code == 0, run.stderr
    assert "pulumi up --stack dev --yes" in run.calls


def test_a_cli_built_for_another_host_source_is_rebuilt_not_used(sandbox: Path) -> None:
    """The stamp names what the host was built from: another source is not used as if it were built
    (here no Go can rebuild it, which the run says in its one line)."""
    tools = sandbox / ".cache" / "tools" / "pulumi" / "bin"
    _executable(tools / "pulumi", PULUMI_STUB)
    _executable(tools / "pulumi-language-python", "#!/bin/sh\n")
    (tools / ".installed").write_text(f"{_pinned_version()} host:0000000000000000\n")
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p", "PULUMI_PYTHON_HOST_SOURCE": str(HOST_SOURCE)}
    run = deploy(sandbox, pulumi=False, aws="ok", env=env)
    assert run.exit_code == 1
    assert any("no 'pulumi' on PATH and no Go to build it with" in line for line in run.missing), run.stderr


def test_a_cli_without_its_python_language_host(sandbox: Path) -> None:
    """A `pulumi` on PATH without `pulumi-language-python` beside it or on PATH cannot run the program."""
    stubs = sandbox / "own-cli"
    _executable(stubs / "pulumi", PULUMI_STUB)
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p", "PATH": f"{stubs}:{sandbox / 'stubs'}:/usr/bin:/bin"}
    run = deploy(sandbox, pulumi=False, aws="ok", env=env)
    assert run.exit_code == 1
    assert run.missing == [
        f"the Pulumi CLI's Python language host: no pulumi-language-python beside {stubs / 'pulumi'} nor on PATH "
        "(it comes with the CLI from https://www.pulumi.com/docs/install/)"
    ]


def test_a_cluster_from_its_own_stack_is_not_looked_up_here(sandbox: Path) -> None:
    """Pulumi.prod.yaml's way: `clusterStackRef` names the cluster; the program checks that stack's outputs."""
    (sandbox / "Pulumi.dev.yaml").write_text("config:\n  gloo-vault-irsa:clusterStackRef: acme/eks/prod\n")
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert (run.exit_code, run.missing) == (0, []), run.stderr
    assert not any("describe-cluster" in call for call in run.calls)


CLUSTERS_FILE = """config:
  gloo-vault-irsa:region: eu-west-1
  gloo-vault-irsa:clusters:
    eu-a:
      clusterName: edge-eu-a   # by name
    eu-b:
      clusterStackRef: acme/eks/prod-eu-b
    eu-c:
      adoptOidcProvider: true
      clusterName: "edge-eu-c"
  gloo-vault-irsa:vaultTopology: external
"""


def test_each_cluster_named_in_clusters_is_checked(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text(CLUSTERS_FILE)
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p", "STUB_UNKNOWN_CLUSTER": "edge-eu-c"}
    run = deploy(sandbox, pulumi=True, aws="ok", env=env)
    looked_up = [c.split()[4] for c in run.calls if c.startswith("aws eks describe-cluster")]
    assert looked_up == ["edge-eu-a", "edge-eu-c"]
    assert run.missing == [
        "the cluster: EKS cluster 'edge-eu-c' in eu-west-1 is not known to these credentials: " + NOT_FOUND
    ]

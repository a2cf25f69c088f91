"""./scripts/deploy.sh's preflight, in a sandbox: a copy of the scripts and stack files, stub `pulumi`
and `aws` commands that record how they were called, and nothing else of this machine's on PATH.

It provides the Pulumi CLI when it can, then stops before touching anything (no virtualenv, no
login, no stack) with one line for each thing it cannot provide, all of them at once."""

from __future__ import annotations

import functools
import hashlib
import io
import platform
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
# The sandbox's .venv python is this test run's own (it has PyYAML, as the real .venv does).
VENV_PYTHON = f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
# A Go that builds nothing: it records each call and writes a stub CLI where `go build -o` points,
# after STUB_GO_SECONDS (a build's length).
GO_STUB = """#!/bin/bash
echo "go $*" >> "$SANDBOX_CALLS"
if [ "$1" = build ]; then
  sleep "${STUB_GO_SECONDS:-0}"
  while [ $# -gt 0 ]; do [ "$1" = -o ] && { cp "$STUB_BUILT_CLI" "$2"; chmod +x "$2"; }; shift; done
fi
exit 0
"""
# The Python host's source: its build.sh writes the host and its exec shim where it is told.
HOST_BUILD = """#!/bin/bash
echo "host build.sh $*" >> "$SANDBOX_CALLS"
mkdir -p "$1" && printf '#!/bin/sh\\n' > "$1/pulumi-language-python" && chmod +x "$1/pulumi-language-python"
touch "$1/pulumi-language-python-exec"
"""
BUILT_MARK = "# built from source by the Go stub\n"
ARCHIVE_MARK = "# from the release archive\n"


@dataclass
class Deploy:
    exit_code: int
    stderr: list[str]
    calls: list[str]
    seconds: float

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
    for name in DEPLOY_FILES:
        if (ROOT / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.dev.yaml").write_text(STACK_FILE)
    _executable(tmp_path / ".venv" / "bin" / "pip", VENV_STUB)
    _executable(tmp_path / ".venv" / "bin" / "python", VENV_PYTHON)
    return tmp_path


DEPLOY_FILES = (
    "scripts/deploy.sh",
    "scripts/install-pulumi.sh",
    "scripts/stack_config.py",
    "Pulumi.yaml",
    "requirements.txt",
)


def with_go(sandbox: Path) -> dict[str, str]:
    """A Go stub on PATH and a host source whose build.sh is a stub: a build that builds nothing."""
    go = sandbox / "go-stub"
    _executable(go / "go", GO_STUB)
    _executable(sandbox / "built-cli", PULUMI_STUB + BUILT_MARK)
    source = sandbox / "host-source"
    for name in ("main.go", "go.mod", "go.sum"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(f"// {name}\n")
    _executable(source / "build.sh", HOST_BUILD)
    return {
        "PATH": f"{sandbox / 'stubs'}:{go}:/usr/bin:/bin",
        "PULUMI_PYTHON_HOST_SOURCE": str(source),
        "STUB_BUILT_CLI": str(sandbox / "built-cli"),
    }


def run_script(
    sandbox: Path, script: str, args: tuple[str, ...], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A script of the sandbox's copy, with only the environment given."""
    return subprocess.run(
        ["bash", script, *args], cwd=sandbox, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def deploy(
    sandbox: Path,
    *,
    pulumi: bool,
    aws: str,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = ("dev", "--yes"),
) -> Deploy:
    """Runs deploy.sh in the sandbox. `aws`: "none" (not installed), "no-credentials",
    "unknown-cluster" or "ok". The release download is off unless the test serves one."""
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
        "PULUMI_RELEASE_BASE_URL": "",
        **(env or {}),
    }
    if "STUB_BUILT_CLI" not in environment:
        assert shutil.which("go", path=environment["PATH"]) is None  # nothing can be built here
    started = time.monotonic()
    done = run_script(sandbox, "scripts/deploy.sh", args, environment)
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return Deploy(done.returncode, done.stderr.splitlines(), recorded, time.monotonic() - started)


def test_with_nothing_it_names_everything_missing_at_once_and_touches_nothing(sandbox: Path) -> None:
    run = deploy(sandbox, pulumi=False, aws="no-credentials")
    assert run.exit_code == 1
    assert run.stderr[0].startswith("deploy: state backend: local files, file://~ (~/.pulumi): none is chosen")
    assert run.stderr[1] == "deploy: stopped before touching anything; missing for stack dev:"
    assert run.missing == [
        "the Pulumi CLI: no 'pulumi' on PATH, the release download is off (PULUMI_RELEASE_BASE_URL is empty) and "
        "no Go to build it with: install the Pulumi CLI v3.274.1 (https://www.pulumi.com/docs/install/) or Go",
        "AWS credentials: 'aws sts get-caller-identity' failed: Unable to locate credentials. "
        'You can configure credentials by running "aws configure".',
        "the cluster: cannot check EKS cluster 'gloo-ee-vault-integration' in eu-west-1 without AWS credentials",
        "the state passphrase: the local backend encrypts the stack's secrets with it: "
        "export PULUMI_CONFIG_PASSPHRASE=<passphrase>",
        "the Vault token: export VAULT_TOKEN=<token>, or keep it as the stack's secret: "
        "pulumi login --local && pulumi stack select --create dev && pulumi config set --secret vaultToken <token>",
    ]
    assert run.calls == ["aws sts get-caller-identity --output text"]  # read-only, and nothing else


def test_an_unknown_cluster_and_a_missing_passphrase(sandbox: Path) -> None:
    run = deploy(sandbox, pulumi=True, aws="unknown-cluster", env={"VAULT_TOKEN": "t"})
    assert run.exit_code == 1
    assert run.missing == [
        "the cluster: EKS cluster 'gloo-ee-vault-integration' in eu-west-1 is not known to these credentials: "
        + NOT_FOUND,
        "the state passphrase: the local backend encrypts the stack's secrets with it: "
        "export PULUMI_CONFIG_PASSPHRASE=<passphrase>",
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
        "the cluster: clusterName is not set for stack dev: write gloo-vault-irsa:clusterName: <name> under config: "
        "in Pulumi.dev.yaml (or clusterStackRef, or clusters)"
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
    assert any("and no Go to build it with" in line for line in run.missing), run.stderr


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


# Item 12: the stack file is read with a YAML parser, the stack name is checked, the backend is chosen
# before any secret is asked for, and an enterprise stack's license key is checked.


def test_a_later_block_is_not_read_as_a_cluster(sandbox: Path) -> None:
    """A map after `clusters` with its own `clusterName` key (a cost-allocation tag) is not a cluster:
    the awk range that ended `clusters` used an interval `{0,2}`, which mawk 1.3.4 does not know."""
    tags = "  gloo-vault-irsa:awsDefaultTags:\n    clusterName: cost-allocation\n"
    (sandbox / "Pulumi.dev.yaml").write_text(CLUSTERS_FILE + tags)
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"}
    run = deploy(sandbox, pulumi=True, aws="ok", env=env)
    looked_up = [c.split()[4] for c in run.calls if c.startswith("aws eks describe-cluster")]
    assert looked_up == ["edge-eu-a", "edge-eu-c"]
    assert (run.exit_code, run.missing) == (0, []), run.stderr


def test_a_flow_style_clusters_map_is_read(sandbox: Path) -> None:
    """YAML, not lines: the same map written inline is the same clusters."""
    inline = (
        "config:\n  gloo-vault-irsa:region: eu-west-1\n"
        "  gloo-vault-irsa:clusters: {a: {clusterName: edge-a}, b: {clusterStackRef: acme/eks/b}}\n"
    )
    (sandbox / "Pulumi.dev.yaml").write_text(inline)
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert [c.split()[4] for c in run.calls if c.startswith("aws eks describe-cluster")] == ["edge-a"]


def test_a_yaml_error_in_the_stack_file_is_one_line(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text("config:\n  gloo-vault-irsa:clusterName: [edge\n  x: 1\n")
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert run.exit_code == 1
    assert len(run.stderr) == 1, run.stderr
    assert re.fullmatch(r"deploy: Pulumi\.dev\.yaml line \d+: .+", run.stderr[0]), run.stderr
    assert run.calls == []


@pytest.mark.parametrize("flag", ["--yes", "-y", "--skip-preview"])
def test_a_flag_is_not_a_stack_name(sandbox: Path, flag: str) -> None:
    run = deploy(sandbox, pulumi=True, aws="ok", args=(flag,))
    assert run.exit_code == 2
    assert run.stderr == [
        f"deploy: '{flag}' is not a stack name; usage: ./scripts/deploy.sh [--new-stack] <stack> "
        "[pulumi up flags...], e.g. ./scripts/deploy.sh dev --yes"
    ]
    assert run.calls == []


@pytest.mark.parametrize("name", ["Dev", "staging", "acme/gloo-vault-irsa/staging"])
def test_a_stack_without_its_file_is_refused(sandbox: Path, name: str) -> None:
    """A misspelt name is not created on the spot: the stack files here are named instead."""
    (sandbox / "Pulumi.prod.yaml").write_text("config: {}\n")
    run = deploy(sandbox, pulumi=True, aws="ok", args=(name, "--yes"))
    assert run.exit_code == 2
    file = f"Pulumi.{name.rsplit('/', 1)[-1]}.yaml"
    assert run.stderr == [
        f"deploy: no {file} for stack '{name}' (stacks with a file here: dev prod); "
        f"to create a new stack, write {file} or run ./scripts/deploy.sh --new-stack {name}"
    ]
    assert run.calls == []


def test_a_new_stack_is_created_when_asked(sandbox: Path) -> None:
    """`--new-stack` (anywhere, never passed on to `pulumi up`) creates a stack whose file is not written
    yet; the preflight then says what its config needs, as the file's way (no backend needed)."""
    run = deploy(sandbox, pulumi=True, aws="ok", args=("staging", "--new-stack", "--yes"), env={"VAULT_TOKEN": "t"})
    assert run.exit_code == 1
    assert "the cluster: clusterName is not set for stack staging: write gloo-vault-irsa:clusterName: <name> " in (
        "\n".join(run.missing)
    )
    (sandbox / "Pulumi.qa.yaml").write_text(STACK_FILE)
    (sandbox / "Pulumi.dev.yaml").unlink()
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"}
    run = deploy(sandbox, pulumi=True, aws="ok", args=("--new-stack", "qa", "--yes"), env=env)
    assert run.exit_code == 0, run.stderr
    assert [c for c in run.calls if c.startswith(("pulumi stack", "pulumi up"))] == [
        "pulumi stack select --create qa",
        "pulumi up --stack qa --yes",
    ]


def _credentials(sandbox: Path, current: str) -> None:
    """A `pulumi login` of the sandbox's user: what `pulumi whoami` reads."""
    home = sandbox / "home" / ".pulumi"
    home.mkdir(parents=True, exist_ok=True)
    (home / "credentials.json").write_text(f'{{"current": "{current}", "accessTokens": {{}}}}')


def test_with_no_backend_chosen_the_local_one_is_said_before_any_secret_is_asked_for(sandbox: Path) -> None:
    """No PULUMI_BACKEND_URL, no login: the run says it uses local files, and every command it gives
    for a secret chooses that backend and the stack first (else `pulumi config set` opens Pulumi
    Cloud's login prompt, or finds no stack)."""
    run = deploy(sandbox, pulumi=True, aws="ok")
    assert run.stderr[0] == (
        "deploy: state backend: local files, file://~ (~/.pulumi): none is chosen "
        "(no PULUMI_BACKEND_URL, no pulumi login), so deploy.sh logs in there; "
        "set PULUMI_BACKEND_URL or run pulumi login for another"
    )
    assert run.missing == [
        "the state passphrase: the local backend encrypts the stack's secrets with it: "
        "export PULUMI_CONFIG_PASSPHRASE=<passphrase>",
        "the Vault token: export VAULT_TOKEN=<token>, or keep it as the stack's secret: "
        "pulumi login --local && pulumi stack select --create dev && pulumi config set --secret vaultToken <token>",
    ]


def test_an_existing_login_is_the_backend(sandbox: Path) -> None:
    """Logged in to Pulumi Cloud: no passphrase, and no login in the hint."""
    _credentials(sandbox, "https://api.pulumi.com")
    run = deploy(sandbox, pulumi=True, aws="ok")
    assert run.stderr[0] == "deploy: state backend: https://api.pulumi.com (your pulumi login)"
    assert run.missing == [
        "the Vault token: export VAULT_TOKEN=<token>, or keep it as the stack's secret: "
        "pulumi stack select --create dev && pulumi config set --secret vaultToken <token>",
    ]


def test_pulumi_backend_url_is_the_backend(sandbox: Path) -> None:
    """PULUMI_BACKEND_URL wins over a login; a self-managed backend needs the passphrase; no
    `pulumi login --local` is run over it."""
    _credentials(sandbox, "https://api.pulumi.com")
    env = {"PULUMI_BACKEND_URL": "s3://acme-state", "VAULT_TOKEN": "t"}
    run = deploy(sandbox, pulumi=True, aws="ok", env=env)
    assert run.stderr[0] == "deploy: state backend: s3://acme-state (PULUMI_BACKEND_URL)"
    assert run.missing == [
        "the state passphrase: the s3://acme-state backend encrypts the stack's secrets with it: "
        "export PULUMI_CONFIG_PASSPHRASE=<passphrase>"
    ]
    run = deploy(sandbox, pulumi=True, aws="ok", env={**env, "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert run.exit_code == 0, run.stderr
    assert not any(c.startswith("pulumi login") for c in run.calls)


def test_a_stack_with_its_own_secrets_provider_needs_no_passphrase(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text("secretsprovider: awskms://alias/state\n" + STACK_FILE)
    run = deploy(sandbox, pulumi=True, aws="ok", env={"VAULT_TOKEN": "t"})
    assert (run.exit_code, run.missing) == (0, []), run.stderr


ENTERPRISE = STACK_FILE + "  gloo-vault-irsa:glooEdition: enterprise\n"


def test_an_enterprise_stack_needs_its_license_key(sandbox: Path) -> None:
    (sandbox / "Pulumi.dev.yaml").write_text(ENTERPRISE)
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"}
    run = deploy(sandbox, pulumi=True, aws="ok", env=env)
    assert run.exit_code == 1
    assert run.missing == [
        "the Gloo Edge Enterprise license key: glooEdition is enterprise and glooLicenseKey is not set: "
        "pulumi login --local && pulumi stack select --create dev && pulumi config set --secret glooLicenseKey <key>"
    ]
    (sandbox / "Pulumi.dev.yaml").write_text(ENTERPRISE + "  gloo-vault-irsa:glooLicenseKey:\n    secure: v1:BBBB\n")
    run = deploy(sandbox, pulumi=True, aws="ok", env=env)
    assert (run.exit_code, run.missing) == (0, []), run.stderr


def test_secrets_from_an_esc_environment_are_left_to_the_program(sandbox: Path) -> None:
    """Pulumi.prod.yaml's other way: an imported ESC environment may set them; only the CLI can
    open it, and the program says in one line what is missing."""
    (sandbox / "Pulumi.dev.yaml").write_text("environment:\n  - gloo-vault-irsa/dev\n" + ENTERPRISE)
    run = deploy(sandbox, pulumi=True, aws="ok", env={"PULUMI_CONFIG_PASSPHRASE": "p"})
    assert (run.exit_code, run.missing) == (0, []), run.stderr


# Item 11: everything that stops the run is said first; then the CLI comes from Pulumi's release
# archive, checksum-verified, else from a build that says it is still going.


def test_everything_that_stops_the_run_is_said_before_any_build(sandbox: Path) -> None:
    """Go can build the CLI (here in 20 s), but AWS credentials are missing: the run stops in the
    first seconds, nothing built."""
    env = with_go(sandbox) | {"STUB_GO_SECONDS": "20"}
    run = deploy(sandbox, pulumi=False, aws="no-credentials", env=env)
    assert not any(c.startswith(("go ", "host ")) for c in run.calls), run.calls
    assert run.seconds < 5
    assert run.exit_code == 1
    assert [line.split(":")[0] for line in run.missing] == [
        "AWS credentials",
        "the cluster",
        "the state passphrase",
        "the Vault token",
    ]


def _platform() -> str:
    """Pulumi's name for this machine in its archives' names (pulumi-v<version>-<os>-<arch>.tar.gz)."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
    return f"{platform.system().lower()}-{arch}"


def _archive(files: dict[str, str]) -> bytes:
    """A release archive as Pulumi's are laid out: every binary in a top folder `pulumi/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f"pulumi/{name}")
            member.size, member.mode = len(data), 0o755
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class Release:
    url: str
    requested: list[str]
    archive_name: str


def _serve(folder: Path) -> Iterator[Release]:
    requested: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            requested.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Release(f"http://127.0.0.1:{server.server_address[1]}/releases/sdk", requested, "")
    finally:
        server.shutdown()
        thread.join()


def _release(tmp_path: Path, *, good_checksum: bool) -> Iterator[Release]:
    """Pulumi's release files for the pinned version (archive, and the checksums file of every
    platform's archive), served from 127.0.0.1."""
    version = _pinned_version()
    folder = tmp_path / "served"
    sdk = folder / "releases" / "sdk"
    sdk.mkdir(parents=True)
    name = f"pulumi-{version}-{_platform()}.tar.gz"
    data = _archive(
        {
            "pulumi": PULUMI_STUB + ARCHIVE_MARK,
            "pulumi-language-python": "#!/bin/sh\n",
            "pulumi-language-python-exec": "#!/bin/sh\n",
        }
    )
    (sdk / name).write_bytes(data)
    digest = hashlib.sha256(data if good_checksum else data + b"tampered").hexdigest()
    other = f"pulumi-{version}-windows-x64.zip"
    (sdk / f"pulumi-{version.removeprefix('v')}-checksums.txt").write_text(f"{'0' * 64}  {other}\n{digest}  {name}\n")
    for served in _serve(folder):
        served.archive_name = name
        yield served


@pytest.fixture
def release(tmp_path: Path) -> Iterator[Release]:
    yield from _release(tmp_path, good_checksum=True)


@pytest.fixture
def tampered_release(tmp_path: Path) -> Iterator[Release]:
    yield from _release(tmp_path, good_checksum=False)


def install(sandbox: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs install-pulumi.sh in the sandbox, as deploy.sh and test.sh do (stdout: the CLI's path)."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(sandbox / "home"),
        "SANDBOX_CALLS": str(sandbox / "calls"),
        "PULUMI_PYTHON_HOST_SOURCE": str(sandbox / "no-host-source"),
        **env,
    }
    return run_script(sandbox, "scripts/install-pulumi.sh", (), environment)


def test_the_release_archive_is_installed_when_its_checksum_matches(sandbox: Path, release: Release) -> None:
    """CLI and Python host together from the archive, verified against Pulumi's checksums file;
    nothing is built (no Go here)."""
    done = install(sandbox, {"PULUMI_RELEASE_BASE_URL": release.url})
    assert done.returncode == 0, done.stderr
    tools = sandbox / ".cache" / "tools" / "pulumi" / "bin"
    assert done.stdout == f"{tools / 'pulumi'}\n"
    assert (tools / "pulumi").read_text().endswith(ARCHIVE_MARK)
    assert (tools / "pulumi-language-python").stat().st_mode & stat.S_IXUSR
    version = _pinned_version()
    assert release.requested == [
        f"/releases/sdk/pulumi-{version.removeprefix('v')}-checksums.txt",
        f"/releases/sdk/{release.archive_name}",
    ]
    again = install(sandbox, {"PULUMI_RELEASE_BASE_URL": release.url})  # kept: no second download
    assert (again.returncode, again.stdout, len(release.requested)) == (0, done.stdout, 2)


def test_a_bad_checksum_is_refused_in_one_line_and_the_cli_is_built(sandbox: Path, tampered_release: Release) -> None:
    env = with_go(sandbox) | {"PULUMI_RELEASE_BASE_URL": tampered_release.url}
    env["PATH"] = f"{sandbox / 'go-stub'}:/usr/bin:/bin"
    done = install(sandbox, env)
    assert done.returncode == 0, done.stderr
    about_archive = [line for line in done.stderr.splitlines() if tampered_release.archive_name in line]
    assert len(about_archive) == 1, done.stderr
    assert re.fullmatch(
        rf"install-pulumi: refused {re.escape(tampered_release.archive_name)}: its sha256 [0-9a-f]{{64}} is not "
        r"[0-9a-f]{64}, the one in pulumi-[0-9.]+-checksums\.txt; building from source instead",
        about_archive[0],
    ), about_archive
    tools = sandbox / ".cache" / "tools" / "pulumi" / "bin"
    assert (tools / "pulumi").read_text().endswith(BUILT_MARK)  # the tampered archive is not used
    assert (tools / "pulumi-language-python").exists()


def test_an_unreachable_download_falls_back_to_the_build(sandbox: Path) -> None:
    """A closed port on 127.0.0.1 stands for a machine that reaches no download host."""
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = with_go(sandbox) | {"PULUMI_RELEASE_BASE_URL": f"http://127.0.0.1:{closed}/releases/sdk"}
    env["PATH"] = f"{sandbox / 'go-stub'}:/usr/bin:/bin"
    done = install(sandbox, env)
    assert done.returncode == 0, done.stderr
    assert f"install-pulumi: cannot download {env['PULUMI_RELEASE_BASE_URL']}/pulumi-" in done.stderr
    assert "; building from source instead\n" in done.stderr
    assert (sandbox / ".cache" / "tools" / "pulumi" / "bin" / "pulumi").read_text().endswith(BUILT_MARK)


def test_with_nothing_to_build_with_a_refused_archive_is_the_one_line_reason(
    sandbox: Path, tampered_release: Release
) -> None:
    """The output contract deploy.sh and test.sh read: one line on stdout, exit 1, nothing installed."""
    done = install(sandbox, {"PULUMI_RELEASE_BASE_URL": tampered_release.url})
    assert done.returncode == 1
    assert re.fullmatch(
        rf"no 'pulumi' on PATH, refused {re.escape(tampered_release.archive_name)}: its sha256 [0-9a-f]{{64}} is not "
        r"[0-9a-f]{64}, the one in pulumi-[0-9.]+-checksums\.txt and no Go to build it with: install the Pulumi CLI "
        r"v[0-9.]+ \(https://www\.pulumi\.com/docs/install/\) or Go\n",
        done.stdout,
    ), done.stdout
    assert not (sandbox / ".cache" / "tools" / "pulumi" / "bin" / "pulumi").exists()


def test_a_build_says_it_is_still_going_at_least_every_30_seconds(sandbox: Path) -> None:
    env = with_go(sandbox) | {"STUB_GO_SECONDS": "3.5", "PULUMI_INSTALL_HEARTBEAT_SECONDS": "1"}
    env["PATH"] = f"{sandbox / 'go-stub'}:/usr/bin:/bin"
    started = time.monotonic()
    done = install(sandbox, env | {"PULUMI_RELEASE_BASE_URL": ""})
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10  # the heartbeat does not outlive the build
    beats = [line for line in done.stderr.splitlines() if "still building" in line]
    assert len(beats) >= 2, done.stderr
    assert re.fullmatch(r"install-pulumi: still building the Pulumi CLI v[0-9.]+: \d+m\d\ds elapsed", beats[0])
    default = re.search(
        r"PULUMI_INSTALL_HEARTBEAT_SECONDS:-(\d+)", (ROOT / "scripts" / "install-pulumi.sh").read_text()
    )
    assert default is not None and int(default.group(1)) <= 30


def test_deploy_installs_the_release_after_its_checks_and_runs_up(sandbox: Path, release: Release) -> None:
    env = {"VAULT_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p", "PULUMI_RELEASE_BASE_URL": release.url}
    run = deploy(sandbox, pulumi=False, aws="ok", env=env)
    assert run.exit_code == 0, run.stderr
    assert run.calls[-1] == "pulumi up --stack dev --yes"  # the archive's CLI
    assert len(release.requested) == 2


def test_test_sh_never_downloads_the_cli() -> None:
    """This machine and CI reach no download host: test.sh builds or finds the CLI, never fetches it."""
    lines = (ROOT / "scripts" / "test.sh").read_text().splitlines()
    calls = [line for line in lines if "./scripts/install-pulumi.sh" in line and not line.lstrip().startswith("#")]
    assert calls and all(re.search(r"PULUMI_RELEASE_BASE_URL= \./scripts/install-pulumi\.sh", c) for c in calls), calls

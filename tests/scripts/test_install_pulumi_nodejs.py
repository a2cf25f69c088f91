"""scripts/install-pulumi.sh also provides Pulumi's Node.js language host, which a TypeScript program
using the component package runs through (examples/typescript), without the Python program ever
needing it: a CLI and Python host built before keep working, and a Node.js host that cannot be had
leaves the CLI usable and its one-line reason where the TypeScript tests read it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.scripts import test_deploy
from tests.scripts.test_deploy import PULUMI_STUB, _executable, _pinned_version, install, run_script, with_go

sandbox = test_deploy.sandbox
"""The fixture: the repository's deploy files in a temporary folder (tests/scripts/test_deploy.py)."""

NODEJS_BUILD = """#!/bin/bash
echo "nodejs build.sh $*" >> "$SANDBOX_CALLS"
mkdir -p "$1" && printf '#!/bin/sh\\n' > "$1/pulumi-language-nodejs" && chmod +x "$1/pulumi-language-nodejs"
"""
NODEJS_FILES = ("main.go", "proxy.go", "go.mod", "go.sum")


def built_cli_and_python_host(sandbox: Path) -> Path:
    """The CLI and Python host as install-pulumi.sh built them before it knew the Node.js host: its
    stamp names only the version and the Python host's source."""
    tools = sandbox / ".cache" / "tools" / "pulumi" / "bin"
    _executable(tools / "pulumi", PULUMI_STUB)
    _executable(tools / "pulumi-language-python", "#!/bin/sh\n")
    sources = b"".join((sandbox / "host-source" / name).read_bytes() for name in ("main.go", "go.mod", "go.sum"))
    (tools / ".installed").write_text(f"{_pinned_version()} host:{hashlib.sha256(sources).hexdigest()[:16]}\n")
    return tools


def nodejs_source(sandbox: Path) -> Path:
    source = sandbox / "nodejs-source"
    for name in NODEJS_FILES:
        source.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(f"// {name}\n")
    _executable(source / "build.sh", NODEJS_BUILD)
    return source


def install_with_nodejs(sandbox: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """install-pulumi.sh --with-nodejs in the sandbox, as test.sh runs it."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(sandbox / "home"), "SANDBOX_CALLS": str(sandbox / "calls")}
    return run_script(sandbox, "scripts/install-pulumi.sh", ("--with-nodejs",), environment | env)


def calls(sandbox: Path) -> list[str]:
    recorded = sandbox / "calls"
    return recorded.read_text().splitlines() if recorded.exists() else []


def test_only_the_nodejs_host_is_built_beside_an_earlier_cli_and_kept_until_its_source_changes(
    sandbox: Path,
) -> None:
    env = with_go(sandbox) | {"PULUMI_RELEASE_BASE_URL": ""}
    tools = built_cli_and_python_host(sandbox)
    source = nodejs_source(sandbox)
    env["PULUMI_NODEJS_HOST_SOURCE"] = str(source)

    done = install_with_nodejs(sandbox, env)
    assert (done.returncode, done.stdout) == (0, f"{tools / 'pulumi'}\n"), done.stderr
    assert [c.split(" /")[0] for c in calls(sandbox)] == ["nodejs build.sh"]  # no CLI, no Python host build
    assert (tools / "pulumi-language-nodejs").stat().st_mode & 0o100
    first, second = (tools / ".installed").read_text().splitlines()
    assert first.startswith(f"{_pinned_version()} host:")
    assert second.startswith("nodejs:")

    install_with_nodejs(sandbox, env)
    assert len(calls(sandbox)) == 1, calls(sandbox)  # kept
    (source / "proxy.go").write_text("// another proxy.go\n")
    install_with_nodejs(sandbox, env)
    assert [c.split(" /")[0] for c in calls(sandbox)] == ["nodejs build.sh"] * 2, calls(sandbox)


def test_without_a_nodejs_host_the_cli_is_still_provided_and_the_reason_is_kept_in_one_line(
    sandbox: Path,
) -> None:
    env = with_go(sandbox) | {"PULUMI_RELEASE_BASE_URL": ""}
    env["PULUMI_NODEJS_HOST_SOURCE"] = str(sandbox / "no-nodejs-source")
    tools = built_cli_and_python_host(sandbox)

    done = install_with_nodejs(sandbox, env)
    assert (done.returncode, done.stdout) == (0, f"{tools / 'pulumi'}\n"), done.stderr
    reason = (sandbox / ".cache" / "tools" / "pulumi.unavailable").read_text()
    assert reason == (
        "pulumi-language-nodejs (Pulumi's Node.js host, for TypeScript programs) is missing: "
        f"no source of it at {sandbox / 'no-nodejs-source'} (PULUMI_NODEJS_HOST_SOURCE)\n"
    )
    assert reason in done.stderr
    assert not (tools / "pulumi-language-nodejs").exists()


def test_deploy_sh_s_install_builds_no_nodejs_host(sandbox: Path) -> None:
    """A Python program's deploy (install-pulumi.sh without --with-nodejs) spends no build on it."""
    env = with_go(sandbox) | {"PULUMI_RELEASE_BASE_URL": ""}
    env["PULUMI_NODEJS_HOST_SOURCE"] = str(nodejs_source(sandbox))
    tools = built_cli_and_python_host(sandbox)
    done = install(sandbox, env)
    assert (done.returncode, done.stdout, calls(sandbox)) == (0, f"{tools / 'pulumi'}\n", []), done.stderr
    assert not (sandbox / ".cache" / "tools" / "pulumi.unavailable").exists()

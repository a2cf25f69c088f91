"""The Pulumi CLI as a user runs it, on a copy of this project, with the test provider plugins.

`Workspace` copies the program (Pulumi.yaml, the stack files, `__main__.py`, `components/`, the
policy pack) into a temporary directory, so the CLI's writes to stack files never touch the
checkout, and runs `pulumi` there: state on a file backend in that directory, secrets with a
passphrase, plugins from `tests/cli/bin` on `PATH` (unless `GVI_REAL_PLUGINS=1`: then the real
plugins installed with `pulumi plugin install` are used unchanged), the CLI and Python host that
`scripts/install-pulumi.sh` provides, or the `pulumi` on `PATH` where no build is there.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from components.config.vault_versions import OFFLINE_ENV
from tests.harness import ROOT

TOOLS = ROOT / ".cache" / "tools"
CLI_DIR = TOOLS / "pulumi" / "bin"
"""Where scripts/install-pulumi.sh puts the pinned CLI and Pulumi's Python language host."""
PLUGINS = ROOT / "tests" / "cli" / "bin"
PASSPHRASE = "cli-tests-passphrase"
REAL_PLUGINS = "GVI_REAL_PLUGINS"
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", "components", "policy-pack", "examples", "package")


def pinned_version() -> str:
    """The project's one pin of the CLI (`PULUMI_VERSION` in scripts/install-pulumi.sh)."""
    script = (ROOT / "scripts" / "install-pulumi.sh").read_text()
    [version] = re.findall(r"^PULUMI_VERSION=(v\S+)$", script, flags=re.MULTILINE)
    return str(version)


NODEJS_HOST = "pulumi-language-nodejs"
"""Pulumi's Node.js language host: only the TypeScript tests need it (scripts/install-pulumi.sh)."""


def _hosts(nodejs: bool) -> tuple[str, ...]:
    return ("pulumi-language-python", NODEJS_HOST) if nodejs else ("pulumi-language-python",)


def installed_cli(nodejs: bool = False) -> Path | None:
    """The official CLI of the pinned version on PATH, with its Python host (and with `nodejs` its
    Node.js host) beside it, if any."""
    found = shutil.which("pulumi")
    if not found or not all(shutil.which(host, path=str(Path(found).parent)) for host in _hosts(nodejs)):
        return None
    version = subprocess.run([found, "version"], capture_output=True, text=True, timeout=60, check=False)
    return Path(found).parent if version.stdout.strip() == pinned_version() else None


def cli_directory(nodejs: bool = False) -> Path | None:
    """The folder holding `pulumi` and `pulumi-language-python` (and with `nodejs`, for a TypeScript
    program, `pulumi-language-nodejs`): an installed official CLI of the pinned version, else the one
    scripts/install-pulumi.sh built."""
    installed = installed_cli(nodejs)
    if installed is not None:
        return installed
    if all((CLI_DIR / name).is_file() for name in ("pulumi", *_hosts(nodejs))):
        return CLI_DIR
    return None


def missing_cli(nodejs: bool = False) -> str | None:
    """One line naming what is missing to run the real CLI (with `nodejs`: for a TypeScript program), or None."""
    if cli_directory(nodejs) is None:
        why = (TOOLS / "pulumi.unavailable").read_text().strip() if (TOOLS / "pulumi.unavailable").is_file() else ""
        hosts, command = "its Python host", "install-pulumi.sh"
        if nodejs:
            hosts, command = "its Python and Node.js hosts", "install-pulumi.sh --with-nodejs"
        return f"the Pulumi CLI and {hosts} are missing ({why or 'not built'}); ./scripts/{command} builds them"
    return None


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def ok(self) -> Result:
        assert self.code == 0, f"pulumi {' '.join(self.args)} exited {self.code}:\n{self.output[-6000:]}"
        return self


@dataclass
class Workspace:
    """A copy of the project and the environment its `pulumi` commands run in."""

    root: Path
    engines_env: Mapping[str, str]
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, path: Path, engines_env: Mapping[str, str]) -> Workspace:
        for name in PROGRAM_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    path / name,
                    ignore=shutil.ignore_patterns("__pycache__", "venv", ".venv", "node_modules", "sdks"),
                )
            else:
                shutil.copy2(source, path / name)
        for stack_file in ROOT.glob("Pulumi.*.yaml"):
            shutil.copy2(stack_file, path / stack_file.name)
        (path / ".venv").symlink_to(ROOT / ".venv")
        (path / "policy-pack" / "venv").symlink_to(ROOT / ".venv")
        workspace = cls(path, engines_env)
        workspace.env = workspace._environment()
        (path / "state").mkdir()
        return workspace

    def _environment(self) -> dict[str, str]:
        cli = cli_directory()
        assert cli is not None, missing_cli()
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULT_", "PULUMI_", "KUBECONFIG"))}
        path = [str(cli), keep.get("PATH", "")]
        if os.environ.get(REAL_PLUGINS) != "1":
            path.insert(0, str(PLUGINS))
        return {
            **keep,
            "PATH": os.pathsep.join(path),
            "PULUMI_HOME": str(self.root / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "GVI_PLUGIN_PYTHON": str(ROOT / ".venv" / "bin" / "python"),
            # The program reads an external Vault's version at its declared address, which is no
            # address here (tests/config/test_vault_versions.py reads a local one): no lookup leaves the machine.
            OFFLINE_ENV: "1",
            **self.engines_env,
        }

    def with_package(self) -> Path:
        """The copy's component package (`package/`) made runnable by the CLI, as a user's checkout
        is before `pulumi package add`: its virtualenv, and its providers in the plugin cache.
        Only the tests of the package pay for it."""
        package_virtualenv(self.root / "package" / "venv")
        install_test_plugins(self.root / "pulumi-home")
        return self.root / "package"

    def pulumi(self, *args: str, timeout: float = 600, cwd: Path | None = None) -> Result:
        """`pulumi <args>` in the copy (non-interactive, no colour), its exit code and output."""
        argv = ["pulumi", *args, "--non-interactive", "--color=never"]
        done = subprocess.run(
            argv,
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return Result(tuple(args), done.returncode, done.stdout, done.stderr)

    def urns(self, stack: str) -> set[str]:
        """The URNs in the stack's state (`pulumi stack export`)."""
        exported = json.loads(self.pulumi("stack", "export", "--stack", stack).ok().stdout)
        return {r["urn"] for r in exported["deployment"].get("resources") or []}

    def stack_file(self, stack: str) -> Path:
        return self.root / f"Pulumi.{stack}.yaml"


def package_virtualenv(venv: Path) -> Path:
    """The component package's virtualenv, seeing the project's `.venv` packages through a `.pth`
    file: the CLI re-creates it (`python -m venv`) and installs `requirements.txt` into it before it
    runs the package, which a link to `.venv` fails and a fresh install would download for minutes."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    [site] = (ROOT / ".venv" / "lib").glob("python3*/site-packages")
    [own] = (venv / "lib").glob("python3*/site-packages")
    (own / "gloo-vault-irsa-project.pth").write_text(f"{site}\n")
    return venv


def install_test_plugins(pulumi_home: Path) -> None:
    """The test provider plugins in the plugin cache, under the versions of the Python SDKs: where
    `pulumi package get-schema` and `package add` look for a component package's providers (they
    download them, never from PATH). Each one runs the wrapper in tests/cli/bin."""
    if os.environ.get(REAL_PLUGINS) == "1":
        return
    for name in ("aws", "vault", "kubernetes"):
        version = importlib.metadata.version(f"pulumi_{name}")
        folder = pulumi_home / "plugins" / f"resource-{name}-v{version}"
        folder.mkdir(parents=True, exist_ok=True)
        plugin = folder / f"pulumi-resource-{name}"
        plugin.write_text(f'#!/bin/sh\nexec "{PLUGINS / plugin.name}" "$@"\n')
        plugin.chmod(0o755)


def write_program(path: Path, name: str, main: str) -> Path:
    """Another Pulumi Python program beside the project (a cluster's stack, a consumer), on the same
    virtualenv; returns its folder."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {ROOT / '.venv'}\n"
    )
    (path / "__main__.py").write_text(main)
    return path

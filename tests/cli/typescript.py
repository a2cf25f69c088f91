"""The TypeScript example (`examples/typescript/`) under the real CLI, set up as a team sets it up:
`npm ci`, the component package's virtualenv, `pulumi package add ../../package`; and what its state
and the Python program's have in common.

The CLI runs the program through Pulumi's Node.js host (`scripts/install-pulumi.sh --with-nodejs`
builds it beside the CLI) and the package through the Python host. npm downloads land in `.cache/npm` (a rerun is
offline); the package's virtualenv sees the project's `.venv` (tests/cli/workspace.py), and pip,
which `package add` runs in it, never reaches an index (`PIP_NO_INDEX`): the one package `.venv`
lacks, `wheel`, comes from `.cache/pip-wheels`, downloaded from PyPI the first time only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.workspace import TOOLS, Result, Workspace, cli_directory, missing_cli

EXAMPLE = Path("examples") / "typescript"
"""The example's folder, in the repository and in a workspace's copy."""
NPM_CACHE = TOOLS.parent / "npm"
PIP_WHEELS = TOOLS.parent / "pip-wheels"
PACKAGE_ENTRY = "../../package"
"""The example's `packages:` entry: the package folder of the same checkout."""


def missing_typescript() -> str | None:
    """One line naming what is missing to run the TypeScript example, or None."""
    reason = missing_cli(nodejs=True)
    if reason:
        return reason
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"no {tool} on PATH to run the TypeScript example with (Node.js 20 or later, with npm)"
    return None


@pytest.fixture(scope="session")
def typescript_cli(cli: None) -> None:
    """The CLI with its Node.js host, node and npm: a skip naming what is missing, a failure in CI."""
    from tests.engines.conftest import engine_missing

    reason = missing_typescript()
    if reason:
        engine_missing(reason)


@dataclass(frozen=True)
class TypeScriptProgram:
    """The example's copy in a workspace, its commands run in its folder."""

    workspace: Workspace
    folder: Path

    def pulumi(self, *args: str, timeout: float = 600) -> Result:
        return self.workspace.pulumi(*args, timeout=timeout, cwd=self.folder)


def typescript_program(workspace: Workspace) -> TypeScriptProgram:
    """The workspace's copy of the example with its dependencies installed from the lock file and
    the package added, as its README says: `npm ci`, then `pulumi package add ../../package`, which
    generates the SDK under `sdks/` (the package's virtualenv: `Workspace.with_package`)."""
    workspace.with_package()
    folder = workspace.root / EXAMPLE
    for generated in ("node_modules", "sdks", "bin"):  # a developer's checkout may have them
        shutil.rmtree(folder / generated, ignore_errors=True)
    workspace.env.update(_environment(workspace.env))
    npm = subprocess.run(
        ["npm", "ci"], cwd=folder, env=workspace.env, capture_output=True, text=True, timeout=600, check=False
    )
    assert npm.returncode == 0, npm.stdout + npm.stderr
    program = TypeScriptProgram(workspace, folder)
    program.pulumi("package", "add", PACKAGE_ENTRY).ok()
    return program


def _environment(env: dict[str, str]) -> dict[str, str]:
    """What the TypeScript program's commands add to a workspace's: the CLI with its Node.js host,
    npm's cache, pip offline."""
    cli, with_nodejs = cli_directory(), cli_directory(nodejs=True)
    assert with_nodejs is not None, missing_typescript()
    path = env["PATH"] if with_nodejs == cli else os.pathsep.join([str(with_nodejs), env["PATH"]])
    return {
        "PATH": path,
        "npm_config_cache": str(NPM_CACHE),
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(_wheel_folder()),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def _wheel_folder() -> Path:
    """`.cache/pip-wheels` with a wheel of `wheel`, which `package add` asks pip to upgrade in the
    package's virtualenv and `.venv` does not have (downloaded once)."""
    if not list(PIP_WHEELS.glob("wheel-*.whl")):
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(PIP_WHEELS), "wheel"]
        subprocess.run(pip, check=True, timeout=300, capture_output=True)
    return PIP_WHEELS


def custom_resources(program_state: str) -> dict[tuple[str, str], Any]:
    """Every custom resource of a `pulumi stack export --show-secrets`: (type, name) to its inputs;
    URNs, parents and ids aside (they name the project and the component)."""
    resources = json.loads(program_state)["deployment"].get("resources") or []
    custom = [r for r in resources if r.get("custom")]
    found = {(r["type"], r["urn"].rsplit("::", 1)[-1]): r.get("inputs", {}) for r in custom}
    assert len(found) == len(custom), "two custom resources of one type share a name"
    return found


def without_auto_names(resources: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """`resources` with each name a provider made up (`<resource name>-<7 or 8 hex>`, random on every
    create: tests/cli README, "The test provider plugins") written `<resource name>-<auto>`
    wherever it appears, so two programs' states compare by what they asked for."""
    made_up: dict[str, str] = {}
    for (_, name), inputs in resources.items():
        given = inputs.get("name") or (inputs.get("metadata") or {}).get("name")
        if isinstance(given, str) and re.fullmatch(re.escape(name) + r"-[0-9a-f]{7,8}", given):
            made_up[given] = f"{name}-<auto>"
    if not made_up:
        return resources
    pattern = re.compile("|".join(re.escape(value) for value in made_up))
    text = json.dumps(list(resources.items()))
    return {(type_, name): inputs for (type_, name), inputs in json.loads(pattern.sub(lambda m: made_up[m[0]], text))}


def exported(workspace: Workspace, stack: str, cwd: Path | None = None) -> str:
    return workspace.pulumi("stack", "export", "--show-secrets", "--stack", stack, cwd=cwd).ok().stdout

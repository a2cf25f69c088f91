"""The TypeScript example (`examples/typescript/`) as committed: what a team copies from it must
match the package and the Python program without running anything (the real CLI runs it in
tests/engines/test_cli_typescript.py), and only the TypeScript tests need Node.js."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli import typescript, workspace
from tests.cli.workspace import missing_cli, pinned_version
from tests.harness import ROOT

EXAMPLE = ROOT / "examples" / "typescript"
SCHEMA = ROOT / "package" / "schema.json"
COMPONENT = "gloo-vault-irsa:index:GlooVaultIrsa"


def component() -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(SCHEMA.read_text())["resources"][COMPONENT]
    return resource


def test_the_example_passes_every_input_of_the_component_from_its_config_key() -> None:
    """A team reads the keys it sets; the example shows each one, named as the config key."""
    source = (EXAMPLE / "index.ts").read_text()
    passed = dict(re.findall(r"^\s+(\w+): config\.\w+(?:<[^(]+>)?\(\"(\w+)\"\)", source, flags=re.MULTILINE))
    assert passed == {name: name for name in component()["inputProperties"]}
    secrets = set(re.findall(r"(\w+): config\.(?:require|get)Secret\(", source))
    assert secrets == {name for name, spec in component()["inputProperties"].items() if "plain" not in spec}


def test_the_example_exports_every_output_of_the_component_under_its_name() -> None:
    exported = dict(re.findall(r"^export const (\w+) = irsa\.(\w+);$", (EXAMPLE / "index.ts").read_text(), re.M))
    assert exported == {name: name for name in component()["properties"]}


def test_the_dev_stack_sets_the_python_programs_dev_values_under_the_examples_namespace() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    ours = yaml.safe_load((EXAMPLE / "Pulumi.dev.yaml").read_text())["config"]
    python = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert ours == {key.replace("gloo-vault-irsa:", f"{project['name']}:", 1): v for key, v in python.items()}


def test_the_example_adds_the_package_of_its_checkout_and_pins_npm_exactly() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "nodejs"
    assert (EXAMPLE / project["packages"]["gloo-vault-irsa"] / "PulumiPlugin.yaml").resolve() == (
        ROOT / "package" / "PulumiPlugin.yaml"
    )
    manifest = json.loads((EXAMPLE / "package.json").read_text())
    lock = json.loads((EXAMPLE / "package-lock.json").read_text())["packages"]
    wanted = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert wanted.pop("@pulumi/gloo-vault-irsa") == "file:sdks/gloo-vault-irsa"  # what `package add` writes
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
        assert lock[f"node_modules/{name}"]["version"] == version, name
    sdk = tuple(int(part) for part in wanted["@pulumi/pulumi"].split("."))
    assert sdk <= tuple(
        int(part) for part in pinned_version().removeprefix("v").split(".")
    )  # a CLI runs SDKs up to its own


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_generated_and_installed_folders_are_not_committed() -> None:
    ignored = (EXAMPLE / ".gitignore").read_text().split()
    assert {"node_modules/", "sdks/"} <= set(ignored)


def test_only_the_typescript_tests_need_the_nodejs_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI built before the Node.js host (or where it cannot be built) still runs the Python tests;
    the TypeScript tests name what is missing, with install-pulumi.sh's reason."""
    cli = tmp_path / "pulumi" / "bin"
    cli.mkdir(parents=True)
    for name in ("pulumi", "pulumi-language-python"):
        (cli / name).write_text("#!/bin/sh\n")
    reason = "pulumi-language-nodejs (Pulumi's Node.js host, for TypeScript programs) is missing: no Go"
    (tmp_path / "pulumi.unavailable").write_text(reason + "\n")
    monkeypatch.setattr(workspace, "CLI_DIR", cli)
    monkeypatch.setattr(workspace, "TOOLS", tmp_path)
    monkeypatch.setattr(workspace, "installed_cli", lambda nodejs=False: None)

    assert missing_cli() is None
    assert missing_cli(nodejs=True) == (
        f"the Pulumi CLI and its Python and Node.js hosts are missing ({reason}); "
        "./scripts/install-pulumi.sh --with-nodejs builds them"
    )
    assert typescript.missing_typescript() == missing_cli(nodejs=True)
    (cli / "pulumi-language-nodejs").write_text("#!/bin/sh\n")
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "npm" else f"/usr/bin/{tool}")
    assert typescript.missing_typescript() == (
        "no npm on PATH to run the TypeScript example with (Node.js 20 or later, with npm)"
    )

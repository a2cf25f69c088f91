"""The TypeScript example (`examples/typescript/`) under the real CLI: a TypeScript program on the
component package previews, ups and re-previews clean on the test plugins' servers, and registers
the resources and inputs the Python program registers for the same config; a bad input stops its
preview with the package's one line.

The example is set up as its README says (`npm ci`, the package's virtualenv, `pulumi package add
../../package`); the CLI runs it through Pulumi's Node.js host and the package through the Python
host (tests/cli/typescript.py).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.account import Account
from tests.cli.steps import GUIDE_CLUSTER, up_dev
from tests.cli.typescript import (
    TypeScriptProgram,
    custom_resources,
    exported,
    typescript_cli,  # noqa: F401 (the fixture)
    typescript_program,
    without_auto_names,
)
from tests.cli.workspace import Workspace
from tests.engines.servers import ROOT_TOKEN

pytestmark = [pytest.mark.engines, pytest.mark.cli, pytest.mark.usefixtures("typescript_cli")]


def init_dev(account: Account, program: TypeScriptProgram) -> None:
    """The example's dev stack (its Pulumi.dev.yaml: the Python program's dev values) with its Vault token."""
    account.cluster(GUIDE_CLUSTER)
    program.workspace.env.update(account.env())
    program.pulumi("stack", "init", "dev").ok()
    program.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "dev").ok()


def test_the_typescript_example_ups_clean_and_registers_what_the_python_program_does(
    account: Account, workspace: Workspace
) -> None:
    program = typescript_program(workspace)
    init_dev(account, program)
    program.pulumi("preview", "--stack", "dev").ok()
    program.pulumi("up", "--yes", "--stack", "dev").ok()
    program.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()
    typescript = without_auto_names(custom_resources(exported(workspace, "dev", cwd=program.folder)))
    typescript_outputs = outputs(workspace, program)

    # The Python program's dev stack on the same servers and cluster, once the TypeScript one is gone
    # (their resources would collide): kvRetainOnDelete keeps the kv mount, which Vault's reset drops.
    program.pulumi("destroy", "--yes", "--stack", "dev").ok()
    account.engines.bao.reset()
    up_dev(account, workspace)
    python = without_auto_names(custom_resources(exported(workspace, "dev")))

    assert typescript_outputs == set(json.loads(workspace.pulumi("stack", "output", "--json").ok().stdout))
    # The TypeScript program's one more: the component package's own provider, which serves GlooVaultIrsa.
    version = json.loads((workspace.root / "package" / "schema.json").read_text())["version"]
    package_provider = typescript.pop(("pulumi:providers:gloo-vault-irsa", f"default_{version.replace('.', '_')}"))
    assert package_provider["version"] == version
    assert sorted(typescript) == sorted(python)
    different = {key: (typescript[key], python[key]) for key in python if typescript[key] != python[key]}
    assert different == {}


def outputs(workspace: Workspace, program: TypeScriptProgram) -> set[str]:
    return set(json.loads(program.pulumi("stack", "output", "--json", "--stack", "dev").ok().stdout))


def test_a_bad_input_stops_the_typescript_preview_with_the_packages_one_line(
    account: Account, workspace: Workspace
) -> None:
    program = typescript_program(workspace)
    init_dev(account, program)
    program.pulumi("config", "set", "region", "mars-1", "--stack", "dev").ok()
    preview = program.pulumi("preview", "--stack", "dev")
    assert preview.code != 0, preview.output
    said = [line.strip() for line in preview.output.splitlines() if "gloo-vault-irsa:region: expected" in line]
    assert said and all(line.endswith(f"{REGION_LINE}") for line in said), preview.output
    assert not re.search(r'^\s*File "', preview.output, re.MULTILINE), preview.output  # no Python traceback


REGION_LINE = "gloo-vault-irsa:region: expected a known AWS region such as us-east-1 (got 'mars-1')"
"""What the Python program says of `region: mars-1` (components/config/checks.py), word for word."""

"""README, "Adopting what exists", `pulumi import`, under the real CLI: the README's import commands,
run as written (the guide's variables set, `--yes` for the prompt a terminal would answer,
`--generate-code=false` as the test plugins have no schema to generate code from), take
over resources that exist but are not in the stack's state, and the program then finds them as it
would have made them.

The resources are the program's own, made by an `up` and then dropped from the state (`pulumi stack
export`/`import`): what the plugins' Read returns for an import must be what the program sets,
so the preview after the import shows no replacement and no create; the Gloo release shows an
update of what Helm does not record (README: "an imported resource must show an update (`~`),
never a replacement"), and after the `up` the stack re-previews clean.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.cli.account import Account
from tests.cli.plugins.kubernetes import NOT_RECORDED
from tests.cli.steps import forget, gloo_run, preview_steps, readme_block, up_dev
from tests.cli.workspace import Workspace

pytestmark = [pytest.mark.engines, pytest.mark.cli]

RELEASE = "kubernetes:helm.sh/v3:Release"


def import_commands(variables: dict[str, str]) -> list[list[str]]:
    """README "Adopting what exists"'s `pulumi import` lines, the guide's variables substituted."""
    lines = [line for line in readme_block("Adopting what exists").splitlines() if line.startswith("pulumi import")]
    # `${NAME}` as a shell expands it inside double quotes; single-quoted text (a `$` in a URN) stays.
    return [shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], line))[1:] for line in lines]


def test_the_readmes_imports_take_over_what_exists_and_the_stack_converges(
    account: Account, workspace: Workspace
) -> None:
    cluster = up_dev(account, workspace)
    outputs = json.loads(workspace.pulumi("stack", "output", "--json", "--stack", "dev").ok().stdout)
    variables = {
        "ACCOUNT_ID": "123456789012",
        "OIDC_PROVIDER": cluster.issuer.removeprefix("https://"),
        "VAULT_AUTH_ROLE_NAME": outputs["glooRoleName"],
    }
    commands = import_commands(variables)
    assert len(commands) == 8, commands
    urns = workspace.urns("dev")
    imported = {u for u in urns if u.endswith("::cluster") or u.endswith("::gloo")}
    imported = {u for u in imported if "$pulumi:providers:" not in u and u.count("$") == 1}
    assert len(imported) == 8, sorted(imported)
    forget(workspace, "dev", imported)

    for command in commands:
        # No code to print: the program declares them, and the test plugins serve no schema to print it from.
        workspace.pulumi(*command, "--yes", "--generate-code=false").ok()
    assert workspace.urns("dev") == urns

    steps = preview_steps(workspace, "dev")
    changed = [(s.op, s.type, s.name, s.diffs) for s in steps if s.op not in ("same",)]
    assert [c for c in changed if c[0] != "update" or c[1] != RELEASE] == [], changed
    assert {key for step in changed for key in step[3]} <= set(NOT_RECORDED), changed

    workspace.pulumi("up", "--yes", "--stack", "dev").ok()
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()
    gloo_run(account, cluster).ok()

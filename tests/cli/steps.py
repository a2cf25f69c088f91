"""Steps the CLI scenario tests share: the dev stack up as README's "The two commands" runs it, the
Gloo of a stack's release logging in, and `pulumi preview --json`'s steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.cli.account import Account, EksCluster, release_values
from tests.cli.workspace import Workspace
from tests.engines.gloo_pod import GlooPod, GlooRun
from tests.engines.servers import ROOT_TOKEN

GUIDE_CLUSTER = "gloo-ee-vault-integration"
"""The guide's EKS cluster, which Pulumi.dev.yaml names."""


def init_dev(account: Account, workspace: Workspace, stack: str = "dev", *init_args: str) -> EksCluster:
    """Pulumi.dev.yaml's stack made as the README's two commands make it (`pulumi stack init <stack>
    <init_args>`, its Vault token set as a secret), not yet up."""
    cluster = account.cluster(GUIDE_CLUSTER)
    workspace.env.update(account.env())
    workspace.pulumi("stack", "init", stack, *init_args).ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", stack).ok()
    return cluster


def up_dev(account: Account, workspace: Workspace, stack: str = "dev", *init_args: str) -> EksCluster:
    """Pulumi.dev.yaml, up as the README's two commands do it (its Vault token set as a secret)."""
    cluster = init_dev(account, workspace, stack, *init_args)
    workspace.pulumi("up", "--yes", "--stack", stack).ok()
    return cluster


def gloo_run(account: Account, cluster: EksCluster, namespace: str = "gloo-system") -> GlooRun:
    """Gloo's pod of the release recorded on `cluster`'s API server, logging in and reading once."""
    values = release_values(cluster.api_server, namespace)
    pod = GlooPod.of_release(values, namespace, cluster.region, cluster.issuer)
    return pod.run(vault_address=account.engines.bao.url, sts_endpoint=account.engines.moto.url)


@dataclass(frozen=True)
class Step:
    """One step of `pulumi preview --json`: what the engine would do to which resource."""

    op: str
    urn: str
    diffs: tuple[str, ...]
    replace_keys: tuple[str, ...]

    @property
    def type(self) -> str:
        return self.urn.split("::")[-2].rsplit("$", 1)[-1]

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def preview_steps(workspace: Workspace, stack: str, *args: str) -> list[Step]:
    """The steps of `pulumi preview --json --stack <stack> <args>` (the CLI's JSON display)."""
    preview = workspace.pulumi("preview", "--json", "--stack", stack, *args).ok()
    parsed: dict[str, Any] = json.loads(preview.stdout)
    return [
        Step(
            step["op"],
            step["urn"],
            tuple(step.get("diffs") or ()),
            tuple(step.get("replaceReasons") or step.get("keys") or ()) if step["op"] in REPLACING else (),
        )
        for step in parsed.get("steps") or []
    ]


REPLACING = frozenset({"replace", "create-replacement", "delete-replaced", "replace-failed"})
"""The engine's step ops that make a resource anew (pkg/engine/display: `OpReplace` and its parts)."""


def readme_block(heading: str, language: str = "sh") -> str:
    """The first fenced `language` block of the docs/ section `heading` (its commands as written)."""
    from tests.harness import ROOT

    docs = "\n".join(page.read_text() for page in sorted((ROOT / "docs").glob("*.md")))
    section = docs.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def forget(workspace: Workspace, stack: str, urns: set[str]) -> None:
    """The stack's state without `urns`, as if they had been created and never recorded (every
    reference to them dropped too), through `pulumi stack export` and `pulumi stack import`."""
    exported = json.loads(workspace.pulumi("stack", "export", "--stack", stack).ok().stdout)
    deployment = exported["deployment"]
    deployment["resources"] = [r for r in deployment["resources"] if r["urn"] not in urns]
    for resource in deployment["resources"]:
        resource["dependencies"] = [d for d in resource.get("dependencies") or [] if d not in urns]
        resource["propertyDependencies"] = {
            k: [d for d in v if d not in urns] for k, v in (resource.get("propertyDependencies") or {}).items()
        }
    state = workspace.root / f"{stack}-forgotten.json"
    state.write_text(json.dumps(exported))
    workspace.pulumi("stack", "import", "--file", str(state), "--stack", stack).ok()

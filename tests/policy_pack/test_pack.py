"""The pack as the Pulumi CLI runs it, without the CLI.

`__main__.py` is run with only `PolicyPack` replaced (the real one starts a gRPC server and never
returns): its policies are handed to pulumi_policy's own analyzer servicer, as the server would,
and fed the graph as analyzer requests, with the stack and its config given to the policy
process as the CLI gives them (PULUMI_STACK, PULUMI_CONFIG).
"""

from __future__ import annotations

import copy
import json
import re
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mypy.api
import pulumi
import pulumi_policy
import pulumi_policy.proxy
import pytest
import yaml
from pulumi.runtime import config as pulumi_config
from pulumi.runtime.proto import analyzer_pb2

import guardrails
import pack
from tests.harness import FLEET, ROOT, ProgramRun, is_secret, stack_config
from tests.policy_pack.engine import ENGINE_UNKNOWN, is_preview, outputs, props, provider_urn
from tests.policy_pack.test_dev_mode import dev_vault_v3
from tests.policy_pack.test_vault import NODE_ROLE

__all__ = ["dev_vault_v3"]  # a fixture these tests share with test_dev_mode.py

PACK_DIR = ROOT / "policy-pack"

# ---------------------------------------------------------------------------- the pack as the CLI runs it


class CapturedPack:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, name: str, policies: list[pulumi_policy.Policy], **kwargs: Any) -> None:
        self.calls.append({"name": name, "policies": policies, **kwargs})


@pytest.fixture(scope="module")
def pack_call() -> dict[str, Any]:
    """Runs policy-pack/ as `python -m pulumi.policy` does (runpy on the folder), with only
    `PolicyPack` replaced: the real one serves gRPC and never returns."""
    captured = CapturedPack()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pulumi_policy, "PolicyPack", captured)
        runpy.run_path(str(PACK_DIR), run_name="__main__")
    [call] = captured.calls
    return call


def test_the_pack_is_mandatory_and_holds_every_check(pack_call: dict[str, Any]) -> None:
    assert pack_call["name"] == "gloo-vault-irsa-guardrails"
    assert pack_call["enforcement_level"] is pulumi_policy.EnforcementLevel.MANDATORY
    policies = pack_call["policies"]
    assert [(type(p).__name__, p.name) for p in policies] == [
        ("ResourceValidationPolicy", "irsa-trust-policy"),
        ("ResourceValidationPolicy", "iam-no-wildcard-grants"),
        ("ResourceValidationPolicy", "helm-chart-version-pinned"),
        ("ResourceValidationPolicy", "no-vault-dev-mode-in-production"),
        ("ResourceValidationPolicy", "vault-provider-tls-in-production"),
        ("ResourceValidationPolicy", "gloo-vault-tls-in-production"),
        ("ResourceValidationPolicy", "vault-aws-auth-client"),
        ("ResourceValidationPolicy", "vault-aws-auth-role-bounded"),
        ("ResourceValidationPolicy", "gloo-vault-no-static-keys"),
        ("ResourceValidationPolicy", "vault-version-fixed-in-production"),
        ("StackValidationPolicy", "gloo-vault-agreement"),
        ("StackValidationPolicy", "irsa-role-policies"),
        ("StackValidationPolicy", "irsa-subjects-annotated"),
        ("StackValidationPolicy", "helm-releases-unique"),
        ("StackValidationPolicy", "gloo-clusters-isolated"),
        ("StackValidationPolicy", "vault-aws-auth-role-binds-gloo-irsa"),
        ("StackValidationPolicy", "stack-secrets-encrypted"),
    ]
    assert all(p.enforcement_level is None for p in policies)  # the pack's MANDATORY applies to each


def analyze(pack_call: dict[str, Any], run: ProgramRun) -> list[tuple[str, str]]:
    """The pack's policies behind pulumi_policy's own servicer, as PolicyPack sets it up, fed one
    AnalyzeRequest per resource (its inputs; components too, as the engine sends a helm.v3.Chart:
    pulumi/pulumi-kubernetes#2144) and one AnalyzeStack (every output, provider and parent, as the
    engine sends the final state): (policy name, message) per violation."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer(
        pack_call["name"], "0.0.1", pack_call["policies"], pack_call["enforcement_level"]
    )
    found: list[tuple[str, str]] = []
    stack = analyzer_pb2.AnalyzeStackRequest()
    preview = is_preview(run)
    for res in run.resources:
        request = analyzer_pb2.AnalyzeRequest(type=res.type, urn=res.urn, name=res.name)
        request.properties.update(props(res))
        response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]  # pulumi_policy leaves it unannotated
        found += [(d.policyName, d.message) for d in response.diagnostics]
        resource = stack.resources.add(type=res.type, urn=res.urn, name=res.name, parent=res.parent)
        resource.options.parent = res.parent
        resource.properties.update(outputs(res, preview) if res.custom else props(res))
        if urn := provider_urn(res):
            provider = run.by_urn(urn)
            resource.provider.type, resource.provider.urn, resource.provider.name = provider.type, urn, provider.name
    response = servicer.AnalyzeStack(stack, None)  # type: ignore[no-untyped-call]
    found += [(d.policyName, d.message) for d in response.diagnostics]
    for _, message in found:
        assert "can't run policy" not in message, message  # an unknown value escaped the wrapper
    return found


@pytest.fixture
def policy_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, dict[str, str]], None]]:
    """Gives the policy process its stack and config as the CLI does (PULUMI_STACK, PULUMI_CONFIG)."""
    saved = dict(pulumi_config.CONFIG.get())

    def configure(stack: str, config: dict[str, str]) -> None:
        monkeypatch.setenv("PULUMI_PROJECT", "gloo-vault-irsa")
        monkeypatch.setenv("PULUMI_STACK", stack)
        monkeypatch.setenv("PULUMI_DRY_RUN", "true")
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
        pulumi.runtime.set_all_config({})

    yield configure
    pulumi.runtime.set_all_config(saved)


def test_the_pack_passes_the_dev_stack(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {"gloo-vault-irsa:environment": "development"})
    assert analyze(pack_call, runs["dev"]) == []
    assert pulumi.get_stack() == "dev"


def test_the_pack_passes_the_prod_stack(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    """Pulumi.prod.yaml, as the CLI runs the pack on it: stack `prod`, its config as the file sets it."""
    config = {f"gloo-vault-irsa:{k}": v for k, v in stack_config("prod").items()}
    policy_process("prod", config)
    assert analyze(pack_call, runs["prod"]) == []
    assert pulumi.get_stack() == "prod"


def test_the_pack_sees_each_cluster_of_a_stack_by_its_provider(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    """`clusters`: a `gloo` release in `gloo-system` on each cluster passes, as the engine hands the
    pack each release's Kubernetes provider; moved onto one provider, the two are refused (and
    east-b's Gloo, now on east-a, runs with a role east-a's OIDC provider cannot assume)."""
    policy_process("dev", {})
    assert analyze(pack_call, runs["clusters"]) == []
    run = copy.deepcopy(runs["clusters"])
    east_a = run.one(guardrails.HELM_RELEASE, "east-a-gloo")
    run.one(guardrails.HELM_RELEASE, "east-b-gloo").provider = east_a.provider
    assert [name for name, _ in analyze(pack_call, run)] == ["helm-releases-unique", "gloo-clusters-isolated"]


def test_the_pack_ties_each_cluster_to_the_oidc_provider_made_with_it(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    """`clusters` with east-a's and east-b's Gloo roles trusting each other's OIDC provider: no
    provider is shared, but east-a's (made under east-a's Kubernetes provider's parent, as the
    engine tells the pack) is not the one its role trusts."""
    policy_process("dev", {})
    run = copy.deepcopy(runs["clusters"])
    roles = [run.one(guardrails.ROLE, f"{key}-gloo") for key in FLEET]
    issuers = [
        json.loads(r.raw_inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Federated"].split("/", 1)[1]
        for r in roles
    ]
    for role, own, other in zip(roles, issuers, reversed(issuers), strict=True):
        role.raw_inputs["assumeRolePolicy"] = role.raw_inputs["assumeRolePolicy"].replace(own, other)
    found = analyze(pack_call, run)
    assert [name for name, _ in found] == ["gloo-clusters-isolated"], found
    assert "not its cluster's own OIDC provider" in found[0][1]


def test_the_pack_refuses_gloo_logging_in_as_the_node_role(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    """Issue 20 #1, as the CLI runs the pack: Pulumi.prod.yaml's graph with Gloo's IRSA annotations
    removed and its Vault role bound to the node group's instance role."""
    policy_process("prod", {f"gloo-vault-irsa:{k}": v for k, v in stack_config("prod").items()})
    run = copy.deepcopy(runs["prod"])
    values = run.one(guardrails.HELM_RELEASE, "gloo").raw_inputs["values"]
    for account in ("gloo", "discovery"):
        annotations = unwrap(values)["gloo"].get(account, {}).get("serviceAccount", {}).get("extraAnnotations", {})
        annotations.pop(guardrails.IRSA_ANNOTATION, None)
    run.one(guardrails.VAULT_AWS_ROLE, "gloo").raw_inputs["boundIamPrincipalArns"] = [NODE_ROLE]
    found = analyze(pack_call, run)
    assert [name for name, _ in found] == ["vault-aws-auth-role-binds-gloo-irsa"], found
    assert f"binds {NODE_ROLE!r}, which is not an IAM role of this stack" in found[0][1]


def test_the_pack_refuses_the_vault_chart_in_dev_mode_given_as_a_v3_chart(
    pack_call: dict[str, Any], dev_vault_v3: ProgramRun, policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    """Issue 20 #2, as the CLI runs the pack: `helm.v3.Chart("vault", server.dev.enabled)` in a
    production stack shows the pack a component without inputs (refused: its version cannot be
    read) and the StatefulSet Helm renders, which runs `vault server -dev` (refused)."""
    policy_process("prod", {})
    found = analyze(pack_call, dev_vault_v3)
    assert sorted(name for name, _ in found) == ["helm-chart-version-pinned", "no-vault-dev-mode-in-production"], found
    assert any("kubernetes:apps/v1:StatefulSet runs a Vault dev server" in message for _, message in found)
    policy_process("dev", {})
    assert [name for name, _ in analyze(pack_call, dev_vault_v3)] == ["helm-chart-version-pinned"]


def unwrap(value: Any) -> Any:
    """The value inside a secret wrapper (the same object: changing it changes the input)."""
    return unwrap(value["value"]) if is_secret(value) else value


def test_the_pack_passes_a_preview(
    pack_call: dict[str, Any], preview: ProgramRun, policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {})
    assert analyze(pack_call, preview) == []


@pytest.mark.parametrize(
    ("stack", "config"),
    [("prod", {}), ("dev", {"gloo-vault-irsa:environment": "production"})],
    ids=["stack-name", "environment-key"],
)
def test_the_pack_refuses_dev_vault_in_production(
    pack_call: dict[str, Any],
    runs: dict[str, ProgramRun],
    policy_process: Callable[[str, dict[str, str]], None],
    stack: str,
    config: dict[str, str],
) -> None:
    policy_process(stack, config)
    found = analyze(pack_call, runs["dev"])
    # The in-cluster dev topology: its Vault runs in dev mode, and Gloo reaches it over plain http.
    assert [name for name, _ in found] == ["no-vault-dev-mode-in-production", "gloo-vault-tls-in-production"]
    assert "runs in dev mode" in found[0][1]
    assert "over plain http to 'vault-internal.vault'" in found[1][1]


def test_the_pack_reports_each_broken_layer(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {})
    run = copy.deepcopy(runs["dev"])
    for res in run.resources:
        if res.type == guardrails.VAULT_AWS_ROLE:
            res.raw_inputs["tokenMaxTtl"] = 30 * 86400
        if res.type == guardrails.VAULT_AWS_CLIENT:
            res.raw_inputs["stsRegion"] = "eu-west-1"
        if res.type == guardrails.HELM_RELEASE and res.name == "gloo":
            res.raw_inputs["version"] = "^1.15"
    assert sorted(name for name, _ in analyze(pack_call, run)) == [
        "gloo-vault-agreement",
        "helm-chart-version-pinned",
        "vault-aws-auth-client",
        "vault-aws-auth-role-bounded",
    ]


def test_plain_maps_the_engines_unknowns() -> None:
    proxied = pulumi_policy.proxy.unknown_checking_proxy(
        {"a": ENGINE_UNKNOWN, "b": [1, "3eeb2bf0-c639-47a8-9e75-3b44932eb421"], "c": {"d": "x"}}
    )
    assert pack.plain(proxied) == {"a": guardrails.UNKNOWN, "b": [1, guardrails.UNKNOWN], "c": {"d": "x"}}


def test_the_unknown_sentinels_are_pulumi_policys() -> None:
    names = [n for n in dir(pulumi_policy.proxy) if re.fullmatch(r"UNKNOWN_[A-Z]+_VALUE", n)]
    assert len(names) == 7
    assert {getattr(pulumi_policy.proxy, n) for n in names} == guardrails.UNKNOWN_SENTINELS


def test_the_pack_entry_point_type_checks_strict() -> None:
    """mypy cannot hold two `__main__` modules in one run; the pack's is checked on its own."""
    out, err, status = mypy.api.run(["--config-file", str(ROOT / "pyproject.toml"), str(PACK_DIR / "__main__.py")])
    assert status == 0, out + err


# ---------------------------------------------------------------------------- the pack's files


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def test_the_pack_pins_the_projects_versions() -> None:
    project = {**pins(ROOT / "requirements.txt"), **pins(ROOT / "requirements-dev.txt")}
    pack = pins(PACK_DIR / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy"}
    assert pack == {name: project[name] for name in pack}


def test_pulumi_policy_yaml_runs_python_in_its_own_virtualenv() -> None:
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"]["virtualenv"] == "venv"
    assert "policy-pack/venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_readme_table_lists_every_policy_once() -> None:
    """README's "Guardrails (policy pack)" table: one row per policy, stack policies marked."""
    section = (
        (ROOT / "docs" / "production.md").read_text().split("## Guardrails (policy pack)", 1)[1].split("\n## ", 1)[0]
    )
    rows = re.findall(r"^\| `([a-z0-9-]+)`( \(stack\))? \|", section, re.MULTILINE)
    assert rows == [(p.name, "") for p in guardrails.RESOURCE_POLICIES] + [
        (p.name, " (stack)") for p in guardrails.STACK_POLICIES
    ]

"""`irsa-subjects-annotated` (guardrails/service_accounts.py): an IRSA role trusts exactly the
service accounts annotated with it, above all the ones the Gloo release annotates (`gloo`, and
`discovery` when discovery is on), in the release's namespace.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import guardrails
from guardrails import StackResource
from guardrails.service_accounts import SERVICE_ACCOUNT
from tests.harness import LICENSE, TEST_VAULT_TOKEN, ProgramRun, dev_config, run_program
from tests.policy_pack.engine import (
    DEV,
    Resources,
    gloo_root,
    only,
    pack_violations,
    props,
    replace,
    stack_resources,
    with_props,
)

SA = "system:serviceaccount:gloo-system:"


def gloo_run(accounts: list[str], *, enterprise: bool = False) -> ProgramRun:
    """The real program with `glooServiceAccounts` set to `accounts` (OSS or Enterprise)."""
    config: dict[str, Any] = {**dev_config(), "glooServiceAccounts": accounts}
    secrets = {"vaultToken": TEST_VAULT_TOKEN}
    if enterprise:
        config["glooEdition"] = "enterprise"
        secrets["glooLicenseKey"] = LICENSE
    return run_program(config, secrets=secrets)


def role_arn(resources: Resources, name: str) -> str:
    found: str = next(r.props["arn"] for r in resources if r.type == guardrails.ROLE and r.name == name)
    return found


def set_subjects(resources: Resources, role: str, subjects: list[str]) -> Resources:
    """The stack with role `role`'s trust policy listing `subjects`."""
    trust = json.loads(
        next(r.props for r in resources if r.type == guardrails.ROLE and r.name == role)["assumeRolePolicy"]
    )
    for key in trust["Statement"][0]["Condition"]["StringEquals"]:
        if key.endswith(":sub"):
            trust["Statement"][0]["Condition"]["StringEquals"][key] = subjects
    return with_props(resources, guardrails.ROLE, role, {"assumeRolePolicy": json.dumps(trust)})


@pytest.mark.parametrize("enterprise", [False, True], ids=["oss", "enterprise"])
@pytest.mark.parametrize("accounts", [["gloo"], ["gloo", "discovery"]], ids=["gloo", "gloo+discovery"])
def test_a_trusted_service_account_gloo_does_not_run_as_is_refused(enterprise: bool, accounts: list[str]) -> None:
    """The broken trust: a trust naming `default` next to Gloo's own lets any pod of gloo-system
    running as `default` assume Gloo's role. The config refuses `default` in glooServiceAccounts
    now, so the broken trust is written into the registered role directly."""
    resources = stack_resources(gloo_run(accounts, enterprise=enterprise))
    assert pack_violations(resources, DEV) == []
    broken = set_subjects(resources, "gloo", [f"{SA}{a}" for a in [*accounts, "default"]])
    only(
        pack_violations(broken, DEV),
        f"trusts {SA}default, which is not one of the service accounts annotated with the role",
    )


def test_a_service_account_annotated_but_not_trusted_is_refused() -> None:
    """With discovery on, Gloo annotates `discovery` with the role; a trust without it breaks
    discovery's logins."""
    resources = stack_resources(gloo_run(["gloo", "discovery"]))
    assert pack_violations(resources, DEV) == []
    only(
        pack_violations(set_subjects(resources, "gloo", [f"{SA}gloo"]), DEV),
        f"{SA}discovery is annotated with the IRSA role",
    )


def test_discovery_disabled_is_not_trusted(run: ProgramRun) -> None:
    """With discovery off its service account runs nothing, so the role trusts only `gloo`: the
    default graph (Gloo 1.22, discovery off) does, and a discovery-on graph whose values turn
    discovery off again (its annotation left in place) is refused until its trust drops it."""
    assert gloo_root(props(run.one(guardrails.HELM_RELEASE, "gloo"))["values"])["discovery"] == {"enabled": False}
    assert pack_violations(stack_resources(run), DEV) == []
    disabled = replace(
        stack_resources(gloo_run(["gloo", "discovery"])),
        guardrails.HELM_RELEASE,
        lambda p: gloo_root(p["values"])["discovery"].update(enabled=False),
    )
    only(
        pack_violations(disabled, DEV),
        f"trusts {SA}discovery, which is not one of the service accounts annotated with the role",
    )
    assert pack_violations(set_subjects(disabled, "gloo", [f"{SA}gloo"]), DEV) == []


def test_the_release_namespace_is_the_trusted_one(run: ProgramRun) -> None:
    moved = replace(stack_resources(run), guardrails.HELM_RELEASE, lambda p: p.update(namespace="gloo"))
    only(pack_violations(moved, DEV), "system:serviceaccount:gloo:gloo is annotated with the IRSA role")


def test_a_service_account_resource_annotated_with_a_role_it_is_not_trusted_by_is_refused(run: ProgramRun) -> None:
    """Vault's service account, a resource of its own: another one annotated with
    Vault's role, which does not trust it, is refused."""
    resources = stack_resources(run)
    [vault_sa] = [r for r in resources if r.type == SERVICE_ACCOUNT]
    assert vault_sa.props["metadata"]["annotations"][guardrails.IRSA_ANNOTATION] == role_arn(
        resources, "vault-identity"
    )
    assert pack_violations(resources, DEV) == []
    other = StackResource(vault_sa.type, "other", {"metadata": {**vault_sa.props["metadata"], "name": "other"}})
    found = pack_violations([*resources, other], DEV)
    only(found, "system:serviceaccount:vault:other is annotated with the IRSA role")


def test_unknown_annotations_are_not_compared(preview: ProgramRun) -> None:
    assert [v for v in pack_violations(stack_resources(preview), DEV) if "annotated" in v] == []


@pytest.mark.parametrize("discovery", [False, True], ids=["default", "discovery"])
@pytest.mark.parametrize("enterprise", [False, True], ids=["oss", "enterprise"])
def test_the_programs_shape_passes(enterprise: bool, discovery: bool) -> None:
    """The shape the pack anticipated, now the program's own: `discovery.enabled`
    explicit, `sts-regional-endpoints` next to the role ARN on every annotated Gloo service
    account, and Vault's service account a resource of its own instead of chart values. The real
    graph has it, and passes."""
    regional = {"eks.amazonaws.com/sts-regional-endpoints": "true"}
    accounts = ["gloo", "discovery"] if discovery else ["gloo"]
    run = gloo_run(accounts, enterprise=enterprise)
    resources = stack_resources(run)
    root = gloo_root(props(run.one(guardrails.HELM_RELEASE, "gloo"))["values"])
    assert root["discovery"]["enabled"] is discovery
    gloo_arn = role_arn(resources, "gloo")
    for sa in accounts:
        assert root[sa]["serviceAccount"]["extraAnnotations"] == {guardrails.IRSA_ANNOTATION: gloo_arn, **regional}
    vault_values = props(run.one(guardrails.HELM_RELEASE, "vault"))["values"]
    assert vault_values["server"]["serviceAccount"] == {"create": False, "name": "vault"}
    [vault_sa] = [r for r in resources if r.type == SERVICE_ACCOUNT]
    assert vault_sa.props["metadata"]["namespace"] == "vault"
    assert vault_sa.props["metadata"]["name"] == "vault"
    assert vault_sa.props["metadata"]["annotations"] == {
        guardrails.IRSA_ANNOTATION: role_arn(resources, "vault-identity"),
        **regional,
    }
    assert pack_violations(resources, DEV) == []


def test_each_clusters_role_trusts_the_service_accounts_annotated_in_that_cluster(runs: dict[str, ProgramRun]) -> None:
    """Per cluster: east-b's Gloo moved to namespace `gloo-edge` is refused for east-b's role
    (which trusts `gloo-system:gloo`), and only for it: east-a's is annotated as it trusts."""
    resources = stack_resources(runs["clusters"])
    assert pack_violations(resources, DEV) == []
    moved = replace(resources, guardrails.HELM_RELEASE, lambda p: p.update(namespace="gloo-edge"), name="east-b-gloo")
    east_b = next(r.props["name"] for r in resources if r.type == guardrails.ROLE and r.name == "east-b-gloo")
    found = pack_violations(moved, DEV)
    only(found, f"system:serviceaccount:gloo-edge:gloo is annotated with the IRSA role {east_b!r}")
    only(found, f"IRSA role {east_b!r} trusts {SA}gloo, which is not one of the service accounts annotated")
    assert all(east_b in v for v in found if v.startswith("irsa-subjects-annotated:")), found

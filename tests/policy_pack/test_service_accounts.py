"""`irsa-subjects-annotated` (guardrails/service_accounts.py): an IRSA role trusts exactly the
service accounts annotated with it, above all the ones the Gloo release annotates (`gloo`, and
`discovery` unless discovery is disabled), in the release's namespace.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import guardrails
from guardrails import StackResource
from tests.harness import LICENSE, TEST_VAULT_TOKEN, ProgramRun, dev_config, run_program
from tests.policy_pack.engine import (
    DEV,
    Resources,
    gloo_root,
    only,
    pack_violations,
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
def test_a_trusted_service_account_gloo_does_not_run_as_is_refused(enterprise: bool) -> None:
    """The issue's case: glooServiceAccounts [gloo, discovery, default] lets any pod of gloo-system
    running as `default` assume Gloo's role."""
    resources = stack_resources(gloo_run(["gloo", "discovery", "default"], enterprise=enterprise))
    only(
        pack_violations(resources, DEV),
        f"trusts {SA}default, which is not one of the service accounts annotated with the role",
    )


def test_a_service_account_annotated_but_not_trusted_is_refused() -> None:
    """Gloo annotates `discovery` with the role; a trust without it breaks discovery's logins."""
    resources = stack_resources(gloo_run(["gloo"]))
    only(pack_violations(resources, DEV), f"{SA}discovery is annotated with the IRSA role")


def test_discovery_disabled_is_not_trusted(run: ProgramRun) -> None:
    """With discovery off its service account runs nothing, so the role trusts only `gloo`."""
    disabled = replace(
        stack_resources(run),
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
    """Vault's service account as a resource of its own (where the program is heading): same rule."""
    resources = stack_resources(run)
    annotations = {
        guardrails.IRSA_ANNOTATION: role_arn(resources, "vault-identity"),
        "eks.amazonaws.com/sts-regional-endpoints": "true",
    }
    vault_sa = StackResource(
        "kubernetes:core/v1:ServiceAccount",
        "vault",
        {"metadata": {"namespace": "vault", "name": "vault", "annotations": annotations}},
    )
    assert pack_violations([*resources, vault_sa], DEV) == []
    other = StackResource(vault_sa.type, "other", {"metadata": {**vault_sa.props["metadata"], "name": "other"}})
    found = pack_violations([*resources, vault_sa, other], DEV)
    only(found, "system:serviceaccount:vault:other is annotated with the IRSA role")


def test_unknown_annotations_are_not_compared(preview: ProgramRun) -> None:
    assert [v for v in pack_violations(stack_resources(preview), DEV) if "annotated" in v] == []


@pytest.mark.parametrize("variant", ["dev", "enterprise"])
def test_the_programs_next_shape_passes(runs: dict[str, ProgramRun], variant: str) -> None:
    """What the program is changing to (issue 11 #8, decided with the lead): `discovery.enabled`
    explicit, `sts-regional-endpoints` next to the role ARN, and Vault's service account a resource
    of its own instead of chart values."""
    regional = {"eks.amazonaws.com/sts-regional-endpoints": "true"}

    def gloo_values(p: dict[str, Any]) -> None:
        root = gloo_root(p["values"])
        root["discovery"]["enabled"] = True
        for sa in ("gloo", "discovery"):
            root[sa]["serviceAccount"]["extraAnnotations"].update(regional)

    resources = replace(stack_resources(runs[variant]), guardrails.HELM_RELEASE, gloo_values)
    vault_values: dict[str, Any] = copy.deepcopy(
        dict(next(r.props for r in resources if r.type == guardrails.HELM_RELEASE and r.name == "vault"))
    )
    vault_values["values"]["server"]["serviceAccount"] = {"create": False, "name": "vault"}
    resources = with_props(resources, guardrails.HELM_RELEASE, "vault", vault_values)
    annotations = {guardrails.IRSA_ANNOTATION: role_arn(resources, "vault-identity"), **regional}
    vault_sa = StackResource(
        "kubernetes:core/v1:ServiceAccount",
        "vault",
        {"metadata": {"namespace": "vault", "name": "vault", "annotations": annotations}},
    )
    assert pack_violations([*resources, vault_sa], DEV) == []

"""IAM changing under a deployed chain: a role recreated under the same ARN, and a
grant that reaches IAM only after Vault first tries to use it.

Both are the program's side of a contract the Pulumi engine carries out: replacing a resource
whose `replacement_trigger` changed (delete first, as `delete_before_replace` says), and calling
a resource's error hook, which answers whether to retry. The tests do what the engine does with
what the program registered, on OpenBao and moto.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import vault_auth
from components.project import IAM_PROPAGATION_WAITS
from tests.engines.apply import Deployment, _apply_aws, _vault_request
from tests.engines.conftest import Deployer
from tests.engines.test_auth_chain import IN_CLUSTER, VAULT_ROLE, applied_without_the_grant
from tests.harness import IAM_ROLE, IAM_ROLE_POLICY, GuideMocks, ProgramRun, Registered, dev_config, run_program

pytestmark = pytest.mark.engines


def _recreate_iam_role(dep: Deployment, name: str) -> str:
    """Deletes the role and creates it again under the same name and trust: its new unique ID."""
    iam = dep.engines.moto.client("iam")
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    iam.delete_role(RoleName=name)
    document = trust if isinstance(trust, str) else json.dumps(trust)
    role_id: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["RoleId"]
    return role_id


def _run_seeing_unique_id(unique_id: str, root_token: str) -> ProgramRun:
    """The program run again after the recreation: AWS now reports the role's new unique ID."""

    class RecreatedRoleMocks(GuideMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            resource_id, state = super().new_resource(args)
            if args.typ == IAM_ROLE and args.name == "gloo":
                state["uniqueId"] = unique_id
            return resource_id, state

    return run_program(dev_config(), secrets={"vaultToken": root_token}, mocks=RecreatedRoleMocks)


def _replace(dep: Deployment, role: Registered) -> None:
    """What the engine does for a replacement with delete_before_replace: delete, then create."""
    method, path, body = _vault_request(role, dep.rewrites)
    dep.engines.bao.api("DELETE", path).expect(200, 204)
    dep.engines.bao.api(method, path, body).expect(200, 204)


def test_a_recreated_gloo_role_locks_gloo_out_until_the_program_rebinds_it(deployer: Deployer) -> None:
    deployer.forget()
    dep = deployer(IN_CLUSTER)
    dep.run_gloo().ok()
    old_role = dep.run.one(VAULT_ROLE)
    new_id = _recreate_iam_role(dep, dep.run.outputs["glooRoleName"])
    deployer.forget()

    refused = dep.run_gloo().refused()  # Vault still holds the old unique ID
    assert refused.status in (400, 403), refused.error

    rerun = _run_seeing_unique_id(new_id, dep.engines.bao.root_token)
    new_role = rerun.one(VAULT_ROLE)
    assert old_role.options["replacementTrigger"] != new_role.options["replacementTrigger"] == new_id
    assert new_role.options["deleteBeforeReplace"] is True
    assert new_role.inputs == old_role.inputs  # nothing else would have told the engine to rewrite it
    _replace(dep, new_role)
    dep.run_gloo().ok()


def _role_write_with_hook(dep: Deployment, role: Registered, land_grant_after: int | None) -> tuple[int, bool]:
    """Writes the Vault role as the engine does: on failure, ask the role's error hook, retry
    while it says so. The grant reaches IAM after `land_grant_after` failures (None: never).
    Returns (attempts, written)."""
    method, path, body = _vault_request(role, dep.rewrites)
    errors: list[str] = []
    while True:
        with dep.engines.moto.enforcing_iam():
            answer = dep.engines.bao.api(method, path, body)
        if answer.status in (200, 204):
            return len(errors) + 1, True
        errors.insert(0, f"{method} {path}: HTTP {answer.status}: {'; '.join(answer.errors)}")
        if len(errors) == land_grant_after:
            _apply_aws(dep.engines, dep.run.one(IAM_ROLE_POLICY))
        if not dep.run.on_error(role, errors):
            return len(errors), False


@pytest.fixture
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hook's waits shortened (their bound is tested without servers); what it logs, kept."""
    monkeypatch.setattr(vault_auth, "IAM_PROPAGATION_WAITS", tuple(0.01 for _ in IAM_PROPAGATION_WAITS))
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "error", lambda message, *a, **k: logged.append(message))
    return logged


def _partial(deployer: Deployer) -> Deployment:
    """The chain applied up to the Vault role, with Vault's iam:GetRole grant not yet in IAM."""
    _, first_attempt = applied_without_the_grant(deployer)
    assert "unable to resolve ARN" in str(first_attempt)
    dep = first_attempt.deployment
    assert dep is not None
    return dep


def test_a_grant_that_lands_late_still_ends_in_one_working_up(deployer: Deployer, quick_waits: list[str]) -> None:
    dep = _partial(deployer)
    attempts, written = _role_write_with_hook(dep, dep.run.one(VAULT_ROLE), land_grant_after=2)
    assert (attempts, written) == (3, True)
    dep.run_gloo().ok()
    assert quick_waits == []


def test_a_grant_that_never_lands_fails_in_bounded_time_naming_role_and_permission(
    deployer: Deployer, quick_waits: list[str]
) -> None:
    dep = _partial(deployer)
    role = dep.run.one(VAULT_ROLE)
    attempts, written = _role_write_with_hook(dep, role, land_grant_after=None)
    assert written is False
    assert attempts == len(IAM_PROPAGATION_WAITS) + 1
    [line] = quick_waits
    assert role.inputs["boundIamPrincipalArns"][0] in line and "iam:GetRole" in line and "\n" not in line

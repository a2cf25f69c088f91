"""components/vault_auth.py: the guide's Vault steps 2-6 (aws auth, KV v2 mount, policy, client
config, role), mounts adopted or retained, and the role write that waits out IAM's propagation."""

from __future__ import annotations

from typing import Any

import pytest

from components import vault_auth
from tests.documents.test_vault import parse_policy_hcl
from tests.harness import (
    HELM_RELEASE,
    VARIANTS,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_POLICY,
    VAULT_STS_ROLE,
    VAULT_TOPOLOGIES,
    ProgramRun,
    dev_config,
    mock_physical_name,
    mock_role_arn,
    run_program,
    vault_topology_run,
    vault_topology_runs,
)

# This module's `runs` and `run` are the Vault topologies' (tests/harness.py), not the stack variants.
runs, run = vault_topology_runs, vault_topology_run

GLOO_ROLE_ARN = mock_role_arn("gloo")
GRANT_TYPE = {
    "in-cluster": "aws:iam/rolePolicy:RolePolicy",
    "in-cluster-port-forward": "aws:iam/rolePolicy:RolePolicy",
    "external-role": "aws:iam/rolePolicy:RolePolicy",
    "external-user": "aws:iam/userPolicy:UserPolicy",
    "cross-account": "aws:iam/rolePolicy:RolePolicy",
    "external-own-provider-address": "aws:iam/rolePolicy:RolePolicy",
}


def test_aws_auth_is_enabled_at_aws(run: ProgramRun) -> None:
    backend = run.one(VAULT_AUTH_BACKEND)
    assert backend.inputs["type"] == "aws"
    assert backend.inputs["path"] == "aws"


def test_kv_v2_is_mounted_at_dev(run: ProgramRun) -> None:
    mount = run.one(VAULT_MOUNT)
    assert mount.inputs["path"] == "dev"
    assert mount.inputs["type"] == "kv"
    assert mount.inputs["options"] == {"version": "2"}


def test_policy_dev_lets_gloo_read_and_list_its_secrets_only(run: ProgramRun) -> None:
    policy = run.one(VAULT_POLICY)
    assert policy.inputs["name"] == "dev"
    assert parse_policy_hcl(policy.inputs["policy"]) == {"dev/data/gloo/*": {"read"}, "dev/metadata/gloo/*": {"list"}}


def test_guide_policy_mode_writes_the_guides_policy() -> None:
    run = run_program({**dev_config(), "vaultPolicyMode": "guide"})
    assert parse_policy_hcl(run.one(VAULT_POLICY).inputs["policy"]) == {
        "dev/*": {"create", "read", "update", "delete", "list"},
        "dev/": {"list"},
        "sys/mounts": {"read", "list"},
    }


def test_client_config_is_the_guides_step_5(run: ProgramRun) -> None:
    client = run.one(VAULT_AWS_CLIENT)
    assert client.inputs["iamServerIdHeaderValue"] == "vault.gloo.example.com"
    assert client.inputs["stsEndpoint"] == "https://sts.us-east-1.amazonaws.com"
    assert client.inputs["stsRegion"] == "us-east-1"
    assert client.inputs["backend"] == "aws"
    assert run.one(VAULT_AUTH_BACKEND).urn in client.property_dependencies["backend"]


def test_role_is_the_guides_step_6_without_deprecated_fields(run: ProgramRun) -> None:
    role = run.one(VAULT_AWS_ROLE)
    assert role.inputs["authType"] == "iam"
    assert role.inputs["boundIamPrincipalArns"] == [GLOO_ROLE_ARN]
    assert role.inputs["tokenPolicies"] == ["dev"]
    assert role.inputs["tokenMaxTtl"] == 86400  # max_ttl=24h
    assert role.inputs["role"] == mock_physical_name("gloo")  # named after the IAM role, as in the guide
    assert role.inputs["backend"] == "aws"
    # Bound to the role's unique ID (Vault's default, hence the GetRole grant): a role deleted and
    # re-created under the same name does not inherit the login.
    assert role.inputs.get("resolveAwsUniqueIds", True) is True
    for deprecated in ("policies", "maxTtl", "ttl", "period", "boundIamPrincipalArn"):
        assert deprecated not in role.inputs, deprecated


def test_role_is_bound_to_the_gloo_role_outputs(run: ProgramRun) -> None:
    role = run.one(VAULT_AWS_ROLE)
    gloo_role = run.one("aws:iam/role:Role", "gloo")
    assert gloo_role.urn in role.property_dependencies["boundIamPrincipalArns"]
    assert gloo_role.urn in role.property_dependencies["role"]
    assert run.one(VAULT_POLICY).urn in role.property_dependencies["tokenPolicies"]
    assert run.one(VAULT_AUTH_BACKEND).urn in role.property_dependencies["backend"]
    assert run.outputs["vaultRoleName"] == run.outputs["glooRoleName"] == mock_physical_name("gloo")


def test_settings_flow_into_vault() -> None:
    run = run_program(
        {
            **dev_config(),
            "region": "eu-west-1",
            "authMountPath": "aws-eks",
            "kvPath": "secret",
            "glooRootKey": "edge",
            "vaultPolicyName": "gloo-read",
            "tokenMaxTtl": "1h",
            "iamServerIdHeader": "vault.edge.example.org",
        }
    )
    assert run.one(VAULT_AUTH_BACKEND).inputs["path"] == "aws-eks"
    assert run.one(VAULT_MOUNT).inputs["path"] == "secret"
    policy = run.one(VAULT_POLICY)
    assert policy.inputs["name"] == "gloo-read"
    assert parse_policy_hcl(policy.inputs["policy"]) == {
        "secret/data/edge/*": {"read"},
        "secret/metadata/edge/*": {"list"},
    }
    client = run.one(VAULT_AWS_CLIENT)
    assert client.inputs["stsEndpoint"] == "https://sts.eu-west-1.amazonaws.com"
    assert client.inputs["stsRegion"] == "eu-west-1"
    assert client.inputs["iamServerIdHeaderValue"] == "vault.edge.example.org"
    role = run.one(VAULT_AWS_ROLE)
    assert role.inputs["tokenMaxTtl"] == 3600
    assert role.inputs["tokenPolicies"] == ["gloo-read"]
    assert role.inputs["backend"] == "aws-eks"


@pytest.mark.parametrize("topology", VAULT_TOPOLOGIES)
def test_role_waits_for_vaults_get_role_grant_and_the_client_config(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    role = run.one(VAULT_AWS_ROLE)
    assert run.depends_on(role, run.one(GRANT_TYPE[topology]))
    assert run.depends_on(role, run.one(VAULT_AWS_CLIENT))
    if topology == "cross-account":
        assert run.depends_on(role, run.one(VAULT_STS_ROLE))
    else:
        assert run.of_type(VAULT_STS_ROLE) == []


def test_the_vault_role_is_rewritten_when_the_iam_role_is_recreated(run: ProgramRun) -> None:
    """Vault stores the bound role's unique ID: a new role under the same ARN needs a new write."""
    role = run.one(VAULT_AWS_ROLE)
    assert role.options["replacementTrigger"] == run.outputs["glooRoleUniqueId"]
    assert run.outputs["glooRoleUniqueId"].startswith("AROA")
    # Create-before-delete would write the same path, then delete it: the old role goes first.
    assert role.options["deleteBeforeReplace"] is True


def test_the_kv_mount_is_retained_on_delete_by_default(run: ProgramRun) -> None:
    assert run.one(VAULT_MOUNT).options["retainOnDelete"] is True


def test_the_kv_mount_retention_can_be_turned_off() -> None:
    run = run_program({**dev_config(), "kvRetainOnDelete": False})
    assert run.one(VAULT_MOUNT).options["retainOnDelete"] is not True


def test_production_protects_the_kv_mount() -> None:
    run = run_program({**dev_config(), "environment": "production"})
    assert run.one(VAULT_MOUNT).options["protect"] is True


def test_the_vault_role_write_retries_while_iam_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_program()
    role = run.one(VAULT_AWS_ROLE)
    assert len(role.options["onError"]) == 1
    monkeypatch.setattr(vault_auth, "IAM_PROPAGATION_WAITS", (0.01, 0.01))
    assert run.on_error(role, [RESOLVE_403]) is True  # called as the engine calls it
    assert run.on_error(role, [RESOLVE_403, RESOLVE_403]) is True
    assert run.on_error(role, [RESOLVE_403] * 3) is False  # bounded
    assert run.on_error(role, ["Code: 403. * permission denied"]) is False  # only propagation
    # Only the role retries: nothing else carries a hook that could hold the graph.
    assert [r.name for r in run.resources if r.options["onError"]] == [role.name]


RESOLVE_403 = (
    'error writing AWS auth backend role "auth/aws/role/gloo": Error making API request. Code: 400. '
    '* unable to resolve ARN "arn:aws:iam::123456789012:role/gloo-1" to internal ID: AccessDenied: '
    "User: arn:aws:sts::123456789012:assumed-role/vault/i is not authorized to perform: iam:GetRole"
)


def test_the_retry_is_bounded_and_only_for_the_propagation_error() -> None:
    delays = []
    errors: list[str] = []
    while (delay := vault_auth.iam_propagation_delay([RESOLVE_403, *errors])) is not None:
        delays.append(delay)
        errors.append(RESOLVE_403)
    assert 30 <= sum(delays) <= 120, delays
    assert all(d > 0 for d in delays) and delays == sorted(delays)
    assert vault_auth.iam_propagation_delay(["permission denied"]) is None
    assert vault_auth.iam_propagation_delay(["Code: 400. * role must be specified"]) is None


def test_giving_up_says_which_role_and_permission_in_one_line() -> None:
    line = vault_auth.iam_propagation_failure(RESOLVE_403, attempts=8)
    assert "\n" not in line
    assert "arn:aws:iam::123456789012:role/gloo-1" in line and "iam:GetRole" in line


EXISTING = {"kvPath": "secret-kv", "authMountPath": "aws-existing"}


def _run(**overrides: Any) -> ProgramRun:
    return run_program({**dev_config(), **EXISTING, **overrides})


@pytest.fixture(scope="module")
def adopted() -> ProgramRun:
    return _run(adoptKvMount=True, adoptAuthMount=True)


@pytest.fixture(scope="module")
def created() -> ProgramRun:
    return _run()


def _vault_source(run: ProgramRun) -> dict[str, Any]:
    [release] = [r for r in run.of_type(HELM_RELEASE) if r.inputs["chart"] == "gloo"]
    source: dict[str, Any] = release.inputs["values"]["settings"]["secretOptions"]["sources"][0]["vault"]
    return source


def test_adopted_mounts_are_not_registered(adopted: ProgramRun, created: ProgramRun) -> None:
    assert adopted.of_type(VAULT_MOUNT) == [] and adopted.of_type(VAULT_AUTH_BACKEND) == []
    assert len(created.of_type(VAULT_MOUNT)) == 1 and len(created.of_type(VAULT_AUTH_BACKEND)) == 1


def test_everything_else_is_written_against_the_adopted_paths(adopted: ProgramRun) -> None:
    assert adopted.one(VAULT_AWS_CLIENT).inputs["backend"] == "aws-existing"
    assert adopted.one(VAULT_AWS_ROLE).inputs["backend"] == "aws-existing"
    assert 'path "secret-kv/data/gloo/*"' in adopted.one(VAULT_POLICY).inputs["policy"]
    source = _vault_source(adopted)
    assert source["pathPrefix"] == "secret-kv" and source["aws"]["mountPath"] == "aws-existing"
    assert adopted.outputs["vaultKvPath"] == "secret-kv" and adopted.outputs["vaultAuthMountPath"] == "aws-existing"


def test_the_client_config_of_an_adopted_auth_mount_is_written_and_kept_on_destroy(
    adopted: ProgramRun, created: ProgramRun
) -> None:
    """Written: Gloo's header and region must be the mount's; kept: the mount, and the other roles
    on it, outlive the stack (the provider's delete would remove `auth/<mount>/config/client`)."""
    client = adopted.one(VAULT_AWS_CLIENT)
    assert client.inputs["iamServerIdHeaderValue"] == _vault_source(adopted)["aws"]["iamServerIdHeader"]
    assert client.options["retainOnDelete"] is True
    assert created.one(VAULT_AWS_CLIENT).options["retainOnDelete"] in (None, False)


def test_one_mount_can_be_adopted_alone() -> None:
    kv_only = _run(adoptKvMount=True)
    assert kv_only.of_type(VAULT_MOUNT) == [] and len(kv_only.of_type(VAULT_AUTH_BACKEND)) == 1
    auth_only = _run(adoptAuthMount=True)
    assert auth_only.of_type(VAULT_AUTH_BACKEND) == [] and len(auth_only.of_type(VAULT_MOUNT)) == 1


def test_the_cross_account_sts_role_is_written_on_the_adopted_mount() -> None:
    config, secrets = VARIANTS["cross-account"]
    run = run_program({**config, **EXISTING, "adoptAuthMount": True}, secrets=secrets)
    assert run.of_type(VAULT_AUTH_BACKEND) == []
    assert run.one(VAULT_STS_ROLE).inputs["backend"] == "aws-existing"

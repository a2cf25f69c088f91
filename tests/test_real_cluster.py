"""What the real charts, Gloo's real client and a hostile reading of the config showed (issue 10).

Each section is one finding; its tests failed on the program before the fix. The chart facts
are read from the charts' sources (hashicorp/vault-helm `templates/_helpers.tpl`
`vault.serviceAccount.annotations`, guarded by `ne .mode "dev"` in 0.29.1 to 0.34.1; solo-io/gloo
`install/helm/gloo` 1.15.19 to 1.22.1: `gloo.deployment.extraGlooAnnotations` and
`discovery.deployment.extraDiscoveryAnnotations` render on the pod templates, the `discovery`
service account exists only with `discovery.enabled`, whose default is true before 1.20 and
false from 1.20.0 on).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import vault_auth
from components.config import checks
from components.config import keys as config_keys
from components.config import rules as config_rules
from tests.harness import (
    ACCOUNT_ID,
    CA_PEM,
    EXTERNAL_VAULT,
    GET_OIDC_PROVIDER,
    HELM_RELEASE,
    IAM_ROLE,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_PROVIDER,
    GuideMocks,
    ProgramRun,
    dev_config,
    program_tempdir,
    run_program,
    run_program_failure,
)
from tests.test_config import assert_names_key, parse

SA = "kubernetes:core/v1:ServiceAccount"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE_ARN = "eks.amazonaws.com/role-arn"
REGIONAL = "eks.amazonaws.com/sts-regional-endpoints"
ROLL_ON = "gloo-vault-irsa/irsa-role-arn"


def gloo_values(run: ProgramRun) -> dict[str, Any]:
    values: dict[str, Any] = run.one(HELM_RELEASE, "gloo").inputs["values"]
    return values


def trust_subjects(run: ProgramRun, role: str = "gloo") -> list[str]:
    trust = json.loads(run.one(IAM_ROLE, role).inputs["assumeRolePolicy"])
    [subjects] = [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    return list(subjects)


# ---------------------------------------------------------------------------- 1. the dev Vault's IRSA role


def test_the_dev_vault_runs_as_a_service_account_the_program_annotates(run: ProgramRun) -> None:
    """The chart drops `server.serviceAccount.annotations` in dev mode: the program owns the account."""
    sa = run.one(SA, "vault")
    assert sa.inputs["metadata"]["name"] == "vault"
    assert sa.inputs["metadata"]["namespace"] == "vault"
    assert sa.inputs["metadata"]["annotations"] == {
        ROLE_ARN: run.outputs["vaultAwsIdentityArn"],
        REGIONAL: "true",
    }
    values = run.one(HELM_RELEASE, "vault").inputs["values"]
    assert values["server"]["dev"]["enabled"] is True
    assert values["server"]["serviceAccount"] == {"create": False, "name": "vault"}


def test_the_vault_release_waits_for_its_namespace_and_service_account(run: ProgramRun) -> None:
    release = run.one(HELM_RELEASE, "vault")
    assert run.depends_on(release, run.one(SA, "vault"))
    assert run.depends_on(release, run.one(NAMESPACE, "vault"))
    assert run.depends_on(run.one(SA, "vault"), run.one(NAMESPACE, "vault"))
    assert release.inputs["createNamespace"] is False
    assert run.one(NAMESPACE, "vault").inputs["metadata"]["name"] == "vault"


def test_vault_namespace_and_account_follow_config() -> None:
    run = run_program({**dev_config(), "vaultNamespace": "secrets", "vaultServiceAccount": "vault-server"})
    assert run.one(SA, "vault").inputs["metadata"]["namespace"] == "secrets"
    assert run.one(HELM_RELEASE, "vault").inputs["values"]["server"]["serviceAccount"]["name"] == "vault-server"
    assert trust_subjects(run, "vault-identity") == ["system:serviceaccount:secrets:vault-server"]


# ---------------------------------------------------------------------------- 2. regional STS signing


@pytest.mark.parametrize("variant", ["dev", "enterprise", "external-role"])
def test_every_service_account_with_a_role_signs_for_its_region(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    values = gloo_values(run)
    root = values["gloo"] if variant == "enterprise" else values
    assert root["gloo"]["serviceAccount"]["extraAnnotations"] == {
        ROLE_ARN: run.outputs["glooRoleArn"],
        REGIONAL: "true",
    }
    for sa in run.of_type(SA):
        assert sa.inputs["metadata"]["annotations"][REGIONAL] == "true"


# ---------------------------------------------------------------------------- 3. pods roll with the role


def test_gloo_pods_roll_when_the_role_changes(run: ProgramRun) -> None:
    values = gloo_values(run)
    assert values["gloo"]["deployment"]["extraGlooAnnotations"] == {ROLL_ON: run.outputs["glooRoleArn"]}


def test_discovery_pods_roll_too_when_discovery_has_the_role() -> None:
    run = run_program({**dev_config(), "glooChartVersion": "1.19.20"})
    values = gloo_values(run)
    assert values["discovery"]["enabled"] is True
    assert values["discovery"]["deployment"]["extraDiscoveryAnnotations"] == {ROLL_ON: run.outputs["glooRoleArn"]}
    assert values["discovery"]["serviceAccount"]["extraAnnotations"][ROLE_ARN] == run.outputs["glooRoleArn"]


# ---------------------------------------------------------------------------- 4. a recreated IAM role


def test_the_vault_role_is_rewritten_when_the_iam_role_is_recreated(run: ProgramRun) -> None:
    """Vault stores the bound role's unique ID: a new role under the same ARN needs a new write."""
    role = run.one(VAULT_AWS_ROLE)
    assert role.options["replacementTrigger"] == run.outputs["glooRoleUniqueId"]
    assert run.outputs["glooRoleUniqueId"].startswith("AROA")
    # Create-before-delete would write the same path, then delete it: the old role goes first.
    assert role.options["deleteBeforeReplace"] is True


# ---------------------------------------------------------------------------- 5. Gloo versions


def test_the_default_gloo_is_the_newest_maintained_release(run: ProgramRun) -> None:
    assert config_keys.DEFAULT_GLOO_VERSION == "1.22.1"
    assert run.one(HELM_RELEASE, "gloo").inputs["version"] == "1.22.1"


def test_from_1_20_only_the_gloo_service_account_exists_and_is_trusted(run: ProgramRun) -> None:
    assert trust_subjects(run) == ["system:serviceaccount:gloo-system:gloo"]
    values = gloo_values(run)
    assert values["discovery"] == {"enabled": False}


@pytest.mark.parametrize("version", ["1.15.19", "1.18.41", "1.19.20"])
def test_before_1_20_discovery_exists_and_is_trusted(version: str) -> None:
    run = run_program({**dev_config(), "glooChartVersion": version})
    assert trust_subjects(run) == [
        "system:serviceaccount:gloo-system:discovery",
        "system:serviceaccount:gloo-system:gloo",
    ]
    assert gloo_values(run)["discovery"]["enabled"] is True


def test_discovery_can_be_turned_on_from_1_20_and_is_then_trusted() -> None:
    run = run_program({**dev_config(), "glooServiceAccounts": ["gloo", "discovery"]})
    assert gloo_values(run)["discovery"]["enabled"] is True
    assert "system:serviceaccount:gloo-system:discovery" in trust_subjects(run)


@pytest.mark.parametrize(
    ("version", "warns"),
    [("1.22.1", False), ("1.15.19", False), ("1.15.18", True), ("1.15.3", True), ("1.22.2-beta1", True)],
)
def test_versions_without_token_renewal_and_pre_releases_warn_in_one_line(version: str, warns: bool) -> None:
    warnings = config_rules.config_warnings(parse({"clusterName": "edge", "glooChartVersion": version}))
    assert len(warnings) == (1 if warns else 0)
    assert all("\n" not in w and "glooChartVersion" in w for w in warnings)


def test_the_warnings_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: said.append(message))
    run_program({**dev_config(), "glooChartVersion": "1.15.10"})
    assert len(said) == 1 and "1.15.19" in said[0]


# ---------------------------------------------------------------------------- 6. config that breaks or weakens


REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    *[("kvPath", "kvPath", {"kvPath": p}) for p in ("sys", "sys/foo", "auth", "cubbyhole", "identity", "token")],
    *[("kvPath", "kvPath", {"kvPath": p}) for p in (".", "dev/..", "../sys")],
    *[("authMountPath", "authMountPath", {"authMountPath": p}) for p in ("sys", "token", "identity", "dev/..")],
    ("glooRootKey", "glooRootKey", {"glooRootKey": "../other"}),
    (
        "principal-other-account",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::210987654321:role/vault-server"},
    ),
    (
        "principal-china-partition",
        "vaultAwsPrincipalArn",
        {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": f"arn:aws-cn:iam::{ACCOUNT_ID}:role/vault-server"},
    ),
    (
        "cross-principal-govcloud-partition",
        "vaultCrossAccountPrincipalArn",
        {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws-us-gov:iam::210987654321:role/vault"},
    ),
    ("sa-not-in-the-chart", "glooServiceAccounts", {"glooServiceAccounts": ["foo"]}),
    ("sa-default", "glooServiceAccounts", {"glooServiceAccounts": ["gloo", "default"]}),
    ("sa-without-gloo", "glooServiceAccounts", {"glooServiceAccounts": ["discovery"]}),
    (
        "releases-collide",
        "glooReleaseName",
        {"glooNamespace": "vault", "glooReleaseName": "vault"},
    ),
    ("vault-sa-is-glooss", "vaultServiceAccount", {"vaultNamespace": "gloo-system", "vaultServiceAccount": "gloo"}),
]


@pytest.mark.parametrize(("case", "key", "overrides"), REFUSED, ids=[c[0] + ":" + str(c[2]) for c in REFUSED])
def test_config_that_breaks_the_deployment_stops_it_naming_the_key(
    case: str, key: str, overrides: dict[str, Any]
) -> None:
    failed = run_program_failure({**dev_config(), **overrides})
    assert_names_key(failed.error, key)
    assert [r.type for r in failed.resources if r.type != "pulumi:providers:aws"] == []


def test_a_principal_in_this_account_is_accepted() -> None:
    run = run_program({**dev_config(), **EXTERNAL_VAULT, "vaultAwsPrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:role/v"})
    assert run.outputs["vaultAwsIdentityArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/v"


class NoOidcProviderMocks(GuideMocks):
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == GET_OIDC_PROVIDER:  # how the engine reports a failed look-up
            return {}, [("url", "reading IAM OIDC Provider: couldn't find resource")]
        return super().call(args)


def test_adopting_a_provider_that_does_not_exist_says_so_in_one_line() -> None:
    failed = run_program_failure({**dev_config(), "adoptOidcProvider": True}, mocks=NoOidcProviderMocks)
    assert_names_key(failed.error, "adoptOidcProvider")
    assert "adoptOidcProvider: false" in str(failed.error) or "set adoptOidcProvider false" in str(failed.error)
    assert [r.type for r in failed.resources if r.type != "pulumi:providers:aws"] == []


def test_a_password_in_the_vault_address_is_refused_without_printing_it() -> None:
    failed = run_program_failure({**dev_config(), "vaultAddress": "https://admin:s3cr3t-pw@vault.example.com:8200"})
    assert_names_key(failed.error, "vaultAddress")
    assert "s3cr3t-pw" not in str(failed.error)


@pytest.mark.parametrize("address", ["http://[::1]:8200", "https://[2001:db8::7]:8200/", "http://127.0.0.1:8200"])
def test_ip_literal_vault_addresses_are_accepted(address: str) -> None:
    assert parse({"clusterName": "edge", "vaultProviderAddress": address}).vault_provider_address == address


@pytest.mark.parametrize("address", ["http://[::1", "http://[not-ip]:8200", "http://vault:99999"])
def test_malformed_addresses_are_still_refused(address: str) -> None:
    with pytest.raises(checks.ConfigError):
        parse({"clusterName": "edge", "vaultAddress": address})


# ---------------------------------------------------------------------------- 7. secrets and files


def test_a_secret_kubeconfig_stays_secret() -> None:
    run = run_program(secrets={"vaultToken": "hvs.test", "kubeconfig": "apiVersion: v1\nkind: Config\n"})
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.secret("kubeconfig")


def test_the_cluster_ca_is_written_in_a_private_directory(run: ProgramRun) -> None:
    path = Path(run.one(VAULT_PROVIDER).inputs["caCertFile"])
    assert path.read_bytes() == CA_PEM
    directory = path.parent
    assert directory.parent == Path(tempfile.gettempdir()) or directory.parent.name.startswith("gloo-vault-irsa-tests")
    info = os.lstat(directory)
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.geteuid()


def test_a_planted_ca_or_symlink_is_replaced_not_trusted() -> None:
    first = Path(run_program().one(VAULT_PROVIDER).inputs["caCertFile"])
    with program_tempdir() as tmp:
        victim = Path(tmp) / "victim.pem"
        victim.write_bytes(b"victim")
        first.unlink()
        first.symlink_to(victim)
    again = Path(run_program().one(VAULT_PROVIDER).inputs["caCertFile"])
    assert again == first and not again.is_symlink() and again.read_bytes() == CA_PEM
    assert victim.read_bytes() == b"victim"
    again.write_bytes(b"-----BEGIN CERTIFICATE-----\nATTACKER\n-----END CERTIFICATE-----\n")
    assert Path(run_program().one(VAULT_PROVIDER).inputs["caCertFile"]).read_bytes() == CA_PEM


def test_a_ca_directory_others_can_write_is_refused() -> None:
    path = Path(run_program().one(VAULT_PROVIDER).inputs["caCertFile"])
    path.parent.chmod(0o777)
    try:
        failed = run_program_failure()
        assert "\n" not in str(failed.error) and str(path.parent) in str(failed.error)
    finally:
        path.parent.chmod(0o700)


# ---------------------------------------------------------------------------- 8. destroy keeps what cannot be rebuilt


def test_the_kv_mount_is_retained_on_delete_by_default(run: ProgramRun) -> None:
    assert run.one(VAULT_MOUNT).options["retainOnDelete"] is True


def test_the_kv_mount_retention_can_be_turned_off() -> None:
    run = run_program({**dev_config(), "kvRetainOnDelete": False})
    assert run.one(VAULT_MOUNT).options["retainOnDelete"] is not True


def test_production_protects_the_kv_mount() -> None:
    run = run_program({**dev_config(), "environment": "production"})
    assert run.one(VAULT_MOUNT).options["protect"] is True


# ---------------------------------------------------------------------------- 9. one `pulumi up` is enough


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

"""components/config/preflight.py: the checks against AWS before anything is created (the principal's
account, the OIDC provider to adopt)."""

from __future__ import annotations

from tests.harness import (
    ACCOUNT_ID,
    EXTERNAL_VAULT,
    NoOidcProviderMocks,
    assert_names_key,
    dev_config,
    run_program,
    run_program_failure,
)


def test_a_principal_in_this_account_is_accepted() -> None:
    run = run_program({**dev_config(), **EXTERNAL_VAULT, "vaultAwsPrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:role/v"})
    assert run.outputs["vaultAwsIdentityArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/v"


def test_adopting_a_provider_that_does_not_exist_says_so_in_one_line() -> None:
    failed = run_program_failure({**dev_config(), "adoptOidcProvider": True}, mocks=NoOidcProviderMocks)
    assert_names_key(failed.error, "adoptOidcProvider")
    assert "adoptOidcProvider: false" in str(failed.error) or "set adoptOidcProvider false" in str(failed.error)
    assert [r.type for r in failed.resources if r.type != "pulumi:providers:aws"] == []

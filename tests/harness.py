"""The tests' way to run the real program under Pulumi's mock runtime (`components/offline.py`,
which the offline review uses too): the real `Pulumi.dev.yaml` and a test Vault token by default,
the config variants every test module shares, and runs expected to fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.checks import PROJECT
from components.offline import (
    ACCOUNT_ID,
    CA_DATA,
    CA_PEM,
    EKS_TOKEN,
    ENDPOINT,
    GET_CALLER_IDENTITY,
    GET_CLUSTER,
    GET_CLUSTER_AUTH,
    GET_OIDC_PROVIDER,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    ISSUER_URL,
    OIDC_PROVIDER,
    ROOT,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_POLICY,
    VAULT_PROVIDER,
    VAULT_STS_ROLE,
    ErrorHookCallback,
    GuideMocks,
    ProgramRun,
    RecordingMonitor,
    Registered,
    contains_secret,
    is_secret,
    mock_physical_name,
    mock_role_arn,
    mock_role_unique_id,
    oidc_provider_arn,
    patched_environ,
    program_tempdir,
    remove_program_tempdir,
    unwrap,
)
from components.offline import execute as _execute_offline
from components.offline import stack_config as _stack_config

__all__ = [
    "ACCOUNT_ID",
    "CA_DATA",
    "CA_PEM",
    "EKS_TOKEN",
    "ENDPOINT",
    "EXTERNAL_VAULT",
    "GET_CALLER_IDENTITY",
    "GET_CLUSTER",
    "GET_CLUSTER_AUTH",
    "GET_OIDC_PROVIDER",
    "HELM_RELEASE",
    "IAM_ROLE",
    "IAM_ROLE_POLICY",
    "IAM_USER_POLICY",
    "ISSUER_URL",
    "LICENSE",
    "OIDC_PROVIDER",
    "PROJECT",
    "ROOT",
    "TEST_VAULT_TOKEN",
    "VARIANTS",
    "VAULT_AUTH_BACKEND",
    "VAULT_AWS_CLIENT",
    "VAULT_AWS_ROLE",
    "VAULT_MOUNT",
    "VAULT_POLICY",
    "VAULT_PROVIDER",
    "VAULT_STS_ROLE",
    "ErrorHookCallback",
    "FailedRun",
    "GuideMocks",
    "ProgramRun",
    "RecordingMonitor",
    "Registered",
    "contains_secret",
    "dev_config",
    "is_secret",
    "mock_physical_name",
    "mock_role_arn",
    "mock_role_unique_id",
    "oidc_provider_arn",
    "patched_environ",
    "program_tempdir",
    "remove_program_tempdir",
    "run_program",
    "run_program_failure",
    "unwrap",
]

TEST_VAULT_TOKEN = "hvs.test-root-token"


def dev_config() -> dict[str, str]:
    """The real `Pulumi.dev.yaml`, keys without the project prefix."""
    return _stack_config("dev")


LICENSE = "LICENSE-KEY-0123456789"
EXTERNAL_VAULT = {"vaultTopology": "external", "vaultAddress": "https://vault.example.com:8200"}
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "dev": (dev_config(), {"vaultToken": TEST_VAULT_TOKEN}),
    "adopted-oidc": ({**dev_config(), "adoptOidcProvider": True}, {"vaultToken": TEST_VAULT_TOKEN}),
    "enterprise": (
        {**dev_config(), "glooEdition": "enterprise"},
        {"vaultToken": TEST_VAULT_TOKEN, "glooLicenseKey": LICENSE},
    ),
    "external-role": (
        {**dev_config(), **EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server"},
        {"vaultToken": TEST_VAULT_TOKEN},
    ),
    "adopted-mounts": (
        {**dev_config(), "adoptKvMount": True, "adoptAuthMount": True},
        {"vaultToken": TEST_VAULT_TOKEN},
    ),
    "cross-account": (
        {**dev_config(), **EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault"},
        {"vaultToken": TEST_VAULT_TOKEN},
    ),
}
"""Whole-program variants (config, secrets): the dev stack and each topology/edition it can switch to."""


@dataclass
class FailedRun:
    """A program run that raised: the error, and whatever was registered before it did."""

    error: BaseException
    resources: list[Registered]


def run_program(
    config: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    stack: str = "dev",
    mocks: Callable[[bool], GuideMocks] = GuideMocks,
) -> ProgramRun:
    """Runs `__main__.py` as `pulumi up` (or `preview`) would, and returns what it registered.

    `config` defaults to `Pulumi.dev.yaml`; values that are lists are JSON-encoded as the CLI
    stores them. The Vault token comes from `secrets` (default: a test token) unless `env`
    supplies VAULT_TOKEN instead. `mocks` builds the mocks (given `preview`), for tests that
    need AWS to answer differently.
    """
    run, error = _execute(config, secrets=secrets, preview=preview, env=env, stack=stack, mocks=mocks)
    if error is not None:
        raise error
    return run


def run_program_failure(
    config: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    stack: str = "dev",
    mocks: Callable[[bool], GuideMocks] = GuideMocks,
) -> FailedRun:
    """Runs the program expecting it to fail; returns the error and every registration made."""
    run, error = _execute(config, secrets=secrets, preview=preview, env=env, stack=stack, mocks=mocks)
    if error is None:
        raise AssertionError(f"the program succeeded, registering {len(run.resources)} resources")
    return FailedRun(error, run.resources)


def _execute(
    config: Mapping[str, Any] | None,
    *,
    secrets: Mapping[str, str] | None,
    preview: bool,
    env: Mapping[str, str] | None,
    stack: str,
    mocks: Callable[[bool], GuideMocks],
) -> tuple[ProgramRun, BaseException | None]:
    return _execute_offline(
        dev_config() if config is None else config,
        secrets={"vaultToken": TEST_VAULT_TOKEN} if secrets is None else secrets,
        preview=preview,
        env=env,
        stack=stack,
        mocks=mocks,
    )

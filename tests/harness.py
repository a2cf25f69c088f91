"""The tests' way to run the real program under Pulumi's mock runtime (`tooling/offline.py`,
which the offline review uses too): the real `Pulumi.dev.yaml` and a test Vault token by default,
the config variants every test module shares (the real dev and prod stack files among them), runs
expected to fail, and other programs (an example) run the same way.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
import pytest
import yaml

from components.config.checks import ConfigError, config_text
from components.config.load import parse_settings
from components.project import PROJECT
from components.settings import Settings
from tooling.offline import (
    ACCOUNT_ID,
    CA_DATA,
    CA_PEM,
    EKS_CLUSTER,
    EKS_ISSUER_URL,
    EKS_KUBECONFIG,
    EKS_OUTPUTS,
    EKS_STACK,
    EKS_TOKEN,
    ENDPOINT,
    GET_CALLER_IDENTITY,
    GET_CLUSTER,
    GET_CLUSTER_AUTH,
    GET_OIDC_PROVIDER,
    GUIDE_CLUSTER,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    ISSUER_URL,
    JOB,
    OIDC_PROVIDER,
    OTHER_STACKS,
    ROOT,
    STACK_REFERENCE,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_POLICY,
    VAULT_PROVIDER,
    VAULT_STS_ROLE,
    ErrorHookCallback,
    GuideMocks,
    OtherStack,
    ProgramRun,
    RecordingMonitor,
    Registered,
    cluster_issuer_url,
    contains_secret,
    eks_stack,
    is_secret,
    mock_physical_name,
    mock_role_arn,
    mock_role_unique_id,
    oidc_provider_arn,
    patched_environ,
    program_tempdir,
    remove_program_tempdir,
    stack_config,
    unwrap,
)
from tooling.offline import execute as _execute_offline

__all__ = [
    "ACCOUNT_ID",
    "BOUNDARY_ARN",
    "CA_DATA",
    "CA_PEM",
    "CLUSTER_FROM_STACK",
    "DEFAULT_TAGS",
    "EKS_CLUSTER",
    "EKS_ISSUER_URL",
    "EKS_KUBECONFIG",
    "EKS_OUTPUTS",
    "EKS_STACK",
    "EKS_TOKEN",
    "ENDPOINT",
    "EXTERNAL_VAULT",
    "FLEET",
    "FLEET_CONFIG",
    "GET_CALLER_IDENTITY",
    "GET_CLUSTER",
    "GET_CLUSTER_AUTH",
    "GET_OIDC_PROVIDER",
    "GUIDE_CLUSTER",
    "HELM_RELEASE",
    "IAM_ROLE",
    "IAM_ROLE_POLICY",
    "IAM_USER_POLICY",
    "ISSUER_URL",
    "JOB",
    "LICENSE",
    "OIDC_PROVIDER",
    "ORG_IAM",
    "OTHER_STACKS",
    "PROJECT",
    "ROLE_PATH",
    "ROOT",
    "STACK_REFERENCE",
    "TEST_VAULT_TOKEN",
    "TOKEN",
    "VARIANTS",
    "VARIANT_STACKS",
    "VAULT_AUTH_BACKEND",
    "VAULT_AWS_CLIENT",
    "VAULT_AWS_ROLE",
    "VAULT_MOUNT",
    "VAULT_POLICY",
    "VAULT_PROVIDER",
    "VAULT_STS_ROLE",
    "VAULT_TOPOLOGIES",
    "ErrorHookCallback",
    "FailedRun",
    "GuideMocks",
    "NoOidcProviderMocks",
    "OtherStack",
    "ProgramRun",
    "RecordingMonitor",
    "Registered",
    "assert_names_key",
    "cluster_issuer_url",
    "config_text",
    "contains_secret",
    "dev_config",
    "eks_stack",
    "fleet",
    "gloo_values",
    "is_secret",
    "load_script",
    "mock_physical_name",
    "mock_role_arn",
    "mock_role_unique_id",
    "oidc_provider_arn",
    "parse",
    "patched_environ",
    "program_tempdir",
    "pulumi_yaml_config",
    "remove_program_tempdir",
    "run_program",
    "run_program_failure",
    "stack_config",
    "trust_subjects",
    "unwrap",
    "uses_provider",
    "vault_topology_run",
    "vault_topology_runs",
]

TEST_VAULT_TOKEN = "hvs.test-root-token"


def dev_config() -> dict[str, str]:
    """The real `Pulumi.dev.yaml`, keys without the project prefix."""
    return stack_config("dev")


LICENSE = "LICENSE-KEY-0123456789"
EXTERNAL_VAULT = {"vaultTopology": "external", "vaultAddress": "https://vault.example.com:8200"}
ROLE_PATH = "/platform/gloo/"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/platform/workload-boundary"
DEFAULT_TAGS = {"team": "edge", "cost-center": "4711", "owner": "platform@example.com"}
ORG_IAM = {
    "iamRolePath": ROLE_PATH,
    "iamPermissionsBoundaryArn": BOUNDARY_ARN,
    "iamMaxSessionDuration": "2h",
    "awsDefaultTags": DEFAULT_TAGS,
}
"""What organisations require of IAM (terraform-aws-modules' IRSA role inputs), all at once."""
CLUSTER_FROM_STACK = {"clusterStackRef": EKS_STACK, "region": "eu-west-1"}
"""The cluster, its kubeconfig and OIDC provider from the stack that owns it, not from AWS lookups."""
FLEET = {"east-a": {"clusterName": "edge-east-a"}, "east-b": {"clusterStackRef": EKS_STACK}}
"""Two clusters on one external Vault (`clusters`): one looked up by name, one from its own stack."""
FLEET_CONFIG = {
    **{k: v for k, v in dev_config().items() if k != "clusterName"},
    **EXTERNAL_VAULT,
    "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
    "clusters": FLEET,
}
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
    "prod": (stack_config("prod"), {"vaultToken": TEST_VAULT_TOKEN, "glooLicenseKey": LICENSE}),
    "org-iam": ({**dev_config(), **ORG_IAM}, {"vaultToken": TEST_VAULT_TOKEN}),
    "cluster-from-stack": (
        {**{k: v for k, v in dev_config().items() if k != "clusterName"}, **CLUSTER_FROM_STACK},
        {"vaultToken": TEST_VAULT_TOKEN},
    ),
    "org-iam-cross-account": (
        {
            **dev_config(),
            **ORG_IAM,
            **EXTERNAL_VAULT,
            "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault",
        },
        {"vaultToken": TEST_VAULT_TOKEN},
    ),
    "clusters": (FLEET_CONFIG, {"vaultToken": TEST_VAULT_TOKEN}),
}
"""Whole-program variants (config, secrets): the dev and prod stacks (their real stack files, the
secrets supplied) and each topology/edition/option the program can switch to."""
VARIANT_STACKS = {"prod": "prod"}
"""The stack a variant runs as (default `dev`): the production stack file under its own name."""


@dataclass
class FailedRun:
    """A program run that raised: the error, and whatever was registered before it did."""

    error: BaseException
    resources: list[Registered]


def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py` imported as module `name`, for tests of the scripts' own functions."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_program(
    config: Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, str] | None = None,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    stack: str = "dev",
    mocks: Callable[[bool], GuideMocks] = GuideMocks,
    program: Path = ROOT / "__main__.py",
    project: str = PROJECT,
) -> ProgramRun:
    """Runs `__main__.py` as `pulumi up` (or `preview`) would, and returns what it registered.

    `config` defaults to `Pulumi.dev.yaml`; values that are lists are JSON-encoded as the CLI
    stores them. The Vault token comes from `secrets` (default: a test token) unless `env`
    supplies VAULT_TOKEN instead. `mocks` builds the mocks (given `preview`), for tests that
    need AWS to answer differently. `program` and `project` run another program (an example)
    the same way.
    """
    run, error = _execute(
        config, secrets=secrets, preview=preview, env=env, stack=stack, mocks=mocks, program=program, project=project
    )
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
    program: Path = ROOT / "__main__.py",
    project: str = PROJECT,
) -> FailedRun:
    """Runs the program expecting it to fail; returns the error and every registration made."""
    run, error = _execute(
        config, secrets=secrets, preview=preview, env=env, stack=stack, mocks=mocks, program=program, project=project
    )
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
    program: Path,
    project: str,
) -> tuple[ProgramRun, BaseException | None]:
    return _execute_offline(
        dev_config() if config is None else config,
        secrets={"vaultToken": TEST_VAULT_TOKEN} if secrets is None else secrets,
        preview=preview,
        env=env,
        stack=stack,
        mocks=mocks,
        program=program,
        project=project,
    )


# Config as the program reads it: shared by the tests of components/config/ and of the layers.
TOKEN = {"vaultToken": "hvs.test"}


def parse(
    config: Mapping[str, str],
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """`parse_settings` over plain dicts, as the CLI stores values (strings, lists as JSON)."""
    secret_values = dict(TOKEN if secrets is None else secrets)

    def secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(secret_values[key]) if key in secret_values else None

    return parse_settings(dict(config).get, secret, dict(env or {}))


def assert_names_key(error: BaseException, key: str) -> None:
    assert isinstance(error, ConfigError), repr(error)
    assert isinstance(error, pulumi.RunError)  # printed by Pulumi as one line, no stack trace
    assert error.key == key
    message = str(error)
    assert message.startswith(f"gloo-vault-irsa:{key}: expected "), message
    assert "\n" not in message and "\r" not in message


def pulumi_yaml_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    return config


# The Vault layers' topologies: the modules of vault_auth, vault_provider and in_cluster_vault import
# the two fixtures below, which are then their `runs` and `run` (in place of the stack variants).
VAULT_TOPOLOGIES: dict[str, dict[str, Any]] = {
    "in-cluster": {},
    "in-cluster-port-forward": {"vaultProviderAddress": "http://127.0.0.1:8200"},
    "external-role": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server"},
    "external-user": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:user/vault"},
    "cross-account": {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault"},
    "external-own-provider-address": {
        **EXTERNAL_VAULT,
        "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
        "vaultProviderAddress": "https://vault.internal.example.com:8200",
    },
}


@pytest.fixture(scope="module", name="runs")
def vault_topology_runs() -> dict[str, ProgramRun]:
    return {name: run_program({**dev_config(), **overrides}) for name, overrides in VAULT_TOPOLOGIES.items()}


@pytest.fixture(scope="module", name="run")
def vault_topology_run(runs: dict[str, ProgramRun]) -> ProgramRun:
    return runs["in-cluster"]


def gloo_values(run: ProgramRun) -> dict[str, Any]:
    values: dict[str, Any] = run.one(HELM_RELEASE, "gloo").inputs["values"]
    return values


def trust_subjects(run: ProgramRun, role: str = "gloo") -> list[str]:
    trust = json.loads(run.one(IAM_ROLE, role).inputs["assumeRolePolicy"])
    [subjects] = [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    return list(subjects)


class NoOidcProviderMocks(GuideMocks):
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == GET_OIDC_PROVIDER:  # how the engine reports a failed look-up
            return {}, [("url", "reading IAM OIDC Provider: couldn't find resource")]
        return super().call(args)


def uses_provider(res: Registered, provider: Registered) -> bool:
    return res.provider.rsplit("::", 1)[0] == provider.urn


def fleet(clusters: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The two-cluster variant's config, with other clusters or keys."""
    return {**FLEET_CONFIG, "clusters": FLEET if clusters is None else clusters, **overrides}

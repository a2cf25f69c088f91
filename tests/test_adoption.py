"""Adopting an existing kv mount and aws auth mount (`adoptKvMount`, `adoptAuthMount`) instead of
creating them: nothing registered for the mount itself, everything else written against its path."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest

from components.config.checks import ConfigError
from tests.harness import (
    HELM_RELEASE,
    ROOT,
    VARIANTS,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_POLICY,
    VAULT_STS_ROLE,
    ProgramRun,
    dev_config,
    run_program,
    run_program_failure,
)

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


def test_adoption_keys_are_booleans() -> None:
    failed = run_program_failure({**dev_config(), "adoptKvMount": "perhaps"})
    assert isinstance(failed.error, ConfigError)
    assert "adoptKvMount" in str(failed.error)


# ---------------------------------------------------------------------------- README's import commands

IMPORT_ID_FORMATS = {
    # The `## Import` section of each resource's docs in the pinned provider SDKs.
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        r'"arn:aws:iam::\$\{ACCOUNT_ID\}:oidc-provider/\$\{OIDC_PROVIDER\}"'
    ),
    "aws:iam/role:Role": r'"\$\{VAULT_AUTH_ROLE_NAME\}"',
    "vault:index/authBackend:AuthBackend": r"aws",
    "vault:index/mount:Mount": r"dev",
    "vault:index/policy:Policy": r"dev",
    "vault:aws/authBackendClient:AuthBackendClient": r"auth/aws/config/client",
    "vault:aws/authBackendRole:AuthBackendRole": r'"auth/aws/role/\$\{VAULT_AUTH_ROLE_NAME\}"',
    "kubernetes:helm.sh/v3:Release": r"gloo-system/gloo",
}


def _readme_imports() -> list[list[str]]:
    readme = (ROOT / "docs" / "adoption.md").read_text()
    return [shlex.split(line, posix=False) for line in readme.splitlines() if line.startswith("pulumi import ")]


def _real_urn(urn: str) -> str:
    """The mock runtime names top-level resources under the stack's type; the engine does not."""
    return urn.replace("pulumi:pulumi:Stack$", "")


def _flag(words: list[str], flag: str) -> str:
    value = words[words.index(flag) + 1].strip("'\"")
    return value.split("=", 1)[1]


def test_readmes_import_commands_name_the_programs_resources() -> None:
    run = run_program()  # Pulumi.dev.yaml: the commands are for stack dev
    commands = _readme_imports()
    assert {words[2] for words in commands} == set(IMPORT_ID_FORMATS)
    for words in commands:
        type_, name, id_ = words[2], words[3], words[4]
        assert re.fullmatch(IMPORT_ID_FORMATS[type_], id_), (type_, id_)
        [res] = [r for r in run.resources if (r.type, r.name) == (type_, name)]
        assert _flag(words, "--parent") == _real_urn(res.parent), type_
        assert _flag(words, "--provider") == _real_urn(run.provider_of(res).urn), type_
        assert words[-1] == "--protect=false"  # the program's own protect settings decide

"""components/vault_provider.py: the explicit Vault provider, its address per topology, its secret
token, and the cluster CA it writes in a private directory."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from tests.harness import (
    CA_PEM,
    HELM_RELEASE,
    TEST_VAULT_TOKEN,
    VAULT_PROVIDER,
    VAULT_TOPOLOGIES,
    ProgramRun,
    program_tempdir,
    run_program,
    run_program_failure,
    uses_provider,
    vault_topology_run,
    vault_topology_runs,
)

# This module's `runs` and `run` are the Vault topologies' (tests/harness.py), not the stack variants.
runs, run = vault_topology_runs, vault_topology_run


@pytest.mark.parametrize("topology", VAULT_TOPOLOGIES)
def test_every_vault_resource_uses_the_explicit_vault_provider(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    provider = run.one(VAULT_PROVIDER)
    vault_resources = [r for r in run.resources if r.custom and r.type.startswith("vault:")]
    assert len(vault_resources) >= 5
    for res in vault_resources:
        assert uses_provider(res, provider), (res.type, res.provider)
        assert run.by_urn(res.parent).type == "gloo-vault-irsa:vault:VaultAwsAuth"


@pytest.mark.parametrize("topology", VAULT_TOPOLOGIES)
def test_provider_token_is_secret(runs: dict[str, ProgramRun], topology: str) -> None:
    provider = runs[topology].one(VAULT_PROVIDER)
    assert provider.inputs["token"] == TEST_VAULT_TOKEN
    assert provider.secret("token")


@pytest.mark.parametrize("topology", ["external-role", "external-user", "cross-account"])
def test_external_vault_is_reached_at_its_address(runs: dict[str, ProgramRun], topology: str) -> None:
    run = runs[topology]
    provider = run.one(VAULT_PROVIDER)
    assert provider.inputs["address"] == "https://vault.example.com:8200"
    assert [r.name for r in run.of_type(HELM_RELEASE)] == ["gloo"]  # no in-cluster Vault
    assert run.of_type("gloo-vault-irsa:vault:InClusterVault") == []
    assert provider.dependencies == []
    assert run.outputs["vaultAddress"] == "https://vault.example.com:8200"


def test_external_provider_address_override(runs: dict[str, ProgramRun]) -> None:
    run = runs["external-own-provider-address"]
    assert run.one(VAULT_PROVIDER).inputs["address"] == "https://vault.internal.example.com:8200"
    assert run.outputs["vaultAddress"] == "https://vault.example.com:8200"  # Gloo still uses vaultAddress


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

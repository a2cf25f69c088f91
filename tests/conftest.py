"""Whole-program runs shared by every module that asks for them, made once per test session.

A module that needs a narrower graph (one layer, other configs) defines its own `run`/`runs`,
which pytest prefers over these.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from components import vault_versions
from tests.harness import VARIANT_STACKS, VARIANTS, ProgramRun, remove_program_tempdir, run_program


@pytest.fixture(scope="session")
def runs() -> dict[str, ProgramRun]:
    """Each of `VARIANTS` as an update."""
    return {
        name: run_program(config, secrets=secrets, stack=VARIANT_STACKS.get(name, "dev"))
        for name, (config, secrets) in VARIANTS.items()
    }


@pytest.fixture(scope="session")
def run(runs: dict[str, ProgramRun]) -> ProgramRun:
    """The dev stack (Pulumi.dev.yaml), as an update."""
    return runs["dev"]


@pytest.fixture(scope="session")
def preview() -> ProgramRun:
    """The dev stack as `pulumi preview` sees a new stack: outputs unknown."""
    return run_program(preview=True)


@pytest.fixture(scope="session", autouse=True)
def _program_temp_files_are_removed() -> Iterator[None]:
    """The programs the tests run write their temp files in one directory, removed at the end."""
    yield
    remove_program_tempdir()


@pytest.fixture(scope="session", autouse=True)
def _vault_health_is_read_on_loopback_only() -> Iterator[None]:
    """The program reads an external Vault's `sys/health` (components/vault_versions.py); the
    tests' external addresses (`vault.example.com`...) must never be looked up, so only a Vault on
    127.0.0.1 is read and any other counts as unreachable, which the program takes in its stride."""
    read = vault_versions.health_version

    def loopback_only(address: str, ca_pem: str | None = None, timeout: float = 3.0) -> str | None:
        return read(address, ca_pem, timeout) if urlsplit(address).hostname == "127.0.0.1" else None

    patch = pytest.MonkeyPatch()
    patch.setattr(vault_versions, "health_version", loopback_only)
    yield
    patch.undo()

"""Whole-program runs shared by every module that asks for them, made once per test session.

A module that needs a narrower graph (one layer, other configs) defines its own `run`/`runs`,
which pytest prefers over these.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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

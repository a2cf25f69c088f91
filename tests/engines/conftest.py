"""Session fixtures: the engines (started once, always stopped) and the program applied to them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

from tests.engines.apply import Deployment, apply
from tests.engines.kube import KubeApiServer, missing_kube, start_kube
from tests.engines.servers import ROOT_TOKEN, Engines, EngineUnavailable, missing_engine, start_engines
from tests.harness import ProgramRun, dev_config, run_program

T = TypeVar("T")
REQUIRE_ENGINES = "GLOO_VAULT_IRSA_REQUIRE_ENGINES"
"""Set to 1 by .ci/run and the workflows: where the engines must run, a missing one fails the run."""


def engine_missing(reason: str) -> NoReturn:
    """Skips with the one-line reason (a laptop without Go), or fails where engines are required (CI)."""
    if os.environ.get(REQUIRE_ENGINES) == "1":
        pytest.fail(f"{REQUIRE_ENGINES}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _started(
    missing: Callable[[], str | None], start: Callable[[Path], AbstractContextManager[T]], workdir: Path
) -> Iterator[T]:
    """What `start` starts in `workdir` (always stopped after), or a skip (a failure where engines
    are required) naming what is missing."""
    reason = missing()
    if reason:
        engine_missing(reason)
    try:
        with start(workdir) as running:
            yield running
    except EngineUnavailable as unavailable:
        engine_missing(str(unavailable))


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    """OpenBao (AWS auth plugin registered) and moto_server."""
    yield from _started(missing_engine, start_engines, tmp_path_factory.mktemp("engines"))


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeApiServer]:
    """etcd and kube-apiserver."""
    yield from _started(missing_kube, start_kube, tmp_path_factory.mktemp("kube"))


@dataclass(frozen=True)
class Scenario:
    """A stack config (Pulumi.dev.yaml, or `config`, plus overrides) and what must exist before it is applied."""

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    given: Callable[[Engines], None] | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] | None = None
    """The whole stack config instead of Pulumi.dev.yaml (for one without a key of it, as `clusters`)."""

    def run(self) -> ProgramRun:
        """The program's registrations; its `vaultToken` is the dev server's root token."""
        base = dev_config() if self.config is None else self.config
        return run_program({**base, **self.overrides}, secrets={"vaultToken": ROOT_TOKEN, **self.secrets})


class Deployer:
    """Applies one scenario at a time to the shared engines; re-applies only on a change."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.current: tuple[str, Deployment] | None = None
        self.runs: dict[str, ProgramRun] = {}

    def __call__(self, scenario: Scenario) -> Deployment:
        if self.current is not None and self.current[0] == scenario.name:
            return self.current[1]
        self.current = None
        deployment = apply(self.program_run(scenario), self.engines, given=scenario.given)
        self.current = (scenario.name, deployment)
        return deployment

    def program_run(self, scenario: Scenario) -> ProgramRun:
        """The scenario's registrations, run once per session."""
        if scenario.name not in self.runs:
            self.runs[scenario.name] = scenario.run()
        return self.runs[scenario.name]

    def forget(self) -> None:
        """For a test that changed the engines: the next scenario is applied afresh."""
        self.current = None


@pytest.fixture(scope="session")
def deployer(engines: Engines) -> Deployer:
    return Deployer(engines)


from tests.cli.account import account, cli, workspace  # noqa: E402, F401  (the CLI tests' fixtures)

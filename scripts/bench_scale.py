#!/usr/bin/env python3
"""Scale benchmark (not a test): evaluates the program under Pulumi's mocks (tests/harness.py)
for a number of clusters and prints, per count, the evaluation time, the part of it CPython's
garbage collector took, and the graph's critical path: the longest chain of resources each of
which waits for the one before (a recorded resource or property dependency, or the resource's
provider). Component resources wait for nothing and take no time, so they add no length.

    .venv/bin/python scripts/bench_scale.py            # prod at 1, 10, 100 clusters, dev at 1; best of 5
    .venv/bin/python scripts/bench_scale.py --clusters 1 3 --repeat 1 --stacks prod

Several clusters are `prod` with `clusters` in place of `clusterStackRef`, each cluster from an
EKS stack of its own (`stack_for`); `dev`'s in-cluster Vault serves its one cluster only, so dev
runs at 1 and the script says in one line which counts it skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.config import ConfigError  # noqa: E402  (found from the repository root)
from tests.harness import (  # noqa: E402
    EKS_STACK,
    OTHER_STACKS,
    VARIANTS,
    GuideMocks,
    OtherStack,
    ProgramRun,
    Registered,
    eks_stack,
    remove_program_tempdir,
    run_program,
)


@dataclass(frozen=True)
class Stack:
    """What to evaluate for a cluster count: the stack, its config and secrets, the stacks it reads."""

    name: str
    """The stack's name (production by name, as `prod`)."""
    config: dict[str, Any]
    """The stack's config (keys without the project prefix)."""
    secrets: dict[str, str]
    """Its secret config."""
    cluster_stacks: Mapping[str, OtherStack] = field(default_factory=lambda: dict(OTHER_STACKS))
    """The other stacks its `StackReference`s read (by fully qualified name): the mocks answer with them."""


class SingleCluster(ValueError):
    """A count the stack cannot take: its Vault runs in its one cluster (`vaultTopology: in-cluster-dev`)."""


@dataclass(frozen=True)
class Result:
    """One count's figures."""

    stack: str
    """The stack evaluated."""
    clusters: int
    """How many clusters the stack configured."""
    seconds: float
    """The fastest evaluation of `repeat` (program start to every output resolved)."""
    collector: float
    """Of those seconds, the ones CPython's cyclic garbage collector took."""
    resources: int
    """Resources registered (components included) and read."""
    path: tuple[str, ...]
    """The critical path, first resource first, each as `type name`."""


STACKS = ("dev", "prod")
COUNTS = (1, 10, 100)
FLEET_STACK = f"{EKS_STACK}-{{:03}}"
"""Cluster i's own EKS stack (`acme/eks/prod-001`, ...): one stack per cluster, as `prod` has one."""


def stack_for(clusters: int, stack: str = "dev") -> Stack:
    """The config of stack `stack` (its real stack file, secrets supplied) for `clusters` clusters.

    `prod` serves them through `clusters` (in place of its `clusterStackRef`), each cluster from a
    stack of its own that the mocks know; every count uses `clusters`, 1 included, so the counts
    differ in nothing else. `dev` runs its Vault in its one cluster: 1 only (SingleCluster).
    """
    config, secrets = VARIANTS[stack]
    if stack != "prod":
        if clusters != 1:
            raise SingleCluster("its in-cluster dev Vault lives in its one cluster (several need an external Vault)")
        return Stack(stack, dict(config), dict(secrets))
    refs = {f"prod-{i:03}": FLEET_STACK.format(i) for i in range(1, clusters + 1)}
    several = {key: value for key, value in config.items() if key != "clusterStackRef"}
    several["clusters"] = {key: {"clusterStackRef": ref} for key, ref in refs.items()}
    return Stack(stack, several, dict(secrets), {ref: eks_stack(f"edge-{key}") for key, ref in refs.items()})


def critical_path(run: ProgramRun) -> list[Registered]:
    """The longest chain of waits in the recorded graph; a component adds no length."""
    nodes = {res.urn: res for res in [*run.resources, *run.reads]}

    @cache
    def longest(urn: str) -> tuple[int, tuple[str, ...]]:
        res = nodes[urn]
        before = max((longest(u) for u in waits_for(res, nodes)), default=(0, ()))
        weight = 1 if res.custom else 0
        return before[0] + weight, before[1] + ((urn,) if weight else ())

    best = max((longest(urn) for urn in nodes), default=(0, ()))
    return [nodes[urn] for urn in best[1]]


def waits_for(res: Registered, nodes: Mapping[str, Registered]) -> set[str]:
    """The URNs, among `nodes`, that `res` waits for: its dependencies and its provider."""
    urns = set(res.dependencies) | {u for deps in res.property_dependencies.values() for u in deps}
    if res.provider:
        urns.add(res.provider.rsplit("::", 1)[0])
    return {u for u in urns if u in nodes and u != res.urn}


def label(res: Registered) -> str:
    """`Role gloo`, `vault provider`: a resource as the path shows it."""
    kind = res.type.rsplit(":", 1)[-1]
    return f"{kind} provider" if res.type.startswith("pulumi:providers:") else f"{kind} {res.name}"


@contextlib.contextmanager
def collector_clock() -> Iterator[list[float]]:
    """Seconds CPython's cyclic garbage collector runs inside the block (element 0 of the list
    yielded): at 100 clusters it is a large part of the evaluation, which the table shows apart."""
    spent, started = [0.0], [0.0]

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(clock)
    try:
        yield spent
    finally:
        gc.callbacks.remove(clock)


def evaluate(stack: Stack) -> tuple[ProgramRun, float, float]:
    """One evaluation of `stack`: what it registered, its seconds, and the collector's part."""
    with collector_clock() as collector:
        started = time.perf_counter()
        run = run_program(
            stack.config,
            secrets=stack.secrets,
            stack=stack.name,
            mocks=lambda preview: GuideMocks(preview, stack.cluster_stacks),
        )
        seconds = time.perf_counter() - started
    return run, seconds, collector[0]


def bench(clusters: int, repeat: int, stack: str = "dev") -> Result:
    """Evaluates the stack for `clusters` `repeat` times; the fastest run's figures."""
    config = stack_for(clusters, stack)
    runs = [evaluate(config) for _ in range(repeat)]
    run, seconds, collector = min(runs, key=lambda r: r[1])
    path = tuple(label(res) for res in critical_path(run))
    return Result(stack, clusters, seconds, collector, len(run.resources) + len(run.reads), path)


def workers_own_their_loops() -> None:
    """Gives the threads the mocks' monitor runs in an event loop of their own before any run.

    pulumi.runtime.mocks creates a worker's loop the first time that worker serves a run, inside
    that run's context; the loop's self-pipe handle keeps a copy of that context, and with it the
    run's stack resource and every output of the run. Each repeat then left its whole graph
    behind (about 100,000 objects at 100 clusters) for the collector to scan in every later one.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(
        concurrent.futures.ThreadPoolExecutor(initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop()))
    )


def report(results: Sequence[Result], skipped: Mapping[str, tuple[list[int], str]]) -> str:
    """The figures as a table, a line per stack that skipped counts, then each count's critical path."""
    lines = [
        "stack  clusters  resources  evaluation  collector  critical path",
        "-----  --------  ---------  ----------  ---------  -------------",
    ]
    for r in results:
        seconds = f"{r.seconds:>8.2f} s  {r.collector:>7.2f} s"
        lines.append(f"{r.stack:<5}  {r.clusters:>8}  {r.resources:>9}  {seconds}  {len(r.path):>13}")
    for stack, (counts, why) in skipped.items():
        lines.append(f"{stack}: skipped {', '.join(map(str, counts))} clusters: {why}")
    for r in results:
        lines.append(f"\ncritical path, {r.stack}, {r.clusters} cluster(s): " + " -> ".join(r.path))
    return "\n".join(lines)


def count(text: str) -> int:
    """A cluster count: at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"a stack serves at least 1 cluster (got {value})")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the counts, runs them, prints the report; 2 when the program refuses a count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clusters", type=count, nargs="+", default=list(COUNTS), help="cluster counts")
    parser.add_argument("--repeat", type=int, default=5, help="evaluations per count (the fastest is shown)")
    parser.add_argument("--stacks", nargs="+", choices=STACKS, default=list(STACKS), help="stack files to evaluate")
    args = parser.parse_args(argv)
    results: list[Result] = []
    skipped: dict[str, tuple[list[int], str]] = {}
    try:
        for stack in args.stacks:
            for n in args.clusters:
                try:
                    results.append(bench(n, max(1, args.repeat), stack))
                except SingleCluster as single:
                    skipped.setdefault(stack, ([], str(single)))[0].append(n)
                except ConfigError as refused:  # more clusters than Vault's grant can name
                    print(f"bench_scale: {stack}, {n} clusters: {refused}", file=sys.stderr)
                    return 2
    finally:
        remove_program_tempdir()
    print(report(results, skipped))
    return 0


if __name__ == "__main__":
    workers_own_their_loops()
    sys.exit(main())

#!/usr/bin/env python3
"""Scale benchmark (not a test): evaluates the program under Pulumi's mocks (tests/harness.py)
for a number of clusters and prints, per count, the evaluation time and the graph's critical path:
the longest chain of resources each of which waits for the one before (a recorded resource or
property dependency, or the resource's provider). Component resources wait for nothing and take
no time, so they add no length.

    .venv/bin/python scripts/bench_scale.py            # dev and prod, 1 cluster, best of 5
    .venv/bin/python scripts/bench_scale.py --clusters 1 10 100 --repeat 3 --stacks dev

One stack configures one cluster today; `stack_for` is where a multi-cluster config plugs in (issue
14's several-clusters part), and the rest of the script is independent of the count.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import (  # noqa: E402  (the harness is found from the repository root)
    VARIANTS,
    ProgramRun,
    Registered,
    remove_program_tempdir,
    run_program,
)


@dataclass(frozen=True)
class Stack:
    """What to evaluate for a cluster count: the stack, its config and its secrets."""

    name: str
    """The stack's name (production by name, as `prod`)."""
    config: dict[str, Any]
    """The stack's config (keys without the project prefix)."""
    secrets: dict[str, str]
    """Its secret config."""


@dataclass(frozen=True)
class Result:
    """One count's figures."""

    stack: str
    """The stack evaluated."""
    clusters: int
    """How many clusters the stack configured."""
    seconds: float
    """The fastest evaluation of `repeat` (program start to every output resolved)."""
    resources: int
    """Resources registered (components included) and read."""
    path: tuple[str, ...]
    """The critical path, first resource first, each as `type name`."""


STACKS = ("dev", "prod")


def stack_for(clusters: int, stack: str = "dev") -> Stack:
    """The config of stack `stack` (its real stack file, secrets supplied) for `clusters` clusters."""
    if clusters != 1:
        raise NotImplementedError(
            f"{clusters} clusters: one stack configures one cluster today; the multi-cluster config "
            "(issue 14, after 'adopt existing mounts') plugs in here"
        )
    config, secrets = VARIANTS[stack]
    return Stack(stack, dict(config), dict(secrets))


def critical_path(run: ProgramRun) -> list[Registered]:
    """The longest chain of waits in the recorded graph; a component adds no length."""
    nodes = {res.urn: res for res in [*run.resources, *run.reads]}

    def waits_for(res: Registered) -> set[str]:
        urns = set(res.dependencies) | {u for deps in res.property_dependencies.values() for u in deps}
        if res.provider:
            urns.add(res.provider.rsplit("::", 1)[0])
        return {u for u in urns if u in nodes and u != res.urn}

    @cache
    def longest(urn: str) -> tuple[int, tuple[str, ...]]:
        res = nodes[urn]
        before = max((longest(u) for u in waits_for(res)), default=(0, ()))
        weight = 1 if res.custom else 0
        return before[0] + weight, before[1] + ((urn,) if weight else ())

    best = max((longest(urn) for urn in nodes), default=(0, ()))
    return [nodes[urn] for urn in best[1]]


def label(res: Registered) -> str:
    """`Role gloo`, `vault provider`: a resource as the path shows it."""
    kind = res.type.rsplit(":", 1)[-1]
    return f"{kind} provider" if res.type.startswith("pulumi:providers:") else f"{kind} {res.name}"


def bench(clusters: int, repeat: int, stack: str = "dev") -> Result:
    """Evaluates the stack for `clusters` `repeat` times; the fastest run's figures."""
    config = stack_for(clusters, stack)
    timings: list[float] = []
    run: ProgramRun | None = None
    for _ in range(repeat):
        started = time.perf_counter()
        run = run_program(config.config, secrets=config.secrets, stack=config.name)
        timings.append(time.perf_counter() - started)
    assert run is not None
    path = tuple(label(res) for res in critical_path(run))
    return Result(stack, clusters, min(timings), len(run.resources) + len(run.reads), path)


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


def report(results: Sequence[Result]) -> str:
    """The figures as a table, then each count's critical path."""
    lines = [
        "stack  clusters  resources  evaluation  critical path",
        "-----  --------  ---------  ----------  -------------",
    ]
    lines += [
        f"{r.stack:<5}  {r.clusters:>8}  {r.resources:>9}  {r.seconds:>8.2f} s  {len(r.path):>13}" for r in results
    ]
    for r in results:
        lines.append(f"\ncritical path, {r.stack}, {r.clusters} cluster(s): " + " -> ".join(r.path))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the counts, runs them, prints the report; 2 for a count the program cannot take yet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, nargs="+", default=[1], help="cluster counts to evaluate")
    parser.add_argument("--repeat", type=int, default=5, help="evaluations per count (the fastest is shown)")
    parser.add_argument("--stacks", nargs="+", choices=STACKS, default=list(STACKS), help="stack files to evaluate")
    args = parser.parse_args(argv)
    try:
        results = [bench(n, max(1, args.repeat), stack) for stack in args.stacks for n in args.clusters]
    except NotImplementedError as unsupported:
        print(f"bench_scale: {unsupported}", file=sys.stderr)
        return 2
    finally:
        remove_program_tempdir()
    print(report(results))
    return 0


if __name__ == "__main__":
    workers_own_their_loops()
    sys.exit(main())

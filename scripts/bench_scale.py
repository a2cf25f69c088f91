#!/usr/bin/env python3
"""Scale benchmark (not a test): evaluates the program under Pulumi's mocks (tests/harness.py)
for a number of clusters and prints, per count, the evaluation time, the part of it CPython's
garbage collector took, and the graph's critical path: the longest chain of resources each of
which waits for the one before (a recorded resource or property dependency, or the resource's
provider). Component resources wait for nothing and take no time, so they add no length.

    .venv/bin/python scripts/bench_scale.py            # prod at 1, 10, 100 clusters, dev at 1; best of 5
    .venv/bin/python scripts/bench_scale.py --clusters 1 3 --repeat 1 --stacks prod
    .venv/bin/python scripts/bench_scale.py --stacks prod --engine   # also the real engine (~14 min)

Several clusters are `prod` with `clusters` in place of `clusterStackRef`, each cluster from an
EKS stack of its own (`stack_for`); `dev`'s in-cluster Vault serves its one cluster only, so dev
runs at 1 and the script says in one line which counts it skipped.

`--engine` also runs the real `pulumi preview` of prod at each count (the pinned CLI, the test
plugins, moto, OpenBao and kube-apiserver started here, each cluster's EKS stack imported on the
same file backend) beside two flat programs the script writes: the engine's floor, as many plain
resources on default providers, and the same with one explicit Kubernetes provider per cluster, as
the program has. It prints the median and range of `--engine-repeat` previews of each, taken back
to back, the ratios, the plugin processes each started and the peak summed RSS of everything the
CLI started. Opt-in: it needs the built tools and takes minutes and GBs (docs/clusters.md, "Scale").
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.config.checks import ConfigError  # noqa: E402
from components.project import PROJECT  # noqa: E402
from tests.cli.account import Account  # noqa: E402
from tests.cli.workspace import Workspace, missing_cli, write_program  # noqa: E402
from tests.engines.kube import KubeApiServer, missing_kube, start_kube  # noqa: E402
from tests.engines.servers import missing_engine, start_engines  # noqa: E402
from tests.harness import (  # noqa: E402
    EKS_ISSUER_URL,
    EKS_KUBECONFIG,
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


# ---------------------------------------------------------------------------- under the real engine

ENGINE_REPEAT = 3
SAMPLE_SECONDS = 0.2
PLUGIN_MODULE = "tests.cli.plugins."
"""A test plugin runs as `python -m tests.cli.plugins.<name>` (tests/cli/bin)."""
FILE_BACKEND_ORG = "organization"
"""A file backend's one organization: the fleet's EKS stacks are `organization/eks/prod-NNN` there."""
FLOOR_TYPES = ("aws:iam/role:Role", "vault:index/policy:Policy", "kubernetes:core/v1:Namespace")
FLOOR_PROGRAM = '''"""The engine's floor (scripts/bench_scale.py --engine): `count` plain resources, flat (no
component, no dependency, no output read), through the three test plugins; `providers` of them
explicit Kubernetes providers, as the program has one per cluster, the Kubernetes resources spread
over them (none: the default providers only)."""
import pulumi

TYPES = {types!r}
config = pulumi.Config()
count, providers = config.require_int("count"), config.get_int("providers") or 0
kubeconfig = {{"kubeconfig": config.require("kubeconfig")}}
clusters = [pulumi.ProviderResource("kubernetes", f"cluster-{{j:03}}", kubeconfig) for j in range(providers)]
for i in range(count - providers):
    type_, name = TYPES[i % len(TYPES)], f"floor-{{i:04}}"
    on_cluster = type_.startswith("kubernetes:")
    props = {{"metadata": {{"name": name}}}} if on_cluster else {{"name": name}}
    provider = clusters[i % providers] if on_cluster and providers else None
    pulumi.CustomResource(type_, name, props, pulumi.ResourceOptions(provider=provider))
'''
KUBE_SERVER = "https://FLOOR.gr7.eu-west-1.eks.amazonaws.com"
"""The floor's default Kubernetes provider's server (mapped, as each cluster's is, to the local API server)."""


@dataclass(frozen=True)
class Sample:
    """One `pulumi preview`: its wall time, the peak summed RSS of the processes it started, the
    plugin processes it started, and the resources its plan shows (the stack's own excluded)."""

    seconds: float
    peak_rss: int
    plugins: int
    resources: int


@dataclass(frozen=True)
class EngineResult:
    """One count's previews under the real engine, back to back: the program's, the floor's, and the
    floor's with as many explicit Kubernetes providers as the program has (one per cluster)."""

    clusters: int
    program: tuple[Sample, ...]
    floor: tuple[Sample, ...]
    providers: tuple[Sample, ...]

    @property
    def ratio(self) -> float:
        """The program's median preview over the floor's."""
        return median(s.seconds for s in self.program) / median(s.seconds for s in self.floor)

    @property
    def ratio_to_providers(self) -> float:
        """The program's median preview over the floor's with the program's providers: what the
        program costs beyond a plugin process per provider."""
        return median(s.seconds for s in self.program) / median(s.seconds for s in self.providers)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def process_table() -> dict[int, tuple[int, tuple[str, ...]]]:
    """Every process: pid -> (parent pid, arguments)."""
    table: dict[int, tuple[int, tuple[str, ...]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            table[int(entry.name)] = (parent, tuple((entry / "cmdline").read_bytes().decode().split("\0")))
    return table


def is_plugin(argv: Sequence[str]) -> bool:
    """`python -m tests.cli.plugins.<name> ...`: one of the test provider plugins."""
    return any(a == "-m" and b.startswith(PLUGIN_MODULE) for a, b in itertools.pairwise(argv))


def descendants(root: int, table: Mapping[int, tuple[int, tuple[str, ...]]]) -> set[int]:
    """The processes `root` started, and theirs (not `root`)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def resident_bytes(pid: int) -> int:
    """A process's resident set (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples, every `SAMPLE_SECONDS`, the RSS of every process under `root` (the CLI): the language
    host, the program and each provider plugin, summed; keeps the peak and which plugins it saw."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.plugins: set[int] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        table = process_table()
        under = descendants(self.root, table)
        self.plugins |= {pid for pid in under if is_plugin(table[pid][1])}
        self.peak = max(self.peak, sum(resident_bytes(pid) for pid in under))

    def stop(self) -> None:
        self.done.set()
        self.join()


class EngineRunError(RuntimeError):
    """A `pulumi` command of the benchmark failed: its one-line summary and the output's tail."""


SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
"""The marker of a secret value in a deployment (its `plaintext` encrypted on `stack import`)."""


def engine_ref(ref: str) -> str:
    """A fleet stack's name on the file backend: `acme/eks/prod-001` -> `organization/eks/prod-001`."""
    return f"{FILE_BACKEND_ORG}/{ref.split('/', 1)[1]}"


def cluster_deployment(ref: str, stack: OtherStack, salt: str) -> dict[str, Any]:
    """The state of an EKS stack that exports `stack`'s outputs (secrets as secrets, encrypted on
    import with the passphrase and the stack's `salt`), for `stack import`: its stack resource only,
    all a StackReference reads."""
    _, project, name = ref.split("/")
    outputs = {
        key: {**SECRET, "plaintext": json.dumps(value)} if key in stack.secret else value
        for key, value in stack.outputs.items()
    }
    root = {
        "urn": f"urn:pulumi:{name}::{project}::pulumi:pulumi:Stack::{project}-{name}",
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "outputs": outputs,
    }
    deployment = {
        "manifest": {"time": "2026-01-01T00:00:00Z"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": salt}},
        "resources": [root],
    }
    return {"version": 3, "deployment": deployment}


def kube_servers(kube: KubeApiServer, stacks: Mapping[str, OtherStack]) -> dict[str, dict[str, str]]:
    """`GVI_KUBE_CLUSTERS`: each cluster's kubeconfig server, and the floor's, on the local API server."""
    servers = {
        other.outputs["kubeconfig"]["clusters"][0]["cluster"]["server"]: other.outputs["oidcIssuerUrl"]
        for other in stacks.values()
    }
    servers[KUBE_SERVER] = EKS_ISSUER_URL
    local = {"url": kube.url, "token": kube.credentials.token, "ca": str(kube.credentials.ca), "region": "eu-west-1"}
    return {server: {**local, "issuer": issuer} for server, issuer in servers.items()}


def run_cli(workspace: Workspace, *args: str, cwd: Path | None = None) -> str:
    """`pulumi <args>`'s output, or EngineRunError."""
    result = workspace.pulumi(*args, cwd=cwd)
    if result.code != 0:
        raise EngineRunError(f"pulumi {' '.join(args[:4])} exited {result.code}: {result.output[-3000:]}")
    return result.stdout


def import_cluster_stacks(workspace: Workspace, stacks: Mapping[str, OtherStack]) -> None:
    """The fleet's EKS stacks on the workspace's backend, each with its outputs (`stack import`)."""
    folder = write_program(workspace.root / "eks", "eks", '"""Never run: its stacks are imported."""\n')
    for ref, other in stacks.items():
        name = engine_ref(ref)
        run_cli(workspace, "stack", "init", name, cwd=folder)
        salt = yaml.safe_load((folder / f"Pulumi.{name.rsplit('/', 1)[1]}.yaml").read_text())["encryptionsalt"]
        state = folder / "state.json"
        state.write_text(json.dumps(cluster_deployment(name, other, salt)))
        run_cli(workspace, "stack", "import", "--file", str(state), "--stack", name, cwd=folder)


def program_stack_config(clusters: int) -> dict[str, Any]:
    """Pulumi.prod.yaml's `config` with `clusters` (each from its EKS stack on the file backend) in
    place of its `clusterStackRef`: the config `stack_for` evaluates under the mocks."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    del config[f"{PROJECT}:clusterStackRef"]
    config[f"{PROJECT}:clusters"] = {
        key: {"clusterStackRef": engine_ref(entry["clusterStackRef"])}
        for key, entry in stack_for(clusters, "prod").config["clusters"].items()
    }
    return config


def program_stack(workspace: Workspace, clusters: int) -> str:
    """`bench-NNN` of the program (`program_stack_config`), its secrets set as docs/deploy.md says."""
    name = f"bench-{clusters:03}"
    workspace.stack_file(name).write_text(yaml.safe_dump({"config": program_stack_config(clusters)}, sort_keys=False))
    run_cli(workspace, "stack", "init", name)
    for key, value in stack_for(clusters, "prod").secrets.items():
        run_cli(workspace, "config", "set", "--secret", key, value, "--stack", name)
    return name


def floor_stack_config(resources: int, providers: int = 0) -> dict[str, str]:
    """The floor's config: `resources` plain resources (its plan then shows as many as the
    program's: default providers are not steps), `providers` of them explicit Kubernetes
    providers, and the default providers' settings."""
    kubeconfig = {
        **EKS_KUBECONFIG,
        "clusters": [{"name": "floor", "cluster": {"server": KUBE_SERVER}}],
        "contexts": [{"name": "floor", "context": {"cluster": "floor", "user": "admin"}}],
        "current-context": "floor",
    }
    return {
        "floor:count": str(resources),
        "floor:providers": str(providers),
        "floor:kubeconfig": json.dumps(kubeconfig),
        "aws:region": "eu-west-1",
        "kubernetes:kubeconfig": json.dumps(kubeconfig),
    }


def floor_stack(workspace: Workspace, name: str, resources: int, providers: int = 0) -> tuple[str, Path]:
    """Stack `name` of the floor program (`floor_stack_config`); the stack and the program's folder."""
    folder = workspace.root / "floor"
    if not folder.is_dir():
        write_program(folder, "floor", FLOOR_PROGRAM.format(types=FLOOR_TYPES))
    (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": floor_stack_config(resources, providers)}))
    run_cli(workspace, "stack", "init", name, cwd=folder)
    return name, folder


def timed_preview(workspace: Workspace, stack: str, cwd: Path) -> Sample:
    """`pulumi preview --json` of `stack`, timed from start to exit, its process tree sampled."""
    argv = ["pulumi", "preview", "--stack", stack, "--json", "--non-interactive", "--color=never"]
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=workspace.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = TreeSampler(process.pid)
    sampler.start()
    out, err = process.communicate(timeout=1800)
    seconds = time.perf_counter() - started
    sampler.stop()
    if process.returncode != 0:
        raise EngineRunError(f"pulumi preview --stack {stack} exited {process.returncode}: {(out + err)[-3000:]!r}")
    types = [step["urn"].split("::")[-2].rsplit("$", 1)[-1] for step in json.loads(out)["steps"]]
    resources = sum(1 for type_ in types if type_ != "pulumi:pulumi:Stack")
    return Sample(seconds, sampler.peak, len(sampler.plugins), resources)


OPERATOR_KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
"""The AWS keys the test plugin for AWS signs with (moto accepts any unless it enforces IAM)."""


def missing_tools() -> str | None:
    """One line naming what `--engine` lacks (the CLI and its host, moto/OpenBao, kube-apiserver), or None."""
    return missing_cli() or missing_engine() or missing_kube()


def bench_engine(counts: Sequence[int], repeat: int, workdir: Path) -> list[EngineResult]:
    """Starts moto, OpenBao and kube-apiserver, imports the largest count's EKS stacks once, then
    previews the program and the floor at each count (always stopping the servers)."""
    fleet = stack_for(max(counts), "prod").cluster_stacks
    for folder in ("engines", "kube", "project"):
        (workdir / folder).mkdir()
    with start_engines(workdir / "engines") as engines, start_kube(workdir / "kube") as kube:
        env = Account(engines, kube, OPERATOR_KEYS, {}).env()
        env["GVI_KUBE_CLUSTERS"] = json.dumps(kube_servers(kube, fleet))
        workspace = Workspace.create(workdir / "project", env)
        import_cluster_stacks(workspace, fleet)
        return [engine_count(workspace, n, repeat) for n in counts]


def engine_count(workspace: Workspace, clusters: int, repeat: int) -> EngineResult:
    """The program's, the floor's and the floor's with the program's providers previews at
    `clusters`, back to back `repeat` times, after one unreported preview of each (it writes the
    copy's bytecode, and gives the floors their count)."""
    print(f"bench_scale: --engine: {clusters} cluster(s), {repeat} run(s) of each", file=sys.stderr, flush=True)
    program = (program_stack(workspace, clusters), workspace.root)
    resources = timed_preview(workspace, *program).resources
    floor = floor_stack(workspace, f"floor-{clusters:03}", resources)
    providers = floor_stack(workspace, f"providers-{clusters:03}", resources, providers=clusters)
    for stack, folder in (floor, providers):
        timed_preview(workspace, stack, folder)
    runs = [[timed_preview(workspace, *run) for run in (program, floor, providers)] for _ in range(repeat)]
    planned = {sample.resources for run in runs for sample in run}
    if planned != {resources}:
        raise EngineRunError(f"{clusters} clusters: the plans show {sorted(planned)} resources, not all {resources}")
    return EngineResult(clusters, *(tuple(samples) for samples in zip(*runs, strict=True)))


def spread(samples: Sequence[Sample]) -> str:
    """`2.41 s (2.30-2.55)`: the median and the range of the samples' seconds."""
    seconds = [s.seconds for s in samples]
    return f"{median(seconds):5.1f} s ({min(seconds):.1f}-{max(seconds):.1f})"


def engine_report(results: Sequence[EngineResult]) -> str:
    """Per count: the previews' times (median, range), the program's ratios to the floors, the plugin
    processes each started and the peak summed RSS of everything the CLI started."""
    lines = [
        "under the engine (pulumi preview, the test plugins), back to back: the program; the floor (as many",
        "plain resources, flat, on default providers); the floor with the program's providers (one per cluster)",
        "clusters  resources  program             floor               floor+providers     ratio  ratio+p"
        "  plugins        peak RSS",
        "--------  ---------  ------------------  ------------------  ------------------  -----  -------"
        "  -------------  ------------------",
    ]
    for r in results:
        runs = (r.program, r.floor, r.providers)
        plugins = " / ".join(str(samples[0].plugins) for samples in runs)
        memory = " / ".join(f"{max(s.peak_rss for s in samples) / MB:.0f}" for samples in runs)
        lines.append(
            f"{r.clusters:>8}  {r.program[0].resources:>9}  {spread(r.program):<18}  {spread(r.floor):<18}  "
            f"{spread(r.providers):<18}  {r.ratio:4.1f}x  {r.ratio_to_providers:6.1f}x  {plugins:<13}  {memory} MB"
        )
    lines.append("(median (min-max) of the runs; ratio: program / floor, ratio+p: program / floor+providers;")
    lines.append(" plugins and peak RSS: program / floor / floor+providers, peak RSS summing the language host,")
    lines.append(" the program and every provider plugin process, sampled every 0.2 s)")
    return "\n".join(lines)


MB = 1024 * 1024


def count(text: str) -> int:
    """A cluster count: at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"a stack serves at least 1 cluster (got {value})")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the counts, runs them, prints the report(s); 2 when the program refuses a count or
    `--engine` lacks a tool or a command of it fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clusters", type=count, nargs="+", default=list(COUNTS), help="cluster counts")
    parser.add_argument("--repeat", type=int, default=5, help="evaluations per count (the fastest is shown)")
    parser.add_argument("--stacks", nargs="+", choices=STACKS, default=list(STACKS), help="stack files to evaluate")
    parser.add_argument(
        "--engine", action="store_true", help="also preview prod and the floor under the real CLI and engine"
    )
    parser.add_argument(
        "--engine-repeat", type=int, default=ENGINE_REPEAT, help="previews of each per count (median and range shown)"
    )
    args = parser.parse_args(argv)
    code = under_mocks(args.clusters, max(1, args.repeat), args.stacks)
    if code == 0 and args.engine:
        code = under_engine(args.clusters, max(1, args.engine_repeat))
    return code


def under_mocks(counts: Sequence[int], repeat: int, stacks: Sequence[str]) -> int:
    """The evaluations under Pulumi's mocks, printed; 2 when the program refuses a count."""
    results: list[Result] = []
    skipped: dict[str, tuple[list[int], str]] = {}
    try:
        for stack in stacks:
            for n in counts:
                try:
                    results.append(bench(n, repeat, stack))
                except SingleCluster as single:
                    skipped.setdefault(stack, ([], str(single)))[0].append(n)
                except ConfigError as refused:  # more clusters than Vault's grant can name
                    print(f"bench_scale: {stack}, {n} clusters: {refused}", file=sys.stderr)
                    return 2
    finally:
        remove_program_tempdir()
    print(report(results, skipped))
    return 0


def under_engine(counts: Sequence[int], repeat: int) -> int:
    """The previews under the real engine, printed; 2, with one line, when a tool is missing or a
    command fails."""
    missing = missing_tools()
    if missing:
        print(f"bench_scale: --engine: {missing}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as workdir:
        try:
            results = bench_engine(counts, repeat, Path(workdir))
        except EngineRunError as failed:
            print(f"bench_scale: --engine: {failed}", file=sys.stderr)
            return 2
    print()
    print(engine_report(results))
    return 0


if __name__ == "__main__":
    workers_own_their_loops()
    sys.exit(main())

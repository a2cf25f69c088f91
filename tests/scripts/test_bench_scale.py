"""scripts/bench_scale.py: its critical path on graphs whose answer is known, the counts it skips or
the program refuses, how the graph grows with clusters (a critical path that stays as long, the
same resources per cluster, no cluster waiting for another's), and the README's figures (counts
and lengths, not times: those vary). Small counts (1 to 3), and nothing timed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml

from tests.cli.workspace import write_program
from tests.harness import ROOT, VARIANTS, ProgramRun, Registered, load_script, run_program

bench_scale = load_script("bench_scale")


def node(name: str, deps: tuple[str, ...] = (), *, custom: bool = True, provider: str = "") -> Registered:
    return Registered(
        type=f"test:index:{name.title()}",
        name=name,
        urn=f"urn:{name}",
        parent="",
        provider=f"urn:{provider}::id" if provider else "",
        custom=custom,
        raw_inputs={},
        dependencies=[f"urn:{d}" for d in deps],
        property_dependencies={},
    )


def names(run: ProgramRun) -> list[str]:
    return [res.name for res in bench_scale.critical_path(run)]


def test_the_longest_chain_wins_over_a_short_parallel_one() -> None:
    run = ProgramRun(
        [node("a"), node("b", ("a",)), node("c", ("b",)), node("x"), node("y", ("x",))],
        outputs={},
        secret_outputs=set(),
    )
    assert names(run) == ["a", "b", "c"]


def test_a_resource_waits_for_its_provider_and_components_add_nothing() -> None:
    run = ProgramRun(
        [node("p"), node("comp", ("p",), custom=False), node("r", ("comp",)), node("s", provider="r")],
        outputs={},
        secret_outputs=set(),
    )
    assert names(run) == ["p", "r", "s"]


def test_a_read_is_part_of_the_graph() -> None:
    run = ProgramRun([node("provider", ("ref",))], outputs={}, secret_outputs=set(), reads=[node("ref")])
    assert names(run) == ["ref", "provider"]


def test_dev_runs_at_one_cluster_and_says_in_one_line_which_counts_it_skips(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The script removes the programs' temp directory when it ends; the test session still uses it.
    monkeypatch.setattr(bench_scale, "remove_program_tempdir", lambda: None)
    assert bench_scale.main(["--clusters", "1", "2", "3", "--repeat", "1", "--stacks", "dev"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^dev +1 +25 ", out, re.MULTILINE)
    [skipped] = [line for line in out.splitlines() if "skipped" in line]
    assert skipped.startswith("dev: skipped 2, 3 clusters: its in-cluster dev Vault lives in its one cluster")


def test_more_clusters_than_vaults_grant_can_name_stop_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_scale, "remove_program_tempdir", lambda: None)
    assert bench_scale.main(["--clusters", "160", "--repeat", "1", "--stacks", "prod"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench_scale: prod, 160 clusters:") and "fewer clusters" in err and "\n" not in err


# ---------------------------------------------------------------------------- several clusters (prod)

COUNTS = (1, 2, 3)


@pytest.fixture(scope="module")
def fleet() -> dict[int, ProgramRun]:
    """`prod` serving 1, 2 and 3 clusters, each from its own EKS stack, as the script evaluates it."""
    return {n: bench_scale.evaluate(bench_scale.stack_for(n, "prod"))[0] for n in COUNTS}


def cluster_keys(run: ProgramRun) -> list[str]:
    return list(run.outputs["clusters"])


def owner(res: Registered, keys: list[str]) -> str | None:
    """The cluster a resource is for (its name carries the cluster's key); None: shared by all."""
    owners = [k for k in keys if res.name.startswith(f"{k}-") or res.name.endswith(f"-{k}")]
    assert len(owners) <= 1, f"{res.name} names {owners}"
    return owners[0] if owners else None


def graph(run: ProgramRun) -> dict[str, Registered]:
    return {res.urn: res for res in [*run.resources, *run.reads]}


def kinds(path: list[Registered]) -> list[str]:
    return [res.type for res in path]


def test_the_critical_path_does_not_grow_with_the_cluster_count(fleet: dict[int, ProgramRun]) -> None:
    paths = {n: bench_scale.critical_path(run) for n, run in fleet.items()}
    assert len({len(path) for path in paths.values()}) == 1
    # The same chain each time (the last cluster's, where all are as long): only the names differ.
    assert all(kinds(path) == kinds(paths[1]) for path in paths.values())


def test_resources_grow_by_the_same_count_per_cluster(fleet: dict[int, ProgramRun]) -> None:
    counts = {n: len(graph(run)) for n, run in fleet.items()}
    per_cluster = counts[2] - counts[1]
    shared = counts[1] - per_cluster
    assert all(counts[n] == shared + n * per_cluster for n in COUNTS)
    run = fleet[3]
    owners = [owner(res, cluster_keys(run)) for res in graph(run).values()]
    assert owners.count(None) == shared
    assert all(owners.count(key) == per_cluster for key in cluster_keys(run))


def test_each_clusters_chain_waits_for_no_other_clusters_resources(fleet: dict[int, ProgramRun]) -> None:
    run = fleet[3]
    keys, nodes = cluster_keys(run), graph(run)
    crossing = [
        f"{res.name} -> {nodes[urn].name}"
        for res in nodes.values()
        if (mine := owner(res, keys)) is not None
        for urn in bench_scale.waits_for(res, nodes)
        if owner(nodes[urn], keys) not in (mine, None)
    ]
    assert crossing == []


def test_a_shared_resource_waits_for_every_cluster_only_where_it_must(fleet: dict[int, ProgramRun]) -> None:
    """The providers wait for every cluster stack's outputs to be there (no provider starts while a
    stack lacks one: components/config/cluster_stack.py), and Vault's iam:GetRole grant names every Gloo
    role; nothing else shared waits for a cluster, so no cluster waits for another through it.
    Production's destroy guard waits for everything, and nothing waits for it."""
    run = fleet[3]
    keys, nodes = cluster_keys(run), graph(run)
    guard = "gloo-vault-irsa:stack:DestroyGuard"
    assert not any(nodes[urn].type == guard for res in nodes.values() for urn in bench_scale.waits_for(res, nodes))
    waits = {
        (res.type, nodes[urn].type)
        for res in nodes.values()
        if owner(res, keys) is None and res.type != guard
        for urn in bench_scale.waits_for(res, nodes)
        if owner(nodes[urn], keys) is not None
    }
    assert waits == {
        ("pulumi:providers:aws", "pulumi:pulumi:StackReference"),
        ("pulumi:providers:vault", "pulumi:pulumi:StackReference"),
        ("aws:iam/rolePolicy:RolePolicy", "aws:iam/role:Role"),
    }


def test_each_cluster_is_read_from_its_own_stack(fleet: dict[int, ProgramRun]) -> None:
    clusters = fleet[3].outputs["clusters"]
    assert {key: c["clusterName"] for key, c in clusters.items()} == {
        "prod-001": "edge-prod-001",
        "prod-002": "edge-prod-002",
        "prod-003": "edge-prod-003",
    }
    assert len({c["oidcProviderArn"] for c in clusters.values()}) == 3
    kubeconfigs = {
        res.name.removesuffix("-cluster"): json.loads(res.inputs["kubeconfig"])["current-context"]
        for res in fleet[3].of_type("pulumi:providers:kubernetes")
    }
    assert kubeconfigs == {key: f"admin@edge-{key}" for key in clusters}


def test_one_cluster_in_clusters_is_the_stack_file_as_it_is(fleet: dict[int, ProgramRun]) -> None:
    config, secrets = VARIANTS["prod"]
    as_it_is = run_program(config, secrets=secrets, stack="prod")
    assert len(graph(as_it_is)) == len(graph(fleet[1]))
    assert kinds(bench_scale.critical_path(as_it_is)) == kinds(bench_scale.critical_path(fleet[1]))


# ---------------------------------------------------------------------------- the README's figures


def readme_rows(stack: str) -> dict[int, tuple[int, int]]:
    """The README's Scale table for `stack`: clusters -> (resources, critical path length)."""
    readme = (ROOT / "docs" / "clusters.md").read_text()
    rows = re.findall(rf"^\| `{stack}` \| (\d+) \| (\d+) \| [^|]+ \| [^|]+ \| (\d+) \|", readme, re.MULTILINE)
    return {int(n): (int(resources), int(path)) for n, resources, path in rows}


def test_the_readme_gives_devs_figures() -> None:
    result = bench_scale.bench(1, 1, "dev")
    # Gloo, last to wait, waits for everything before it; then the login check, on in dev.
    assert result.path[-2:] == ("Release gloo", "Job gloo-login-check")
    assert readme_rows("dev") == {1: (result.resources, len(result.path))}


def test_the_readme_gives_prods_figures(fleet: dict[int, ProgramRun]) -> None:
    counts = {n: len(graph(run)) for n, run in fleet.items()}
    per_cluster, path = counts[2] - counts[1], len(bench_scale.critical_path(fleet[1]))
    assert bench_scale.critical_path(fleet[1])[-1].type == "kubernetes:helm.sh/v3:Release"
    assert readme_rows("prod") == {n: (counts[1] + (n - 1) * per_cluster, path) for n in bench_scale.COUNTS}


# ---------------------------------------------------------------------------- under the real engine


def test_the_engines_prod_stack_is_the_stack_file_with_each_cluster_from_its_own_stack() -> None:
    config = bench_scale.program_stack_config(3)
    committed = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert {k: v for k, v in config.items() if k != "gloo-vault-irsa:clusters"} == {
        k: v for k, v in committed.items() if k != "gloo-vault-irsa:clusterStackRef"
    }
    assert config["gloo-vault-irsa:clusters"] == {
        f"prod-00{i}": {"clusterStackRef": f"organization/eks/prod-00{i}"} for i in (1, 2, 3)
    }


def test_each_clusters_stack_state_exports_what_the_mocks_answer_its_kubeconfig_secret() -> None:
    [(ref, stack)] = bench_scale.stack_for(1, "prod").cluster_stacks.items()
    state = bench_scale.cluster_deployment(bench_scale.engine_ref(ref), stack, "v1:salt")
    [root] = state["deployment"]["resources"]
    assert root["urn"] == "urn:pulumi:prod-001::eks::pulumi:pulumi:Stack::eks-prod-001"
    outputs = root["outputs"]
    secret = outputs.pop("kubeconfig")
    assert json.loads(secret.pop("plaintext")) == stack.outputs["kubeconfig"] and secret == bench_scale.SECRET
    assert outputs == {k: v for k, v in stack.outputs.items() if k != "kubeconfig"}
    assert state["deployment"]["secrets_providers"] == {"type": "passphrase", "state": {"salt": "v1:salt"}}


@pytest.mark.parametrize("providers", [0, 2])
def test_the_floor_registers_as_many_plain_resources_through_each_plugin(providers: int) -> None:
    """`count` resources in all, flat; with `providers`, that many explicit Kubernetes providers
    carry the Kubernetes resources between them, as each cluster's provider does in the program."""
    folder = ROOT / ".cache" / f"bench-floor-test-{providers}"
    program = write_program(folder, "floor", bench_scale.FLOOR_PROGRAM.format(types=bench_scale.FLOOR_TYPES))
    config = {
        k.split(":", 1)[1]: v for k, v in bench_scale.floor_stack_config(11, providers).items() if k[:6] == "floor:"
    }
    try:
        run = run_program(config, secrets={}, stack="floor-001", program=program / "__main__.py", project="floor")
    finally:
        shutil.rmtree(folder)
    assert len(run.resources) == 11
    explicit = run.of_type("pulumi:providers:kubernetes")
    assert len(explicit) == providers
    plain = [res for res in run.resources if res not in explicit]
    assert sorted({res.type for res in plain}) == sorted(bench_scale.FLOOR_TYPES)
    assert all(not res.dependencies and res.custom for res in plain)
    on_explicit = {res.provider.rsplit("::", 1)[0] for res in plain if res.provider}
    assert on_explicit == {res.urn for res in explicit}
    assert all(res.type.startswith("kubernetes:") for res in plain if res.provider)


def test_the_sampler_sums_every_process_under_the_cli_and_counts_the_plugins() -> None:
    """A stand-in CLI (not counted) starts a "plugin" (its command line names the plugins' module),
    which starts a child of its own: both are summed, one is a plugin."""
    grandchild = "import time; time.sleep(5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    plugin = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}, '-m', 'tests.cli.plugins.aws'])"
    cli = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {plugin!r}])"]
    )
    try:
        sampler = bench_scale.TreeSampler(cli.pid)
        deadline = time.monotonic() + 10
        while len(bench_scale.descendants(cli.pid, bench_scale.process_table())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sampler.sample()
        under = bench_scale.descendants(cli.pid, bench_scale.process_table())
    finally:
        cli.kill()
    assert len(under) == 3 and cli.pid not in under
    assert len(sampler.plugins) == 1
    assert sampler.peak == pytest.approx(sum(bench_scale.resident_bytes(pid) for pid in under), rel=0.5)
    assert sampler.peak > 3 * 1024 * 1024


def test_the_ratios_are_of_the_medians_and_the_report_shows_each_count() -> None:
    mb = bench_scale.MB

    def samples(*seconds: float, rss: int, plugins: int) -> tuple[Any, ...]:
        return tuple(bench_scale.Sample(s, rss * mb, plugins, 90) for s in seconds)

    result = bench_scale.EngineResult(
        10,
        samples(9, 6, 30, rss=800, plugins=12),
        samples(2, 3, 4, rss=280, plugins=3),
        samples(5, 6, 8, rss=790, plugins=12),
    )
    assert (result.ratio, result.ratio_to_providers) == (3.0, 1.5)
    [row] = [line for line in bench_scale.engine_report([result]).splitlines() if line.lstrip().startswith("10 ")]
    figures = "10 90 9.0 s (6.0-30.0) 3.0 s (2.0-4.0) 6.0 s (5.0-8.0) 3.0x 1.5x 12 / 3 / 12 800 / 280 / 790 MB"
    assert row.split() == figures.split()


def test_engine_without_its_tools_says_what_is_missing_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_scale, "remove_program_tempdir", lambda: None)
    monkeypatch.setattr(bench_scale, "missing_tools", lambda: "the Pulumi CLI and its Python host are missing")
    assert bench_scale.main(["--clusters", "1", "--repeat", "1", "--stacks", "prod", "--engine"]) == 2
    assert capsys.readouterr().err == "bench_scale: --engine: the Pulumi CLI and its Python host are missing\n"


@pytest.mark.engines
@pytest.mark.cli
def test_engine_previews_prod_and_the_floor_at_one_cluster(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script runs end to end under the real CLI (figures not checked: they vary): the plan has
    the resources the mocks register (the script stops unless both floors' plans have as many), each
    through its plugins."""
    from tests.engines.conftest import engine_missing

    missing = bench_scale.missing_tools()
    if missing:
        engine_missing(missing)
    monkeypatch.setattr(bench_scale, "remove_program_tempdir", lambda: None)
    args = ["--clusters", "1", "--repeat", "1", "--stacks", "prod", "--engine", "--engine-repeat", "1"]
    assert bench_scale.main(args) == 0
    out = capsys.readouterr().out
    [row] = [line.split() for line in out.splitlines() if re.match(r" +1 +\d+ +\d", line)]
    assert row[1] == str(bench_scale.bench(1, 1, "prod").resources)
    # aws, vault and the cluster's kubernetes provider; the floor's three default providers; the
    # floor's aws and vault default providers and its one explicit kubernetes provider
    assert row[13:18] == ["3", "/", "3", "/", "3"]


def readme_engine_rows() -> dict[int, set[tuple[int, int, int, int]]]:
    """The README's table under the real engine: clusters -> {(resources, plugin processes of the
    program, of the floor, of the floor with providers)}, one per run."""
    readme = (ROOT / "docs" / "clusters.md").read_text()
    rows = re.findall(r"^\| (\d+) \| \d \| (\d+) \| .*\| (\d+) / (\d+) / (\d+) \| [^|]+ \|$", readme, re.MULTILINE)
    found: dict[int, set[tuple[int, int, int, int]]] = {}
    for n, resources, program, floor, providers in rows:
        found.setdefault(int(n), set()).add((int(resources), int(program), int(floor), int(providers)))
    return found


def test_the_readmes_engine_figures_are_the_programs_resources_and_a_plugin_per_provider(
    fleet: dict[int, ProgramRun],
) -> None:
    """The README's counts under the engine agree with the program: its resources, and a plugin
    process per explicit provider (aws, vault, each cluster's kubernetes); the floor starts the
    three default providers' plugins, the floor with providers one Kubernetes plugin per cluster."""
    counts = {n: len(graph(run)) for n, run in fleet.items()}
    providers = {
        n: len([r for r in run.resources if r.type.startswith("pulumi:providers:")]) for n, run in fleet.items()
    }
    per_cluster, per_provider = counts[2] - counts[1], providers[2] - providers[1]
    expected = {
        n: {(counts[1] + (n - 1) * per_cluster, providers[1] + (n - 1) * per_provider, 3, 2 + n)}
        for n in bench_scale.COUNTS
    }
    assert readme_engine_rows() == expected

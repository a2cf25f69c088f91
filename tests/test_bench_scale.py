"""scripts/bench_scale.py: its critical path on graphs whose answer is known, its refusal of counts
the program cannot take yet, and the README's figures (lengths, not times: those vary)."""

from __future__ import annotations

import re

import pytest

from tests.harness import ROOT, ProgramRun, Registered, load_script

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


def test_counts_the_program_cannot_take_yet_stop_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The script removes the programs' temp directory when it ends; the test session still uses it.
    monkeypatch.setattr(bench_scale, "remove_program_tempdir", lambda: None)
    assert bench_scale.main(["--clusters", "10", "--repeat", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench_scale: 10 clusters:") and "\n" not in err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_readme_gives_the_scripts_critical_path(stack: str) -> None:
    result = bench_scale.bench(1, 1, stack)
    # Gloo, last to wait, waits for everything before it; then the login check, where it runs (dev).
    last = ("Release gloo", "Job gloo-login-check") if stack == "dev" else ("Release gloo",)
    assert result.path[-len(last) :] == last
    readme = (ROOT / "README.md").read_text()
    [row] = re.findall(rf"^\| `{stack}` \| 1 \| (\d+) \| [^|]+ \| (\d+) \|", readme, re.MULTILINE)
    assert (int(row[0]), int(row[1])) == (result.resources, len(result.path))

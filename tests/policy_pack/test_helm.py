"""`helm-chart-version-pinned` and `helm-releases-unique` (guardrails/helm.py)."""

from __future__ import annotations

import pytest

import guardrails
from guardrails import StackResource
from tests.harness import FLEET, ProgramRun
from tests.policy_pack.engine import DEV, only, pack_violations, real, stack_resources


@pytest.mark.parametrize("release", ["gloo", "vault"])
@pytest.mark.parametrize("version", ["^1.15", "~1.15.0", ">=1.15.0", "1.15.x", "*", "1.15", "latest", "1.15.19 - 1.16"])
def test_a_chart_version_range_is_refused(run: ProgramRun, release: str, version: str) -> None:
    chart = real(run, guardrails.HELM_RELEASE, release)
    assert guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV) == []
    chart["version"] = version
    only(guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV), f"version {version!r} is not exact")


@pytest.mark.parametrize("missing", [None, ""])
def test_an_unpinned_chart_is_refused(run: ProgramRun, missing: str | None) -> None:
    chart = real(run, guardrails.HELM_RELEASE, "gloo")
    chart.pop("version")
    if missing is not None:
        chart["version"] = missing
    only(guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV), "Helm chart gloo: set version")


@pytest.mark.parametrize("version", ["1.15.19", "v1.17.0", "1.18.0-beta1", "0.29.1+build.5"])
def test_exact_chart_versions_pass(run: ProgramRun, version: str) -> None:
    chart = real(run, guardrails.HELM_RELEASE, "gloo")
    chart["version"] = version
    assert guardrails.check_chart_pinned("kubernetes:helm.sh/v4:Chart", chart, DEV) == []


# ---------------------------------------------------------------------------- helm-releases-unique


@pytest.mark.parametrize("release", ["gloo", "vault"])
def test_two_releases_of_one_name_in_one_namespace_are_refused(run: ProgramRun, release: str) -> None:
    """Helm keeps one release per namespace and name in a cluster: the second install there
    replaces the first. The twin is on the original's Kubernetes provider (the same cluster)."""
    resources = stack_resources(run)
    original = next(r for r in resources if r.type == guardrails.HELM_RELEASE and r.name == release)
    twin = original._replace(name=f"{release}-again", props={**original.props, "chart": "other", "values": {}})
    assert twin.provider is not None and twin.provider == original.provider
    only(
        pack_violations([*resources, twin], DEV),
        f"are both {original.props['name']!r} in namespace {original.props['namespace']!r}",
    )
    elsewhere = twin._replace(props={**twin.props, "namespace": "elsewhere"})
    assert pack_violations([*resources, elsewhere], DEV) == []


def fleet_releases(resources: list[StackResource]) -> dict[str, StackResource]:
    """The Helm releases of the `clusters` stack, by resource name (`<cluster>-gloo`)."""
    return {r.name: r for r in resources if r.type == guardrails.HELM_RELEASE}


def test_one_release_name_on_each_of_several_clusters_passes(runs: dict[str, ProgramRun]) -> None:
    """`clusters` installs Gloo as `gloo` in `gloo-system` on every cluster, each release on its
    cluster's own Kubernetes provider: one release per namespace and name in each cluster."""
    resources = stack_resources(runs["clusters"])
    releases = fleet_releases(resources)
    assert sorted(releases) == sorted(f"{key}-gloo" for key in FLEET)
    assert {(r.props["name"], r.props["namespace"]) for r in releases.values()} == {("gloo", "gloo-system")}
    assert len({r.provider for r in releases.values()}) == len(FLEET)
    assert guardrails.check_unique_releases(resources, DEV) == []


def test_two_releases_of_one_name_on_one_cluster_of_several_are_refused(runs: dict[str, ProgramRun]) -> None:
    """The broken twin of the fleet: east-b's release moved onto east-a's Kubernetes provider
    would replace east-a's Gloo."""
    resources = stack_resources(runs["clusters"])
    east_a = fleet_releases(resources)["east-a-gloo"]
    moved = [
        r._replace(provider=east_a.provider) if r.type == guardrails.HELM_RELEASE and r.name == "east-b-gloo" else r
        for r in resources
    ]
    only(
        pack_violations(moved, DEV),
        "Helm releases 'east-a-gloo' and 'east-b-gloo' are both 'gloo' in namespace 'gloo-system' on one cluster",
    )

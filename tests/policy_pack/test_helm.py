"""`helm-chart-version-pinned` and `helm-releases-unique` (guardrails/helm.py)."""

from __future__ import annotations

import pytest

import guardrails
from guardrails import StackResource
from tests.harness import ProgramRun
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


# ---------------------------------------------------------------------------- helm-releases-unique (issue 11 #8)


@pytest.mark.parametrize("release", ["gloo", "vault"])
def test_two_releases_of_one_name_in_one_namespace_are_refused(run: ProgramRun, release: str) -> None:
    """Helm keeps one release per namespace and name: the second install replaces the first."""
    resources = stack_resources(run)
    original = next(r for r in resources if r.type == guardrails.HELM_RELEASE and r.name == release)
    twin = StackResource(original.type, f"{release}-again", {**original.props, "chart": "other", "values": {}})
    only(
        pack_violations([*resources, twin], DEV),
        f"are both {original.props['name']!r} in namespace {original.props['namespace']!r}",
    )
    elsewhere = StackResource(twin.type, twin.name, {**twin.props, "namespace": "elsewhere"})
    assert pack_violations([*resources, elsewhere], DEV) == []

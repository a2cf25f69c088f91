"""The output contract other stacks read (README, "Stack outputs"): its names, types and secrecy,
as every variant exports them."""

from __future__ import annotations

import re

import pytest

from tests.harness import ROOT, VARIANTS, ProgramRun

README_ROW = re.compile(
    r"^\| `(?P<name>\w+)` \| (?P<type>\w+) \| (?P<secret>yes|no) \| (?P<scope>\*(?:also )?each cluster\*)?",
    re.MULTILINE,
)
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
}
OPTIONAL = {"vaultCaCert"}
"""Outputs that may be empty (the README says what empty means)."""


def _rows() -> list[re.Match[str]]:
    readme = (ROOT / "docs" / "outputs.md").read_text()
    section = readme[readme.index("## Stack outputs") : readme.index("## A consumer")]
    return list(README_ROW.finditer(section))


def documented() -> dict[str, tuple[str, bool]]:
    """The README's contract table: output → (type, secret)."""
    return {m["name"]: (m["type"], m["secret"] == "yes") for m in _rows()}


def per_cluster() -> tuple[set[str], set[str]]:
    """(outputs only per cluster, at the top too with one cluster; outputs also per cluster)."""
    rows = _rows()
    return {m["name"] for m in rows if m["scope"] == "*each cluster*"}, {
        m["name"] for m in rows if m["scope"] == "*also each cluster*"
    }


def top_level(variant: str) -> set[str]:
    """The outputs documented at the top level of a variant's stack: per-cluster ones only for one cluster."""
    only_each, _ = per_cluster()
    several = "clusters" in VARIANTS[variant][0]
    return set(documented()) - (only_each if several else set())


def test_the_readme_documents_a_contract() -> None:
    contract = documented()
    assert len(contract) >= 20 and {"glooRoleArn", "glooRootKey", "vaultKvPath"} <= set(contract)
    assert {t for t, _ in contract.values()} <= set(PYTHON_TYPES)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_exactly_the_documented_outputs(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    assert set(run.outputs) == top_level(variant)
    only_each, also_each = per_cluster()
    assert run.outputs["clusters"] and all(set(c) == only_each | also_each for c in run.outputs["clusters"].values())
    if "clusters" not in VARIANTS[variant][0]:
        [single] = run.outputs["clusters"].values()
        assert run.outputs["clusters"] == {"default": single}
        assert {name: run.outputs[name] for name in single} == single


def test_the_per_cluster_rows_are_marked() -> None:
    only_each, also_each = per_cluster()
    assert {"clusterName", "glooRoleArn", "vaultRoleName", "loginCheck"} <= only_each
    assert {"glooNamespace", "glooReleaseName"} <= also_each
    assert not (only_each & also_each) and "clusters" in documented()


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_output_has_its_documented_type_and_secrecy(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    contract = documented()
    for name in top_level(variant):
        kind, secret = contract[name]
        value = run.outputs[name]
        assert isinstance(value, PYTHON_TYPES[kind]), (name, value)
        assert (name in run.secret_outputs) is secret, name
        assert value != "" or name in OPTIONAL, name
    for cluster in run.outputs["clusters"].values():
        for name, value in cluster.items():
            assert isinstance(value, PYTHON_TYPES[contract[name][0]]) and value != "", (name, value)


def test_optional_outputs_are_set_where_their_config_is(runs: dict[str, ProgramRun]) -> None:
    assert runs["prod"].outputs["vaultCaCert"].startswith("-----BEGIN CERTIFICATE-----")
    assert runs["dev"].outputs["vaultCaCert"] == ""

"""The output contract other stacks read (README, "Stack outputs"): its names, types and secrecy,
as every variant exports them."""

from __future__ import annotations

import re

import pytest

from tests.harness import ROOT, VARIANTS, ProgramRun

README_ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<type>\w+) \| (?P<secret>yes|no) \| ", re.MULTILINE)
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
}
OPTIONAL = {"vaultCaCert"}
"""Outputs that may be empty (the README says what empty means)."""


def documented() -> dict[str, tuple[str, bool]]:
    """The README's contract table: output → (type, secret)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Stack outputs") : readme.index("## Tests\n")]
    return {m["name"]: (m["type"], m["secret"] == "yes") for m in README_ROW.finditer(section)}


def test_the_readme_documents_a_contract() -> None:
    contract = documented()
    assert len(contract) >= 20 and {"glooRoleArn", "glooRootKey", "vaultKvPath"} <= set(contract)
    assert {t for t, _ in contract.values()} <= set(PYTHON_TYPES)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_exactly_the_documented_outputs(runs: dict[str, ProgramRun], variant: str) -> None:
    assert set(runs[variant].outputs) == set(documented())


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_output_has_its_documented_type_and_secrecy(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    for name, (kind, secret) in documented().items():
        value = run.outputs[name]
        assert isinstance(value, PYTHON_TYPES[kind]), (name, value)
        assert (name in run.secret_outputs) is secret, name
        assert value != "" or name in OPTIONAL, name


def test_optional_outputs_are_set_where_their_config_is(runs: dict[str, ProgramRun]) -> None:
    assert runs["prod"].outputs["vaultCaCert"].startswith("-----BEGIN CERTIFICATE-----")
    assert runs["dev"].outputs["vaultCaCert"] == ""

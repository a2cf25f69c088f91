"""The package's component (components/gloo_vault_irsa.py, package/): its inputs are the config
keys, its outputs a one-cluster stack's, every one described; it registers what the program
registers for the same config, under itself; bad inputs stop it as bad config stops the program."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import util
from pathlib import Path
from typing import Any

import pytest
from pulumi.provider.experimental.util import camel_case

from components.config.checks import ConfigError
from components.config.keys import KEYS, snake_case
from tests.harness import ROOT, assert_names_key, dev_config, run_program, run_program_failure
from tooling import package_schema
from tooling.offline import ProgramRun, Registered

COMPONENT = "gloo-vault-irsa:index:GlooVaultIrsa"
OUTPUT_ROW = r"^\| `(?P<name>\w+)` \| \w+ \| (?:yes|no) \| (?:\*each cluster\*: )?(?P<meaning>.*) \|$"
# How the AWS provider holds its default tags (a JSON string), for `awsDefaultTags: {team: edge}`.
DEFAULT_TAGS_INPUT = json.dumps({"tags": {"team": "edge"}})

PROGRAM = """\
import json

import pulumi

from components.gloo_vault_irsa import GlooVaultIrsa

args = json.loads({args!r})
args["vault_token"] = pulumi.Config("gloo-vault-irsa").require_secret("vaultToken")
chain = GlooVaultIrsa("gloo-vault-irsa", args)
for name in {outputs!r}:
    pulumi.export(name, getattr(chain, name))
"""


def component_schema() -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(package_schema.SCHEMA.read_text())["resources"][COMPONENT]
    return resource


def run_component(tmp_path: Path, args: dict[str, Any], *, preview: bool = False) -> ProgramRun:
    """A Python program that creates the component with `args` (its Python names), under mocks."""
    outputs = sorted(snake_case(name) for name in component_schema()["properties"])
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM.format(args=json.dumps(args), outputs=outputs))
    return run_program(program=program, preview=preview)


def dev_args() -> dict[str, Any]:
    """`Pulumi.dev.yaml` as the component's inputs."""
    return {snake_case(key): value for key, value in dev_config().items()}


# ---------------------------------------------------------------------------- the generated files


def test_the_args_module_is_generated_from_keys() -> None:
    """Run `.venv/bin/python -m tooling.package_schema` after changing KEYS."""
    assert package_schema.ARGS_MODULE.read_text() == package_schema.render_args_module()


def test_the_committed_schema_is_the_one_the_package_serves() -> None:
    """Run `.venv/bin/python -m tooling.package_schema` after changing the component."""
    assert package_schema.SCHEMA.read_text() == package_schema.render_schema()


def test_every_input_and_output_is_described() -> None:
    resource = component_schema()
    assert resource["description"]
    for kind in ("inputProperties", "properties"):
        assert [name for name, prop in resource[kind].items() if not prop.get("description")] == [], kind


def test_the_inputs_are_the_config_keys_but_clusters() -> None:
    """Named as the keys are, so a stack file's config reads as the component's inputs."""
    inputs = component_schema()["inputProperties"]
    assert set(inputs) == {key.name for key in KEYS} - {"clusters"}
    for key in KEYS:
        if key.name in inputs:
            assert inputs[key.name]["description"].startswith(key.description), key.name


def test_secrets_are_inputs_and_every_other_value_plain() -> None:
    """A plain value is known when the component is constructed, so its check runs before anything
    is registered; a secret may come from another resource's output."""
    inputs = component_schema()["inputProperties"]
    secret = {key.name for key in KEYS if key.secret}
    assert {name for name, prop in inputs.items() if not prop.get("plain")} == secret
    assert component_schema()["requiredInputs"] == ["vaultToken"]


def test_the_outputs_are_a_one_cluster_stacks() -> None:
    assert set(component_schema()["properties"]) == set(run_program().outputs)


def test_each_output_means_what_the_outputs_contract_says() -> None:
    """One meaning per output: the schema's description is docs/outputs.md's row (without its
    *each cluster* mark)."""
    rows = re.finditer(OUTPUT_ROW, (ROOT / "docs" / "outputs.md").read_text(), flags=re.MULTILINE)
    documented = {m["name"]: m["meaning"].rstrip(".") for m in rows}
    for name, prop in component_schema()["properties"].items():
        described = " ".join(prop["description"].split()).rstrip(".")
        assert described == documented[name][0].upper() + documented[name][1:], name


@pytest.mark.parametrize("name", ["glooRoleArn", "iamServerIdHeader", "vaultCaCert", "region"])
def test_names_convert_both_ways(name: str) -> None:
    assert camel_case(snake_case(name)) == name


# ---------------------------------------------------------------------------- the graph it builds


def custom_resources(run: ProgramRun) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.type, r.name): r.inputs for r in run.resources if r.custom}


def test_it_registers_what_the_program_registers_for_the_same_config(tmp_path: Path) -> None:
    """Every custom resource (providers too) with the same type, name and inputs: one graph for the
    program and the package."""
    component = run_component(tmp_path, dev_args())
    program = run_program()
    assert custom_resources(component) == custom_resources(program)
    assert {camel_case(name): value for name, value in component.outputs.items()} == program.outputs


def test_everything_it_registers_is_under_it(tmp_path: Path) -> None:
    """The program's top-level resources are the component's children: one node in the consumer's graph."""
    run = run_component(tmp_path, dev_args())
    [chain] = [r for r in run.resources if r.type == COMPONENT]
    top = [r for r in run.resources if r is not chain and r.parent == chain.parent]
    assert top == []
    assert {r.name for r in run.resources if r.parent == chain.urn} >= {"aws", "cluster", "gloo", "vault-identity"}


def test_a_preview_registers_what_the_update_does(tmp_path: Path) -> None:
    preview = run_component(tmp_path, dev_args(), preview=True)
    assert set(custom_resources(preview)) == set(custom_resources(run_component(tmp_path, dev_args())))


@pytest.mark.parametrize(
    ("key", "value"), [("region", "mars-1"), ("vaultTopology", "cloud"), ("glooChartVersion", "1.14.0")]
)
def test_a_bad_input_stops_it_with_the_config_keys_line_before_anything_is_registered(
    tmp_path: Path, key: str, value: str
) -> None:
    program = tmp_path / "__main__.py"
    args = {**dev_args(), snake_case(key): value}
    outputs = sorted(snake_case(name) for name in component_schema()["properties"])
    program.write_text(PROGRAM.format(args=json.dumps(args), outputs=outputs))
    failed = run_program_failure(program=program)
    assert isinstance(failed.error, ConfigError)
    assert_names_key(failed.error, key)
    assert [r for r in failed.resources if r.custom] == []


def test_typed_inputs_are_read_as_config_text(tmp_path: Path) -> None:
    """Booleans, lists and maps arrive typed from other languages; each key's check reads them as it
    reads the stack file's text."""
    args = {
        **dev_args(),
        "kv_retain_on_delete": False,
        "gloo_service_accounts": ["gloo", "discovery"],
        "aws_default_tags": {"team": "edge"},
    }
    run = run_component(tmp_path, args)
    gloo_role: Registered = run.one("aws:iam/role:Role", "gloo")
    assert "system:serviceaccount:gloo-system:discovery" in json.dumps(gloo_role.inputs["assumeRolePolicy"])
    assert run.one("pulumi:providers:aws").inputs["defaultTags"] == DEFAULT_TAGS_INPUT


# ---------------------------------------------------------------------------- the package's version


def _git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True)


def package_version(repository: Path) -> str:
    """package/__main__.py's `package_version` (the file is run as a script by the CLI, not imported)."""
    spec = util.spec_from_file_location("gvi_package", ROOT / "package" / "__main__.py")
    assert spec is not None and spec.loader is not None
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    version: str = module.package_version(repository)
    return version


def test_the_version_is_the_release_tag_of_the_checkout(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    _git(tmp_path, "add", "f")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")
    assert package_version(tmp_path) == "0.0.0"
    _git(tmp_path, "tag", "v1.4.2")
    assert package_version(tmp_path) == "1.4.2"
    _git(tmp_path, "tag", "nightly")
    assert package_version(tmp_path) == "1.4.2"

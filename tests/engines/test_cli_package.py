"""The component package (package/) as the real CLI serves it: `pulumi package get-schema` runs
package/__main__.py through Pulumi's Python host and prints the schema, which is the committed
one (package/schema.json, checked against the code by tests/test_gloo_vault_irsa.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.workspace import Workspace
from tooling import package_schema

pytestmark = [pytest.mark.engines, pytest.mark.cli]


@pytest.fixture(scope="module")
def served(cli: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `pulumi package get-schema package/` prints, run once for the module's tests."""
    workspace = Workspace.create(tmp_path_factory.mktemp("package"), {})
    schema: dict[str, Any] = json.loads(
        workspace.pulumi("package", "get-schema", str(workspace.with_package())).ok().stdout
    )
    return schema


def test_the_cli_serves_the_committed_schema(served: dict[str, Any]) -> None:
    """What `pulumi package add` generates every language's SDK from."""
    assert served == json.loads(package_schema.SCHEMA.read_text())


def test_every_input_and_output_the_cli_serves_is_described(served: dict[str, Any]) -> None:
    for token, resource in served["resources"].items():
        assert resource.get("description"), token
        for kind in ("inputProperties", "properties"):
            assert [n for n, p in resource[kind].items() if not p.get("description")] == [], (token, kind)

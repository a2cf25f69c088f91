"""The component package (package/) as the real CLI serves it: `pulumi package get-schema` runs
package/__main__.py through Pulumi's Python host and prints the schema, which is the committed
one (package/schema.json, checked against the code by tests/test_gloo_vault_irsa.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.workspace import Workspace
from tooling import package_schema

pytestmark = [pytest.mark.engines, pytest.mark.cli]


def test_the_cli_serves_the_committed_schema(cli: None, tmp_path: Path) -> None:
    """What `pulumi package add` generates every language's SDK from."""
    workspace = Workspace.create(tmp_path, {})
    served = json.loads(workspace.pulumi("package", "get-schema", str(tmp_path / "package")).ok().stdout)
    assert served == json.loads(package_schema.SCHEMA.read_text())


def test_every_input_and_output_the_cli_serves_is_described(cli: None, tmp_path: Path) -> None:
    workspace = Workspace.create(tmp_path, {})
    served = json.loads(workspace.pulumi("package", "get-schema", str(tmp_path / "package")).ok().stdout)
    for token, resource in served["resources"].items():
        assert resource.get("description"), token
        for kind in ("inputProperties", "properties"):
            assert [n for n, p in resource[kind].items() if not p.get("description")] == [], (token, kind)

"""tooling/config_docs.py: Pulumi.yaml's config block and README's config table are generated from KEYS."""

from __future__ import annotations

import re

import pytest

from components.config import keys as config_keys
from components.config.keys import KEYS
from tests.harness import (
    ROOT,
    pulumi_yaml_config,
)
from tooling import config_docs


def test_keys_with_derived_defaults_are_not_declared_but_still_documented() -> None:
    """`loginCheck` and `glooServiceAccounts` default from other keys: no value of their type could mean
    unset, so the CLI cannot be told their default; the README's table still lists them."""
    declared = pulumi_yaml_config()
    assert "loginCheck" not in declared and "glooServiceAccounts" not in declared
    table = config_docs.render_readme_table()
    assert "| `loginCheck` |" in table and "| `glooServiceAccounts` |" in table


# README.md is written by the docs engineer; this test keeps its config table in step with KEYS.
@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_readme_config_table_lists_every_key(key: config_keys.Key) -> None:
    readme = (ROOT / "docs" / "configuration.md").read_text()
    assert re.search(rf"^\| `{re.escape(key.name)}` ", readme, flags=re.MULTILINE), (
        f"docs/configuration.md's config table has no row starting with | `{key.name}`"
    )


def test_pulumi_yaml_config_block_is_generated_from_keys() -> None:
    """Run `.venv/bin/python -m tooling.config_docs` after changing KEYS."""
    assert pulumi_yaml_config() == config_docs.pulumi_yaml_config()
    text = (ROOT / "Pulumi.yaml").read_text()
    assert text.endswith(config_docs.render_pulumi_yaml_config()), "Pulumi.yaml's config block is not KEYS'"


def test_readme_config_table_is_generated_from_keys() -> None:
    """Run `.venv/bin/python -m tooling.config_docs` after changing KEYS."""
    readme = (ROOT / "docs" / "configuration.md").read_text()
    assert config_docs.readme_table(readme) == config_docs.render_readme_table()

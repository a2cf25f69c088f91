"""`vault-version-fixed-in-production` (guardrails/vault_versions.py): a production stack's
in-cluster Vault runs no version with CVE-2025-11621, whether its chart's own image or the image
its values pin; the pack's reading of versions is the program's (components/config/vault_versions.py)."""

from __future__ import annotations

from typing import Any

import pytest

import guardrails
from components.config.vault_versions import is_vulnerable
from guardrails import StackResource
from tests.config.test_vault_versions import FIXED, VULNERABLE
from tests.harness import ProgramRun
from tests.policy_pack.engine import DEV, PROD, only, pack_violations, real

RULE = "vault-version-fixed-in-production"


def vault_release(run: ProgramRun) -> dict[str, Any]:
    """The dev stack's Vault release, out of dev mode (which a production stack refuses on its own)."""
    release = real(run, guardrails.HELM_RELEASE, "vault")
    release["values"]["server"]["dev"]["enabled"] = False
    return release


def violations(release: dict[str, Any], context: guardrails.StackContext = PROD) -> list[str]:
    return pack_violations([StackResource(guardrails.HELM_RELEASE, "vault", release)], context)


def test_the_programs_vault_pins_are_fixed(run: ProgramRun) -> None:
    release = vault_release(run)
    assert violations(release) == []
    del release["values"]["server"]["image"]  # the chart's own image: 0.32.0's is 1.21.2
    assert violations(release) == []


@pytest.mark.parametrize("tag", ["1.18.5", "1.20.4", "1.21.0-rc1"])
def test_a_vulnerable_image_is_refused_in_production(run: ProgramRun, tag: str) -> None:
    release = vault_release(run)
    release["values"]["server"]["image"]["tag"] = tag
    only(violations(release), f"{RULE}: production stack 'prod': the Vault chart runs hashicorp/vault:{tag}")
    assert violations(release, DEV) == []


def test_an_enterprise_image_is_judged_by_its_line(run: ProgramRun) -> None:
    release = vault_release(run)
    release["values"]["server"]["image"] = {"repository": "hashicorp/vault-enterprise", "tag": "1.20.5-ent"}
    assert violations(release) == []
    release["values"]["server"]["image"]["tag"] = "1.18.13-ent"
    only(violations(release), "hashicorp/vault-enterprise:1.18.13-ent")


@pytest.mark.parametrize("chart", ["0.29.1", "0.31.0"])
def test_a_chart_whose_own_vault_is_vulnerable_is_refused_without_an_image_pin(run: ProgramRun, chart: str) -> None:
    release = vault_release(run)
    release["version"] = chart
    assert violations(release) == []  # its image pinned to a fixed version: that is what runs
    del release["values"]["server"]["image"]
    only(violations(release), f"{RULE}: production stack 'prod': the Vault chart {chart} runs its own default image")


@pytest.mark.parametrize("tag", ["latest", guardrails.UNKNOWN])
def test_an_image_tag_the_pack_cannot_read_is_refused(run: ProgramRun, tag: Any) -> None:
    release = vault_release(run)
    release["values"]["server"]["image"]["tag"] = tag
    only(violations(release), "cannot tell whether it is fixed")


@pytest.mark.parametrize("version", [*VULNERABLE, *FIXED, "latest", "1.21"])
def test_the_pack_reads_versions_as_the_program_does(version: str) -> None:
    """The pack stands alone (the CLI loads only policy-pack/), so it holds its own reading."""
    assert guardrails.vault_version_is_vulnerable(version) == is_vulnerable(version)

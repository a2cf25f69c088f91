"""Gloo's pod without servers: the client's module versions, the webhook's mapping, and which STS
mode the program's stacks give Gloo in every supported region."""

from __future__ import annotations

import re

import pytest

from components.config.checks import AWS_REGIONS
from tests.engines.gloo_client import IRSA_ANNOTATION
from tests.engines.gloo_pod import REGIONAL_STS_ANNOTATION, TOKEN_FILE, service_account_annotations, webhook_env
from tests.harness import ROOT, dev_config, run_program

GLOOLOGIN_MODULE = ROOT / "tests" / "engines" / "gloologin"
ROLE_ARN = "arn:aws:iam::123456789012:role/gloo"

# What Gloo's go.mod requires at v1.15.19 through v1.22.0 (checked against each of those tags):
# the three modules of its Vault login, and the one of them that signs the login request.
GLOO_PINS = {
    "github.com/hashicorp/vault/api": "v1.8.2",
    "github.com/hashicorp/vault/api/auth/aws": "v0.3.0",
    "github.com/aws/aws-sdk-go": "v1.34.9",
    "github.com/hashicorp/go-secure-stdlib/awsutil": "v0.1.6",
}


def required_versions() -> dict[str, str]:
    """module → version of every requirement in the client's go.mod (direct or indirect)."""
    text = (GLOOLOGIN_MODULE / "go.mod").read_text()
    return dict(re.findall(r"^\s*(\S+)\s+(v\S+)(?:\s*//.*)?$", text, re.MULTILINE))


def test_the_client_builds_with_the_versions_gloo_pins() -> None:
    required = required_versions()
    assert {module: required.get(module) for module in GLOO_PINS} == GLOO_PINS
    go_sum = (GLOOLOGIN_MODULE / "go.sum").read_text()
    for module, version in GLOO_PINS.items():
        assert f"{module} {version} h1:" in go_sum, module
    assert "replace" not in (GLOOLOGIN_MODULE / "go.mod").read_text()


def test_the_webhook_mutates_only_a_service_account_with_a_role() -> None:
    assert webhook_env({}, region="eu-west-1") == {}
    assert webhook_env({REGIONAL_STS_ANNOTATION: "true"}, region="eu-west-1") == {}


def test_the_webhook_gives_the_role_token_and_region_and_leaves_the_sdk_default_sts_mode() -> None:
    assert webhook_env({IRSA_ANNOTATION: ROLE_ARN}, region="eu-west-1") == {
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_WEB_IDENTITY_TOKEN_FILE": TOKEN_FILE,
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


@pytest.mark.parametrize(("value", "regional"), [("true", True), ("false", False), ("yes", False)])
def test_the_regional_sts_annotation_sets_the_sdks_regional_mode_only_when_true(value: str, regional: bool) -> None:
    env = webhook_env({IRSA_ANNOTATION: ROLE_ARN, REGIONAL_STS_ANNOTATION: value}, region="eu-west-1")
    assert env.get("AWS_STS_REGIONAL_ENDPOINTS") == ("regional" if regional else None)


def test_every_supported_regions_stack_asks_the_webhook_for_regional_sts() -> None:
    """The program's stacks, in each region config accepts, annotate Gloo's service accounts (gloo
    and discovery, turned on here) so that their pods call and sign for STS in the stack's region."""
    modes: dict[str, list[str]] = {}
    for region in sorted(AWS_REGIONS):
        run = run_program({**dev_config(), "region": region, "glooServiceAccounts": ["gloo", "discovery"]})
        [release] = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "gloo"]
        for account in ("gloo", "discovery"):
            env = webhook_env(service_account_annotations(release.inputs["values"], account), region=region)
            modes.setdefault(env.get("AWS_STS_REGIONAL_ENDPOINTS", "the SDK default"), []).append(f"{region}/{account}")
    assert list(modes) == ["regional"], {mode: len(where) for mode, where in modes.items()}

"""`vault-aws-auth-client` and `vault-aws-auth-role-bounded` (guardrails/vault.py): the real client
and role pass; a twin broken in each way fails.
"""

from __future__ import annotations

from typing import Any

import pytest

import guardrails
from components import config as config_module
from tests.harness import ProgramRun, dev_config, run_program, run_program_failure
from tests.policy_pack.engine import DEV, ENGINE_UNKNOWN, only, props, real

# ---------------------------------------------------------------------------- vault-aws-auth-client


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"iamServerIdHeaderValue": ""}, "iam_server_id_header_value is empty"),
        ({"iamServerIdHeaderValue": None}, "iam_server_id_header_value is empty"),
        ({"stsRegion": "eu-west-1"}, "is in us-east-1, but sts_region is 'eu-west-1'"),
        ({"stsEndpoint": "https://sts.eu-west-1.amazonaws.com"}, "is in eu-west-1, but sts_region is 'us-east-1'"),
        (
            {"stsEndpoint": "https://sts.amazonaws.com", "stsRegion": "eu-west-1"},
            "is in us-east-1, but sts_region is 'eu-west-1'",
        ),
        ({"stsRegion": None}, "is set without sts_region"),
    ],
)
def test_a_client_without_the_header_or_out_of_region_fails(
    run: ProgramRun, change: dict[str, Any], fragment: str
) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []
    client.update(change)
    only(guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV), fragment)


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("https://sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://sts.amazonaws.com", "us-east-1"),
        ("https://vpce-0abc-sts.us-east-1.vpce.amazonaws.com", "eu-west-1"),  # a VPC endpoint: not judged
        (ENGINE_UNKNOWN, ENGINE_UNKNOWN),
    ],
)
def test_a_client_in_its_region_passes(run: ProgramRun, endpoint: str, region: str) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    client.update(stsEndpoint=endpoint, stsRegion=region)
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []


# ---------------------------------------------------------------------------- vault-aws-auth-role-bounded

ROLE_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("ec2", {"authType": "ec2"}, "auth_type is 'ec2'"),
    ("no-auth-type", {"authType": None}, "auth_type is None"),
    ("empty-bound", {"boundIamPrincipalArns": []}, "bound_iam_principal_arns is empty"),
    ("no-bound", {"boundIamPrincipalArns": None}, "bound_iam_principal_arns is empty"),
    ("wildcard-bound", {"boundIamPrincipalArns": ["arn:aws:iam::123456789012:role/*"]}, "has a wildcard"),
    ("no-max-ttl", {"tokenMaxTtl": None}, "token_max_ttl is not set"),
    ("zero-max-ttl", {"tokenMaxTtl": 0}, "token_max_ttl is not set"),
    ("max-ttl-8-days", {"tokenMaxTtl": 8 * 86400.0}, "token_max_ttl is 691200s"),
    ("max-ttl-one-over", {"tokenMaxTtl": 604801}, "token_max_ttl is 604801s"),
    ("ttl-over-max", {"tokenTtl": 90000.0}, "token_ttl (90000s) exceeds token_max_ttl (86400s)"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), ROLE_BREAKS, ids=[c[0] for c in ROLE_BREAKS])
def test_a_loose_vault_aws_role_is_refused(run: ProgramRun, case: str, change: dict[str, Any], fragment: str) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []
    for key, value in change.items():
        if value is None:
            role.pop(key)
        else:
            role[key] = value
    only(guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV), fragment)


@pytest.mark.parametrize("ttl", [1, 3600, 604800])
def test_a_max_ttl_up_to_7_days_passes(run: ProgramRun, ttl: int) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    role.update(tokenMaxTtl=float(ttl), tokenTtl=float(ttl))
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


def test_the_config_maximum_ttl_is_the_policy_maximum() -> None:
    """The program refuses what the pack would refuse, so no stack builds a role the pack stops."""
    assert config_module.MAX_TOKEN_TTL_SECONDS == guardrails.MAX_TOKEN_TTL_SECONDS
    role = props(run_program({**dev_config(), "tokenMaxTtl": "168h"}).one(guardrails.VAULT_AWS_ROLE))
    assert role["tokenMaxTtl"] == guardrails.MAX_TOKEN_TTL_SECONDS
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []
    failed = run_program_failure({**dev_config(), "tokenMaxTtl": "169h"})
    assert isinstance(failed.error, config_module.ConfigError)
    assert failed.error.key == "tokenMaxTtl"


def test_the_preview_role_with_unknown_arns_passes(preview: ProgramRun) -> None:
    role = props(preview.one(guardrails.VAULT_AWS_ROLE))
    assert role["boundIamPrincipalArns"] == [ENGINE_UNKNOWN]
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []

"""`iam-no-wildcard-grants` (guardrails/grants.py): the real grant passes under every policy type;
a twin broken in each way fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import guardrails
from tests.harness import ProgramRun
from tests.policy_pack.engine import DEV, Doc, only, props, real


def grant(run: ProgramRun) -> Doc:
    document: Doc = json.loads(props(run.one("aws:iam/rolePolicy:RolePolicy", "vault-identity"))["policy"])
    return document


def check_grant(document: Doc, type_: str = "aws:iam/rolePolicy:RolePolicy") -> list[str]:
    return guardrails.check_iam_grants(type_, {"policy": json.dumps(document), "role": "r"}, DEV)


GRANT_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("star", {"Action": "*"}, "grants every action"),
    ("iam-star", {"Action": "iam:*"}, "'iam:*' is a wildcard over IAM/STS"),
    ("sts-star", {"Action": "sts:*"}, "'sts:*' is a wildcard over IAM/STS"),
    ("iam-get-star", {"Action": ["iam:Get*"]}, "'iam:Get*' is a wildcard"),
    ("sts-assume-star", {"Action": ["iam:GetRole", "sts:Assume*"]}, "'sts:Assume*' is a wildcard"),
    ("uppercase", {"Action": "IAM:*"}, "'IAM:*' is a wildcard"),
    ("service-wildcard", {"Action": "i*:GetRole"}, "is a wildcard over IAM/STS"),
    ("get-role-on-star", {"Resource": "*"}, "iam:GetRole on '*'"),
    ("get-role-on-every-role", {"Resource": ["arn:aws:iam::123456789012:role/*"]}, "lets the holder read every role"),
    ("not-action", {"NotAction": "s3:*"}, "NotAction"),
]


def test_the_real_grant_passes_under_every_policy_type(run: ProgramRun) -> None:
    document = grant(run)
    assert document["Statement"][0]["Action"] == "iam:GetRole"
    for type_ in guardrails.IAM_POLICY_TYPES:
        assert check_grant(document, type_) == []


@pytest.mark.parametrize(("case", "change", "fragment"), GRANT_BREAKS, ids=[c[0] for c in GRANT_BREAKS])
@pytest.mark.parametrize("type_", guardrails.IAM_POLICY_TYPES)
def test_a_wildcard_grant_is_refused(
    run: ProgramRun, case: str, change: dict[str, Any], fragment: str, type_: str
) -> None:
    document = grant(run)
    document["Statement"][0].update(change)
    only(check_grant(document, type_), fragment)


@pytest.mark.parametrize(("case", "change", "fragment"), GRANT_BREAKS, ids=[c[0] for c in GRANT_BREAKS])
def test_a_wildcard_grant_inline_on_a_role_is_refused(
    run: ProgramRun, case: str, change: dict[str, Any], fragment: str
) -> None:
    role = real(run, guardrails.ROLE, "vault-identity")
    document = grant(run)
    assert (
        guardrails.check_iam_grants(
            guardrails.ROLE, {**role, "inlinePolicies": [{"name": "ok", "policy": json.dumps(document)}]}, DEV
        )
        == []
    )
    document["Statement"][0].update(change)
    role["inlinePolicies"] = [{"name": "scoped", "policy": json.dumps(document)}]
    violations = guardrails.check_iam_grants(guardrails.ROLE, role, DEV)
    only(violations, fragment)
    only(violations, "inlinePolicies[scoped]")


def test_a_deny_of_everything_is_not_a_grant(run: ProgramRun) -> None:
    document = grant(run)
    document["Statement"].append({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert check_grant(document) == []


def test_other_services_may_use_wildcards(run: ProgramRun) -> None:
    document = grant(run)
    document["Statement"].append({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    assert check_grant(document) == []

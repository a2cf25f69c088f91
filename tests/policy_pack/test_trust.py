"""`irsa-trust-policy` (guardrails/trust.py): the real trust policies pass; a twin broken in each
way fails with the policy's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import guardrails
from tests.harness import ProgramRun
from tests.policy_pack.engine import DEV, ENGINE_UNKNOWN, Doc, only, props


def trust(run: ProgramRun, name: str = "gloo") -> Doc:
    document: Doc = json.loads(props(run.one(guardrails.ROLE, name))["assumeRolePolicy"])
    return document


def check_trust(document: Any) -> list[str]:
    policy = json.dumps(document) if isinstance(document, dict) else document
    return guardrails.check_trust_policy(guardrails.ROLE, {"assumeRolePolicy": policy}, DEV)


def issuer(document: Doc) -> str:
    federated: str = document["Statement"][0]["Principal"]["Federated"]
    return federated.split(":oidc-provider/", 1)[1]


def rename_operator(doc: Doc, operator: str) -> None:
    st = doc["Statement"][0]
    st["Condition"] = {operator: st["Condition"]["StringEquals"]}


def move_sub(doc: Doc, operator: str) -> None:
    st = doc["Statement"][0]
    sub = f"{issuer(doc)}:sub"
    st["Condition"][operator] = {sub: st["Condition"]["StringEquals"].pop(sub)}


def set_condition(doc: Doc, key: str, value: Any) -> None:
    doc["Statement"][0]["Condition"]["StringEquals"][f"{issuer(doc)}:{key}"] = value


def drop_condition(doc: Doc, key: str) -> None:
    del doc["Statement"][0]["Condition"]["StringEquals"][f"{issuer(doc)}:{key}"]


def set_statement(doc: Doc, key: str, value: Any) -> None:
    doc["Statement"][0][key] = value


TRUST_BREAKS: list[tuple[str, Callable[[Doc], None], str]] = [
    ("string-equals-if-exists", lambda d: rename_operator(d, "StringEqualsIfExists"), "StringEqualsIfExists"),
    ("string-like-sub", lambda d: move_sub(d, "StringLike"), "condition operator StringLike"),
    ("if-exists-sub", lambda d: move_sub(d, "StringEqualsIfExists"), "condition operator StringEqualsIfExists"),
    ("missing-aud", lambda d: drop_condition(d, "aud"), ":aud = sts.amazonaws.com"),
    ("wrong-aud", lambda d: set_condition(d, "aud", "sts.example.com"), "must be exactly sts.amazonaws.com"),
    ("two-auds", lambda d: set_condition(d, "aud", ["sts.amazonaws.com", "x"]), "must be exactly sts.amazonaws.com"),
    ("missing-sub", lambda d: drop_condition(d, "sub"), ":sub = the exact subjects"),
    ("wildcard-sub", lambda d: set_condition(d, "sub", "system:serviceaccount:gloo-system:*"), "without * or ?"),
    ("question-sub", lambda d: set_condition(d, "sub", ["system:serviceaccount:gloo-system:gl?o"]), "without * or ?"),
    ("star-sub", lambda d: set_condition(d, "sub", "*"), "not one exact service account"),
    ("empty-sub", lambda d: set_condition(d, "sub", []), "lists no subject"),
    ("no-condition", lambda d: d["Statement"][0].pop("Condition"), "has no Condition"),
    ("wrong-action", lambda d: set_statement(d, "Action", "sts:AssumeRole"), "Action must be only"),
    (
        "extra-action",
        lambda d: set_statement(d, "Action", ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]),
        "Action must be only",
    ),
    ("wildcard-action", lambda d: set_statement(d, "Action", "sts:*"), "Action must be only"),
    (
        "saml-provider",
        lambda d: set_statement(d, "Principal", {"Federated": "arn:aws:iam::123456789012:saml-provider/corp"}),
        "is not an IAM OIDC provider ARN",
    ),
    (
        "cognito",
        lambda d: set_statement(d, "Principal", {"Federated": "cognito-identity.amazonaws.com"}),
        "is not an IAM OIDC provider ARN",
    ),
    (
        "web-identity-from-aws-principal",
        lambda d: set_statement(d, "Principal", {"AWS": "arn:aws:iam::123456789012:role/x"}),
        "needs Principal.Federated",
    ),
    (
        "federated-plus-aws",
        lambda d: d["Statement"][0]["Principal"].update(AWS="arn:aws:iam::123456789012:role/x"),
        "trusts only Principal.Federated",
    ),
    ("anyone", lambda d: set_statement(d, "Principal", "*"), "trusts anyone"),
    ("not-principal", lambda d: set_statement(d, "NotPrincipal", d["Statement"][0].pop("Principal")), "NotPrincipal"),
]


def test_the_real_trust_policies_pass_as_string_and_as_object(run: ProgramRun) -> None:
    for name in ("gloo", "vault-identity"):
        assert check_trust(trust(run, name)) == []
        assert guardrails.check_trust_policy(guardrails.ROLE, {"assumeRolePolicy": trust(run, name)}, DEV) == []


@pytest.mark.parametrize(("case", "breaks", "fragment"), TRUST_BREAKS, ids=[c[0] for c in TRUST_BREAKS])
def test_a_broken_irsa_trust_policy_is_refused(
    run: ProgramRun, case: str, breaks: Callable[[Doc], None], fragment: str
) -> None:
    document = trust(run)
    breaks(document)
    only(check_trust(document), fragment)
    only(guardrails.check_trust_policy(guardrails.ROLE, {"assumeRolePolicy": document}, DEV), fragment)


def test_a_trust_policy_that_is_not_json_is_refused() -> None:
    only(check_trust("{not json"), "not valid JSON")


def test_a_deny_statement_is_not_a_grant(run: ProgramRun) -> None:
    document = trust(run)
    document["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "*"})
    assert check_trust(document) == []


def test_an_unknown_trust_policy_is_checked_at_update_time_not_in_preview(preview: ProgramRun) -> None:
    role = props(preview.one(guardrails.ROLE, "gloo"))
    assert role["assumeRolePolicy"] == ENGINE_UNKNOWN
    assert guardrails.check_trust_policy(guardrails.ROLE, role, DEV) == []


CROSS_BREAKS: list[tuple[str, Callable[[Doc], None], str]] = [
    ("aws-star", lambda d: set_statement(d, "Principal", {"AWS": "*"}), "has a wildcard"),
    ("aws-role-star", lambda d: set_statement(d, "Principal", {"AWS": "arn:aws:iam::210987654321:role/*"}), "wildcard"),
    (
        "account-root",
        lambda d: set_statement(d, "Principal", {"AWS": "arn:aws:iam::210987654321:root"}),
        "every principal of that account",
    ),
    ("account-id", lambda d: set_statement(d, "Principal", {"AWS": "210987654321"}), "every principal of that account"),
    ("action-star", lambda d: set_statement(d, "Action", "*"), "Action '*' has a wildcard"),
    ("action-sts-star", lambda d: set_statement(d, "Action", "sts:*"), "Action 'sts:*' has a wildcard"),
    ("not-action", lambda d: set_statement(d, "NotAction", d["Statement"][0].pop("Action")), "NotAction"),
    ("anyone", lambda d: set_statement(d, "Principal", "*"), "trusts anyone"),
]


def test_the_cross_account_trust_is_an_aws_principal_and_passes(runs: dict[str, ProgramRun]) -> None:
    document = trust(runs["cross-account"], "vault-identity")
    assert document["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::210987654321:role/vault"}
    assert check_trust(document) == []


@pytest.mark.parametrize(("case", "breaks", "fragment"), CROSS_BREAKS, ids=[c[0] for c in CROSS_BREAKS])
def test_a_broken_cross_account_trust_is_refused(
    runs: dict[str, ProgramRun], case: str, breaks: Callable[[Doc], None], fragment: str
) -> None:
    document = trust(runs["cross-account"], "vault-identity")
    breaks(document)
    only(check_trust(document), fragment)


# ---------------------------------------------------------------------------- one OIDC provider per role (clusters)


def trust_another_cluster(document: Doc, other: Doc, how: str) -> None:
    """`document` (one cluster's Gloo trust) made to trust `other`'s OIDC provider as well."""
    theirs = other["Statement"][0]
    if how == "second-statement":
        document["Statement"].append(theirs)
        return
    ours = document["Statement"][0]
    ours["Principal"]["Federated"] = [ours["Principal"]["Federated"], theirs["Principal"]["Federated"]]
    ours["Condition"]["StringEquals"].update(theirs["Condition"]["StringEquals"])


def test_each_clusters_gloo_role_trusts_its_own_oidc_provider_alone(runs: dict[str, ProgramRun]) -> None:
    run = runs["clusters"]
    east_a, east_b = trust(run, "east-a-gloo"), trust(run, "east-b-gloo")
    assert issuer(east_a) != issuer(east_b)
    assert check_trust(east_a) == check_trust(east_b) == []


@pytest.mark.parametrize("how", ["second-statement", "two-federated"])
def test_a_role_trusting_two_clusters_oidc_providers_is_refused(runs: dict[str, ProgramRun], how: str) -> None:
    """A subject names a namespace and a service account, not a cluster: east-a's Gloo role
    trusting east-b's OIDC provider too lets east-b's `gloo-system:gloo` assume it."""
    run = runs["clusters"]
    east_a, east_b = trust(run, "east-a-gloo"), trust(run, "east-b-gloo")
    trust_another_cluster(east_a, east_b, how)
    only(check_trust(east_a), f"trusts 2 OIDC providers ({issuer(trust(run, 'east-a-gloo'))}, {issuer(east_b)})")

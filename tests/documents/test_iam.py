"""components/documents/iam.py: its builders (trust and grant policies), and every IAM document
the program generates, linted with parliament, per Vault topology.

Permission policies are linted as they are, and must have no finding at all. parliament reads
every document as an identity policy, so a trust policy (a resource policy on its role, with a
Principal and no Resource) is linted as the statement it is about that role: its own ARN as
Resource, so that parliament checks action, resource type and conditions instead of stopping at
"no Resource". Three findings about trust policies are beyond what parliament 1.6.4 knows, and
each is accepted only with the exact detail the graph explains (`explained_trust_findings`):

- UNKNOWN_FEDERATION_SOURCE for the cluster's own IAM OIDC provider ARN (it knows SAML
  providers and four web identity providers, not `oidc-provider/...`);
- UNKNOWN_CONDITION_FOR_ACTION for `<issuer>:aud` and `<issuer>:sub` (an OIDC provider's keys are
  named after its issuer; its action table lists only the fixed providers' keys);
- CREDENTIALS_EXPOSURE (community auditor) for the sts:AssumeRole* action a trust policy exists
  to allow.

Anything else, or one of those with another detail, fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament
import pytest
from parliament import analyze_policy_string, enhance_finding, override_config

from components.documents.iam import assume_role_trust_policy, get_role_policy, irsa_trust_policy
from tests.harness import (
    EXTERNAL_VAULT,
    ProgramRun,
    Registered,
    dev_config,
    mock_role_arn,
    run_program,
)

TOPOLOGIES: dict[str, dict[str, Any]] = {
    "in-cluster-dev": {},
    "external-same-account-role": {
        **EXTERNAL_VAULT,
        "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
    },
    "external-same-account-user": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:user/vault"},
    "external-cross-account": {
        **EXTERNAL_VAULT,
        "vaultCrossAccountPrincipalArn": "arn:aws:iam::210987654321:role/vault",
    },
}


# What parliament's CLI does for --include-community-auditors: their findings' titles and severities.
override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {name: run_program({**dev_config(), **overrides}) for name, overrides in TOPOLOGIES.items()}


def findings(document: str) -> list[tuple[str, str]]:
    """(issue, detail) of every parliament finding, community auditors included, each known to
    parliament's config (enhance_finding raises on an issue it has no title for)."""
    policy = analyze_policy_string(document, include_community_auditors=True)
    return [(f.issue, str(f.detail)) for f in (enhance_finding(f) for f in policy.findings)]


def as_statement_about(trust_policy: str, role_arn: str) -> str:
    """A trust policy in the form parliament analyzes: each statement about the role it guards."""
    doc = json.loads(trust_policy)
    for statement in doc["Statement"]:
        statement["Resource"] = role_arn
    return json.dumps(doc)


def explained_trust_findings(trust_policy: str) -> set[tuple[str, str]]:
    """The findings parliament 1.6.4 cannot avoid on this trust policy (see the module docstring)."""
    explained: set[tuple[str, str]] = set()
    for statement in json.loads(trust_policy)["Statement"]:
        explained.add(("CREDENTIALS_EXPOSURE", ""))
        federated = statement.get("Principal", {}).get("Federated")
        if federated and ":oidc-provider/" in federated:
            explained.add(("UNKNOWN_FEDERATION_SOURCE", federated))
            issuer = federated.split(":oidc-provider/", 1)[1]
            for key in (f"{issuer}:aud", f"{issuer}:sub"):
                explained.add(
                    ("UNKNOWN_CONDITION_FOR_ACTION", f"Unknown condition {key} for action {statement['Action']}")
                )
    return explained


def lint_trust(role: Registered) -> list[tuple[str, str]]:
    trust = role.inputs["assumeRolePolicy"]
    found = findings(as_statement_about(trust, mock_role_arn(role.name)))
    return [f for f in found if f not in explained_trust_findings(trust)]


def iam_documents(run: ProgramRun) -> list[tuple[Registered, str]]:
    return [
        (res, key)
        for res in run.resources
        if res.type.startswith("aws:iam/")
        for key in ("policy", "assumeRolePolicy")
        if key in res.inputs
    ]


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_every_permission_policy_has_no_finding(runs: dict[str, ProgramRun], topology: str) -> None:
    policies = [res for res, key in iam_documents(runs[topology]) if key == "policy"]
    assert policies, "no permission policy found"
    for res in policies:
        assert findings(res.inputs["policy"]) == [], (res.type, res.name)


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_every_trust_policy_has_no_unexplained_finding(runs: dict[str, ProgramRun], topology: str) -> None:
    roles = [res for res, key in iam_documents(runs[topology]) if key == "assumeRolePolicy"]
    assert roles, "no trust policy found"
    for role in roles:
        assert lint_trust(role) == [], (role.type, role.name)


def test_the_documents_linted_are_all_the_program_has(runs: dict[str, ProgramRun]) -> None:
    """Per topology: Gloo's role, Vault's grant, and Vault's role where the program makes one."""
    kinds = {
        name: sorted((res.type.split("/")[1], key) for res, key in iam_documents(run)) for name, run in runs.items()
    }
    role_trust = ("role:Role", "assumeRolePolicy")
    role_policy = ("rolePolicy:RolePolicy", "policy")
    user_policy = ("userPolicy:UserPolicy", "policy")
    assert kinds == {
        "in-cluster-dev": sorted([role_trust, role_trust, role_policy]),
        "external-same-account-role": sorted([role_trust, role_policy]),
        "external-same-account-user": sorted([role_trust, user_policy]),
        "external-cross-account": sorted([role_trust, role_trust, role_policy]),
    }


# ---------------------------------------------------------------------------- the lint can fail


def test_parliament_flags_a_bad_permission_policy() -> None:
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:GetRoles", "Resource": "arn:aws:iam::123456789012:role/gloo"},
            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:s3:::bucket"},
        ],
    }
    issues = {issue for issue, _ in findings(json.dumps(bad))}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH"} <= issues


def test_trust_lint_flags_what_it_does_not_explain(runs: dict[str, ProgramRun]) -> None:
    """The same lint on a broken copy of Gloo's real trust policy: a misspelt action, and a
    condition key of another issuer, are both reported."""
    role = runs["in-cluster-dev"].one("aws:iam/role:Role", "gloo")
    doc = json.loads(role.inputs["assumeRolePolicy"])
    statement = doc["Statement"][0]
    statement["Action"] = "sts:AssumeRoleWithWebIdentiy"
    broken = Registered(**{**role.__dict__, "raw_inputs": {**role.raw_inputs, "assumeRolePolicy": json.dumps(doc)}})
    assert ("UNKNOWN_ACTION", "Unknown action sts:AssumeRoleWithWebIdentiy") in lint_trust(broken)

    statement["Action"] = "sts:AssumeRoleWithWebIdentity"
    statement["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/OTHER:sub"] = "x"
    broken = Registered(**{**role.__dict__, "raw_inputs": {**role.raw_inputs, "assumeRolePolicy": json.dumps(doc)}})
    assert [issue for issue, _ in lint_trust(broken)] == ["UNKNOWN_CONDITION_FOR_ACTION"]


PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
GLOO_SUBJECTS = ["system:serviceaccount:gloo-system:gloo", "system:serviceaccount:gloo-system:discovery"]


def as_list(value: Any) -> list[Any]:
    """IAM lets Action/Resource be a string or a list; compare them as lists."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    "issuer",
    [f"https://{HOST}", HOST, f"https://{HOST}/", f"{HOST}/"],
    ids=["https", "bare", "https-trailing-slash", "bare-trailing-slash"],
)
def test_irsa_trust_policy_is_exact(issuer: str) -> None:
    doc = irsa_trust_policy(PROVIDER_ARN, issuer, GLOO_SUBJECTS)
    assert doc["Version"] == "2012-10-17"
    assert set(doc) == {"Version", "Statement"}
    [statement] = doc["Statement"]
    assert set(statement) - {"Sid"} == {"Effect", "Principal", "Action", "Condition"}
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert as_list(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity"]
    # StringEquals, not the guide's StringEqualsIfExists (a token without the claim would pass)
    # and not StringLike (wildcards).
    assert set(statement["Condition"]) == {"StringEquals"}
    condition = statement["Condition"]["StringEquals"]
    assert set(condition) == {f"{HOST}:aud", f"{HOST}:sub"}
    assert as_list(condition[f"{HOST}:aud"]) == ["sts.amazonaws.com"]
    subs = as_list(condition[f"{HOST}:sub"])
    assert sorted(subs) == sorted(GLOO_SUBJECTS)
    assert not any("*" in s or "?" in s for s in subs)


def test_irsa_trust_policy_trusts_only_the_given_subjects() -> None:
    doc = irsa_trust_policy(PROVIDER_ARN, HOST, ["system:serviceaccount:vault:vault"])
    assert as_list(doc["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"]) == [
        "system:serviceaccount:vault:vault"
    ]


def test_irsa_trust_policy_without_subjects_is_refused() -> None:
    with pytest.raises(ValueError):
        irsa_trust_policy(PROVIDER_ARN, HOST, [])


@pytest.mark.parametrize(
    "arns",
    [
        ["arn:aws:iam::123456789012:role/gloo"],
        ["arn:aws:iam::123456789012:role/gloo", "arn:aws:iam::123456789012:role/team/edge"],
    ],
)
def test_get_role_policy_is_get_role_on_exactly_the_bound_arns(arns: list[str]) -> None:
    doc = get_role_policy(arns)
    assert doc["Version"] == "2012-10-17"
    [statement] = doc["Statement"]
    assert set(statement) - {"Sid"} == {"Effect", "Action", "Resource"}
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["iam:GetRole"]
    resources = as_list(statement["Resource"])
    assert sorted(resources) == sorted(arns)
    assert "*" not in "".join(resources)


def test_get_role_policy_without_arns_is_refused() -> None:
    # An empty Resource list would be invalid; a fallback to "*" would be worse.
    with pytest.raises(ValueError):
        get_role_policy([])


def test_assume_role_trust_policy_trusts_one_principal_for_assume_role_only() -> None:
    principal = "arn:aws:iam::210987654321:role/vault-server"
    [statement] = assume_role_trust_policy(principal)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": principal}
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]

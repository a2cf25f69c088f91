"""`iam-no-wildcard-grants` (guardrails/grants.py): the real grant passes under every policy type;
a twin broken in each way fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import guardrails
from guardrails import StackResource
from tests.harness import ProgramRun
from tests.policy_pack.engine import DEV, Doc, only, pack_violations, props, real, stack_resources, with_props


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


# ---------------------------------------------------------------------------- managed policies

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess"
CUSTOMER_POLICY = "arn:aws:iam::123456789012:policy/gloo-extra"


def attachments(role: str, policy_arn: str) -> list[tuple[str, dict[str, Any]]]:
    """Every way this provider attaches a managed policy to a role, a user or a group."""
    return [
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": role, "policyArn": policy_arn}),
        ("aws:iam/policyAttachment:PolicyAttachment", {"name": "extra", "roles": [role], "policyArn": policy_arn}),
        (
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            {"roleName": role, "policyArns": [policy_arn]},
        ),
        ("aws:iam/userPolicyAttachment:UserPolicyAttachment", {"user": "ops", "policyArn": policy_arn}),
        ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", {"group": "ops", "policyArn": policy_arn}),
        ("aws:iam/policyAttachment:PolicyAttachment", {"name": "extra", "users": ["ops"], "policyArn": policy_arn}),
        (
            "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
            {"userName": "ops", "policyArns": [policy_arn]},
        ),
        (
            "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
            {"groupName": "ops", "policyArns": [policy_arn]},
        ),
    ]


def role_name(resources: list[StackResource], name: str) -> str:
    """The physical name of the program's role `name` (the engine's output)."""
    found: str = next(r.props["name"] for r in resources if r.type == guardrails.ROLE and r.name == name)
    return found


def with_role(resources: list[StackResource], name: str, change: dict[str, Any]) -> list[StackResource]:
    """The stack with role `name`'s properties updated by `change`."""
    return with_props(resources, guardrails.ROLE, name, change)


def with_attachment(run: ProgramRun, role: str, policy_arn: str, index: int) -> tuple[list[StackResource], str]:
    """The stack with `policy_arn` attached to role `role` the `index`th way, and the role's name."""
    resources = stack_resources(run)
    name = role_name(resources, role)
    type_, attachment = attachments(name, policy_arn)[index]
    return [*resources, StackResource(type_, "extra", attachment)], name


@pytest.mark.parametrize("policy_arn", [ADMIN, IAM_FULL, "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"])
@pytest.mark.parametrize("index", range(len(attachments("r", ADMIN))))
def test_an_aws_managed_policy_attached_anywhere_is_refused(run: ProgramRun, index: int, policy_arn: str) -> None:
    broken, _ = with_attachment(run, "gloo", policy_arn, index)
    only(pack_violations(broken, DEV), f"attaches the AWS-managed policy {policy_arn!r}")


@pytest.mark.parametrize("role", ["gloo", "vault-identity"])
def test_an_aws_managed_policy_in_a_roles_managed_policy_arns_is_refused(run: ProgramRun, role: str) -> None:
    broken = with_role(stack_resources(run), role, {"managedPolicyArns": [ADMIN]})
    only(pack_violations(broken, DEV), f"attaches the AWS-managed policy {ADMIN!r}")


@pytest.mark.parametrize("role", ["gloo", "vault-identity"])
@pytest.mark.parametrize("index", range(3))
def test_any_managed_policy_attached_to_an_irsa_role_is_refused(run: ProgramRun, role: str, index: int) -> None:
    """Customer-managed too: the program's IRSA roles need none (Gloo's needs no policy at all)."""
    broken, name = with_attachment(run, role, CUSTOMER_POLICY, index)
    only(pack_violations(broken, DEV), f"attaches {CUSTOMER_POLICY!r} to the IRSA role {name!r}")


@pytest.mark.parametrize("role", ["gloo", "vault-identity"])
def test_a_customer_policy_in_an_irsa_roles_managed_policy_arns_is_refused(run: ProgramRun, role: str) -> None:
    resources = stack_resources(run)
    broken = with_role(resources, role, {"managedPolicyArns": [CUSTOMER_POLICY]})
    only(pack_violations(broken, DEV), f"attaches {CUSTOMER_POLICY!r} to the IRSA role {role_name(resources, role)!r}")


def test_an_inline_policy_on_the_gloo_role_is_refused(run: ProgramRun) -> None:
    """Vault's IRSA role has its inline iam:GetRole (the real graph); Gloo's role needs no policy."""
    resources = stack_resources(run)
    vault_grant = next(r for r in resources if r.type == "aws:iam/rolePolicy:RolePolicy")
    assert vault_grant.props["role"] == role_name(resources, "vault-identity")
    gloo = role_name(resources, "gloo")
    as_resource = [*resources, StackResource(vault_grant.type, "extra", {**vault_grant.props, "role": gloo})]
    only(pack_violations(as_resource, DEV), f"gives the Gloo IRSA role {gloo!r} a policy")
    inline = with_role(
        resources, "gloo", {"inlinePolicies": [{"name": "extra", "policy": vault_grant.props["policy"]}]}
    )
    only(pack_violations(inline, DEV), f"gives the Gloo IRSA role {gloo!r} a policy")


def test_a_customer_policy_on_a_user_or_a_role_that_is_not_irsa_passes(runs: dict[str, ProgramRun]) -> None:
    """The external Vault's own user or role may hold policies; the pack checks those it can read."""
    resources = stack_resources(runs["cross-account"])
    extra = [
        StackResource(t, "extra", a) for t, a in attachments(role_name(resources, "vault-identity"), CUSTOMER_POLICY)
    ]
    assert pack_violations([*resources, *extra], DEV) == []


# ---------------------------------------------------------------------------- escalation

ESCALATION_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("put-role-policy-on-star", {"Action": "iam:PutRolePolicy", "Resource": "*"}, "'iam:PutRolePolicy' can escalate"),
    ("attach-role-policy-on-star", {"Action": "iam:AttachRolePolicy", "Resource": "*"}, "'iam:AttachRolePolicy'"),
    ("pass-role-on-star", {"Action": "iam:PassRole", "Resource": "*"}, "'iam:PassRole' can escalate"),
    ("create-access-key-on-star", {"Action": "iam:CreateAccessKey", "Resource": "*"}, "'iam:CreateAccessKey'"),
    ("assume-role-on-star", {"Action": "sts:AssumeRole", "Resource": "*"}, "'sts:AssumeRole' can escalate"),
    ("pass-role-on-the-bound-role", {"Action": ["iam:GetRole", "iam:PassRole"]}, "'iam:PassRole' can escalate"),
    ("update-trust-on-the-bound-role", {"Action": "iam:UpdateAssumeRolePolicy"}, "'iam:UpdateAssumeRolePolicy'"),
    ("policy-version", {"Action": "iam:CreatePolicyVersion", "Resource": "*"}, "'iam:CreatePolicyVersion'"),
    ("lowercase", {"Action": "iam:putrolepolicy"}, "'iam:putrolepolicy' can escalate"),
    ("secretsmanager-star", {"Action": "secretsmanager:*", "Resource": "*"}, "'secretsmanager:*' grants every action"),
    ("kms-star", {"Action": ["kms:*"], "Resource": "arn:aws:kms:us-east-1:123456789012:key/k"}, "'kms:*' grants every"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), ESCALATION_BREAKS, ids=[c[0] for c in ESCALATION_BREAKS])
@pytest.mark.parametrize("type_", [*guardrails.IAM_POLICY_TYPES, "inline"])
def test_a_grant_that_can_escalate_is_refused(
    run: ProgramRun, case: str, change: dict[str, Any], fragment: str, type_: str
) -> None:
    document = grant(run)
    document["Statement"][0].update(change)
    resources = stack_resources(run)
    if type_ == "inline":
        broken = with_role(
            resources, "vault-identity", {"inlinePolicies": [{"name": "x", "policy": json.dumps(document)}]}
        )
    else:
        broken = [*resources, StackResource(type_, "extra", {"policy": json.dumps(document), "role": "ops"})]
    only(pack_violations(broken, DEV), fragment)


@pytest.mark.parametrize("action", ["iam:GetRole", "iam:ListRoles", "sts:GetCallerIdentity", "s3:GetObject"])
def test_read_actions_pass(run: ProgramRun, action: str) -> None:
    document = grant(run)
    document["Statement"][0]["Action"] = action
    assert check_grant(document) == []

"""`iam-no-wildcard-grants` and `irsa-role-policies`: what the program's IAM policies allow, and
which roles may hold policies at all.

The only permission the program grants is Vault's `iam:GetRole` on the roles it binds; a
wildcard over IAM or STS actions, or over every role, is how such a grant turns into an
account takeover. An AWS-managed policy is a grant the pack cannot read, and the IRSA roles
need none: Gloo's role needs no permission at all, Vault's holds only its inline `iam:GetRole`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .common import (
    IAM_POLICY_TYPES,
    ROLE,
    StackContext,
    StackResource,
    allows,
    as_list,
    document,
    get,
    has_wildcard,
    is_unknown,
    known,
    statements,
)
from .gloo_values import gloo_role_arns
from .trust import trusts_web_identity

_SENSITIVE_SERVICES = ("iam", "sts")
_AWS_MANAGED_POLICY = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::aws:policy/")
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICIES_EXCLUSIVE = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
ATTACHMENTS: dict[str, str | None] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role",
    "aws:iam/policyAttachment:PolicyAttachment": "roles",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "roleName",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": None,
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": None,
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": None,
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": None,
}
"""Each resource that attaches managed policies, and its property naming the roles it attaches to."""


def check_iam_grants(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """No Allow statement of an IAM permissions policy grants `*`, a wildcard over `iam:`/`sts:`
    actions (`iam:*`, `sts:*`, `iam:Get*`...), a whole service (`kms:*`), an IAM/STS action
    that writes IAM or hands out credentials (`iam:PassRole`, `sts:AssumeRole`...) on any
    resource, uses NotAction, or grants `iam:GetRole` on a wildcard resource. Applies to managed,
    role, user and group policies and to a role's inline policies. And no role, user or group is
    given an AWS-managed policy: the pack cannot see what it grants (fail closed), and the ones
    people reach for grant everything."""
    violations = [
        f"{field}: attaches the AWS-managed policy {arn!r}, which this pack cannot read (AdministratorAccess, "
        "PowerUserAccess and IAMFullAccess grant '*' or IAM/STS writes); grant the exact actions in a policy "
        "of this stack instead"
        for field, arn in managed_policy_arns(resource_type, props)
        if isinstance(arn, str) and _AWS_MANAGED_POLICY.match(arn)
    ]
    for what, raw in _policy_documents(resource_type, props):
        doc, problems = document(raw, what)
        violations += problems
        if doc is not None:
            violations += _check_grants(what, doc)
    return violations


def _policy_documents(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, raw document) of each permissions policy the resource carries."""
    if resource_type in IAM_POLICY_TYPES:
        return [("policy", props.get("policy"))]
    if resource_type != ROLE:
        return []
    inline = props.get("inlinePolicies")
    if is_unknown(inline):
        return []
    documents: list[tuple[str, Any]] = []
    for index, entry in enumerate(as_list(inline)):
        name = get(entry, "name")
        label = f"inlinePolicies[{name if isinstance(name, str) and name else index}]"
        documents.append((label, get(entry, "policy")))
    return documents


def _check_grants(what: str, doc: Mapping[str, Any]) -> list[str]:
    violations: list[str] = []
    for label, statement in statements(doc):
        if not allows(statement):
            continue
        where = f"{what} {label}"
        if "NotAction" in statement:
            violations.append(
                f"{where}: Allow with NotAction grants every other action, iam:* and sts:* included; "
                "list the exact actions in Action"
            )
        actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str) and not is_unknown(a)]
        violations += [f"{where}: {problem}" for action in actions if (problem := _action_problem(action))]
        if any(a.lower() == "iam:getrole" for a in actions):
            resources = as_list(statement.get("Resource"))
            wild = [r for r in resources if isinstance(r, str) and not is_unknown(r) and has_wildcard(r)]
            if wild or "NotResource" in statement:
                violations.append(
                    f"{where}: iam:GetRole on {wild[0] if wild else 'NotResource'!r} lets the holder read every "
                    "role; set Resource to the exact bound role ARN(s)"
                )
    return violations


def _action_problem(action: str) -> str | None:
    """What is wrong with granting `action` on any resource, if anything."""
    service, _, name = action.lower().partition(":")
    if action == "*" or not name:
        return f"Action {action!r} grants every action; list the exact actions"
    if has_wildcard(service) or (service in _SENSITIVE_SERVICES and has_wildcard(name)):
        return (
            f"Action {action!r} is a wildcard over IAM/STS actions; list the exact "
            "actions (for Vault: iam:GetRole on the bound role ARNs)"
        )
    if name == "*":
        return f"Action {action!r} grants every action of {service}; list the exact actions"
    if service in _SENSITIVE_SERVICES and not _reads(service, name):
        return (
            f"Action {action!r} can escalate privileges (it changes IAM or hands out credentials), whatever its "
            "Resource; grant only IAM/STS reads (iam:Get…/List…, sts:GetCallerIdentity), e.g. iam:GetRole"
        )
    return None


_IAM_READS = ("get", "list", "simulate", "generate")
_STS_READS = ("getcalleridentity", "getaccesskeyinfo", "decodeauthorizationmessage")


def _reads(service: str, name: str) -> bool:
    """An IAM/STS action that only reads: IAM's Get/List/Simulate/Generate (reports) and STS's
    GetCallerIdentity, GetAccessKeyInfo, DecodeAuthorizationMessage. Every other one writes IAM
    or issues credentials (PassRole, Put/Attach…Policy, CreateAccessKey, AssumeRole…)."""
    return name.startswith(_IAM_READS) if service == "iam" else name in _STS_READS


def managed_policy_arns(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(property, ARN) of each managed policy an attachment or a role's `managedPolicyArns` attaches."""
    if resource_type == ROLE:
        field = "managedPolicyArns"
    elif resource_type in ATTACHMENTS:
        field = "policyArns" if resource_type.endswith("Exclusive") else "policyArn"
    else:
        return []
    value = props.get(field)
    return [] if is_unknown(value) else [(field, arn) for arn in as_list(value)]


# ---------------------------------------------------------------------------- irsa-role-policies


def check_irsa_role_policies(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """No managed policy (AWS or customer) is attached to an IRSA role of the stack, and the role
    annotated on Gloo's service accounts has no policy at all, inline included.

    Roles are matched by their `name`/`arn` outputs; a role not known yet (preview) is skipped.
    """
    gloo_arns = gloo_role_arns(resources)
    violations: list[str] = []
    for role in resources:
        if role.type != ROLE or not trusts_web_identity(role.props.get("assumeRolePolicy")):
            continue
        ids = {v for v in (role.props.get("name"), role.props.get("arn")) if isinstance(v, str) and known(v)}
        label = role.props["name"] if known(role.props.get("name")) else role.name
        for source, policy in _managed_attachments(role, ids, resources):
            violations.append(
                f"{source} attaches {policy} to the IRSA role {label!r}; the program's IRSA roles need no managed "
                "policy (Gloo's needs none, Vault's has only its inline iam:GetRole): remove the attachment"
            )
        if role.props.get("arn") in gloo_arns:
            violations += [
                f"{source} gives the Gloo IRSA role {label!r} a policy; Gloo's Vault login signs "
                "sts:GetCallerIdentity, which needs no permission: remove it"
                for source in _inline_policies(role, ids, resources)
            ]
    return violations


def _source(resource: StackResource) -> str:
    return f"{resource.type.rsplit(':', 1)[-1]} {resource.name!r}"


def _names(resource: StackResource, field: str | None, ids: set[str]) -> bool:
    """Whether `resource`'s `field` names one of the role's `ids` (its name or ARN)."""
    value = resource.props.get(field) if field else None
    return not is_unknown(value) and any(v in ids for v in as_list(value))


def _managed_attachments(
    role: StackResource, ids: set[str], resources: Sequence[StackResource]
) -> Iterator[tuple[str, str]]:
    """(attaching resource, policy) for every managed policy attached to the role."""
    attaching = [role, *(r for r in resources if r.type in ATTACHMENTS and _names(r, ATTACHMENTS[r.type], ids))]
    for resource in attaching:
        for _, arn in managed_policy_arns(resource.type, resource.props):
            yield _source(resource), (repr(arn) if known(arn) else "a managed policy")


def _inline_policies(role: StackResource, ids: set[str], resources: Sequence[StackResource]) -> Iterator[str]:
    """Each resource giving the role an inline policy: its own `inlinePolicies`, a RolePolicy, a
    RolePoliciesExclusive that lists policy names."""
    inline = role.props.get("inlinePolicies")
    if not is_unknown(inline) and any(get(entry, "policy") for entry in as_list(inline)):
        yield _source(role)
    for r in resources:
        if (r.type == ROLE_POLICY and _names(r, "role", ids)) or (
            r.type == ROLE_POLICIES_EXCLUSIVE and _names(r, "roleName", ids) and r.props.get("policyNames")
        ):
            yield _source(r)

"""`iam-no-wildcard-grants`: what the program's IAM policies allow.

The only permission the program grants is Vault's `iam:GetRole` on the roles it binds; a
wildcard over IAM or STS actions, or over every role, is how such a grant turns into an
account takeover.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import (
    IAM_POLICY_TYPES,
    ROLE,
    StackContext,
    allows,
    as_list,
    document,
    get,
    has_wildcard,
    is_unknown,
    statements,
)

_SENSITIVE_SERVICES = ("iam", "sts")


def check_iam_grants(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """No Allow statement of an IAM permissions policy grants `*`, a wildcard over `iam:`/`sts:`
    actions (`iam:*`, `sts:*`, `iam:Get*`...), uses NotAction, or grants `iam:GetRole` on a
    wildcard resource. Applies to managed, role, user and group policies and to a role's
    inline policies."""
    violations: list[str] = []
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
        for action in actions:
            service, _, name = action.lower().partition(":")
            if action == "*" or not name:
                violations.append(f"{where}: Action {action!r} grants every action; list the exact actions")
            elif has_wildcard(service) or (service in _SENSITIVE_SERVICES and has_wildcard(name)):
                violations.append(
                    f"{where}: Action {action!r} is a wildcard over IAM/STS actions; list the exact "
                    "actions (for Vault: iam:GetRole on the bound role ARNs)"
                )
        if any(a.lower() == "iam:getrole" for a in actions):
            resources = as_list(statement.get("Resource"))
            wild = [r for r in resources if isinstance(r, str) and not is_unknown(r) and has_wildcard(r)]
            if wild or "NotResource" in statement:
                violations.append(
                    f"{where}: iam:GetRole on {wild[0] if wild else 'NotResource'!r} lets the holder read every "
                    "role; set Resource to the exact bound role ARN(s)"
                )
    return violations

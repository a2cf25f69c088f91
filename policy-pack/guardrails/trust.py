"""`irsa-trust-policy`: who may assume the program's IAM roles.

An IRSA role is only as narrow as its trust policy: the OIDC provider, the audience and the
exact service-account subjects are what keep every other pod (and every other cluster) out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import ROLE, StackContext, allows, as_list, document, has_wildcard, is_unknown, statements

STS_AUDIENCE = "sts.amazonaws.com"
WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"

_OIDC_PROVIDER_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:oidc-provider/(.+)$")
_SERVICE_ACCOUNT_SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
)
_ACCOUNT_ROOT = re.compile(r"^(?:\d{12}|arn:aws(?:-cn|-us-gov)?:iam::\d{12}:root)$")


def check_trust_policy(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Every Allow statement of an IAM role's trust policy.

    Web-identity statements (a `Federated` principal, or the `sts:AssumeRoleWithWebIdentity`
    action) must be IRSA done right: one OIDC provider ARN, only that action, and `StringEquals`
    (no other operator) pinning `<issuer>:aud` to `sts.amazonaws.com` and `<issuer>:sub` to
    exact `system:serviceaccount:<namespace>:<name>` subjects, and all of a role's web-identity
    statements name that one provider: one cluster. Other statements (the role an external Vault
    in another account assumes) must name exact principals, not `*` nor a whole account, and
    exact actions; `NotPrincipal`/`NotAction` with Allow are refused everywhere.
    """
    if resource_type != ROLE:
        return []
    doc, problems = document(props.get("assumeRolePolicy"), "assumeRolePolicy")
    if doc is None:
        return problems
    violations: list[str] = []
    for label, statement in statements(doc):
        if allows(statement):
            violations += _check_statement(f"assumeRolePolicy {label}", statement)
    return violations + _check_one_issuer(doc)


def _check_one_issuer(doc: Mapping[str, Any]) -> list[str]:
    """A subject names a namespace and a service account, not a cluster: a role trusting two
    clusters' OIDC providers lets that service account of either cluster assume it."""
    issuers = trusted_issuers(doc)
    if len(issuers) < 2:
        return []
    return [
        f"assumeRolePolicy: trusts {len(issuers)} OIDC providers ({', '.join(issuers)}); a subject names a "
        "namespace and a service account, not a cluster, so that service account in each of those clusters "
        "can assume the role: trust the OIDC provider of the one cluster it serves (one role per cluster)"
    ]


def trusted_issuers(doc: Mapping[str, Any]) -> list[str]:
    """The OIDC issuers the web-identity Allow statements of a trust policy name, in order, once each."""
    issuers: dict[str, None] = {}
    for _, statement in statements(doc):
        principal = statement.get("Principal")
        if not _web_identity(statement) or not isinstance(principal, Mapping):
            continue
        for arn in as_list(principal.get("Federated")):
            match = _OIDC_PROVIDER_ARN.match(arn) if isinstance(arn, str) else None
            if match is not None:
                issuers[match.group(1)] = None
    return list(issuers)


def _check_statement(where: str, statement: Mapping[str, Any]) -> list[str]:
    violations: list[str] = []
    for negated in ("NotPrincipal", "NotAction"):
        if negated in statement:
            violations.append(
                f"{where}: Allow with {negated} trusts everything it does not list; "
                f"use {negated.removeprefix('Not')} with the exact values"
            )
    principal = statement.get("Principal")
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    if principal is None or is_unknown(principal):
        if principal is None and "NotPrincipal" not in statement:
            violations.append(f"{where}: has no Principal; name the OIDC provider or the exact principal")
        return violations
    if not isinstance(principal, Mapping):
        violations.append(
            f"{where}: Principal {principal!r} trusts anyone; name the cluster's OIDC provider "
            "(Federated) or the exact role/user ARN (AWS)"
        )
        return violations
    federated = as_list(principal.get("Federated"))
    if federated or any(a.lower() == WEB_IDENTITY_ACTION.lower() for a in actions):
        return violations + _check_web_identity(where, principal, federated, actions, statement.get("Condition"))
    return violations + _check_other_trust(where, principal, actions)


def _check_web_identity(
    where: str, principal: Mapping[str, Any], federated: list[Any], actions: list[str], condition: Any
) -> list[str]:
    violations: list[str] = []
    others = sorted(k for k in principal if k != "Federated")
    if others:
        violations.append(
            f"{where}: a web-identity statement trusts only Principal.Federated (the OIDC provider); "
            f"move {', '.join(others)} to a statement of its own"
        )
    if not federated:
        violations.append(
            f"{where}: {WEB_IDENTITY_ACTION} needs Principal.Federated set to the cluster's OIDC provider ARN "
            "(arn:aws:iam::<account>:oidc-provider/<issuer>)"
        )
    issuers: list[str] = []
    for arn in federated:
        if is_unknown(arn):
            continue
        match = _OIDC_PROVIDER_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            violations.append(
                f"{where}: Principal.Federated {arn!r} is not an IAM OIDC provider ARN; use the cluster's "
                "(arn:aws:iam::<account>:oidc-provider/<issuer>)"
            )
        else:
            issuers.append(match.group(1))
    if [a.lower() for a in actions] != [WEB_IDENTITY_ACTION.lower()]:
        violations.append(f"{where}: Action must be only {WEB_IDENTITY_ACTION} (got {actions!r})")
    return violations + _check_web_identity_condition(where, issuers, condition)


def _check_web_identity_condition(where: str, issuers: list[str], condition: Any) -> list[str]:
    """Only `StringEquals`, pinning each issuer's `aud` and `sub` claims to exact values."""
    if condition is None:
        return [
            f"{where}: has no Condition; add StringEquals on <issuer>:aud = {STS_AUDIENCE} and "
            "<issuer>:sub = the exact service account subjects"
        ]
    if is_unknown(condition):
        return []
    if not isinstance(condition, Mapping):
        return [f"{where}: Condition is not an object; use StringEquals on <issuer>:aud and :sub"]
    violations = [
        f"{where}: condition operator {operator} is not allowed; use StringEquals "
        "(…IfExists passes when the claim is absent, StringLike matches wildcards)"
        for operator in condition
        if operator != "StringEquals"
    ]
    equals = condition.get("StringEquals")
    if is_unknown(equals):
        return violations
    equals = equals if isinstance(equals, Mapping) else {}
    for issuer in issuers:
        aud = equals.get(f"{issuer}:aud")
        if aud is None:
            violations.append(f"{where}: add StringEquals {issuer}:aud = {STS_AUDIENCE}")
        elif not is_unknown(aud) and as_list(aud) != [STS_AUDIENCE]:
            violations.append(f"{where}: StringEquals {issuer}:aud must be exactly {STS_AUDIENCE} (got {aud!r})")
        violations += _check_subjects(where, issuer, equals.get(f"{issuer}:sub"))
    return violations


def _check_subjects(where: str, issuer: str, sub: Any) -> list[str]:
    if sub is None:
        return [
            f"{where}: add StringEquals {issuer}:sub = the exact subjects (system:serviceaccount:<namespace>:<name>)"
        ]
    if is_unknown(sub):
        return []
    subjects = as_list(sub)
    if not subjects:
        return [f"{where}: StringEquals {issuer}:sub lists no subject; list the service accounts"]
    return [
        f"{where}: subject {subject!r} is not one exact service account; write "
        "system:serviceaccount:<namespace>:<name>, without * or ?"
        for subject in subjects
        if not is_unknown(subject)
        and (not isinstance(subject, str) or has_wildcard(subject) or not _SERVICE_ACCOUNT_SUBJECT.match(subject))
    ]


def _check_other_trust(where: str, principal: Mapping[str, Any], actions: list[str]) -> list[str]:
    violations: list[str] = []
    for kind, values in principal.items():
        for value in as_list(values):
            if is_unknown(value) or not isinstance(value, str):
                continue
            if has_wildcard(value):
                violations.append(f"{where}: Principal.{kind} {value!r} has a wildcard; name the exact principal ARN")
            elif kind == "AWS" and _ACCOUNT_ROOT.match(value):
                violations.append(
                    f"{where}: Principal.AWS {value!r} trusts every principal of that account; "
                    "name the exact role or user ARN"
                )
    for action in actions:
        if has_wildcard(action):
            violations.append(f"{where}: Action {action!r} has a wildcard; name the exact action (sts:AssumeRole)")
    return violations


def _web_identity(statement: Mapping[str, Any]) -> bool:
    """An Allow statement for a web identity: a `Federated` principal or the web-identity action."""
    principal = statement.get("Principal")
    actions = [a.lower() for a in as_list(statement.get("Action")) if isinstance(a, str)]
    federated = isinstance(principal, Mapping) and "Federated" in principal
    return allows(statement) and (federated or WEB_IDENTITY_ACTION.lower() in actions)


def trusts_web_identity(assume_role_policy: Any) -> bool:
    """Whether a trust policy lets a web identity (IRSA: a Kubernetes service account) assume the role."""
    doc, _ = document(assume_role_policy, "assumeRolePolicy")
    return any(_web_identity(statement) for _, statement in statements(doc or {}))


def other_trust(assume_role_policy: Any) -> list[str]:
    """The Allow statements of a trust policy that are not a web identity's (an EC2 instance, a
    service, another principal): who may assume the role besides Kubernetes service accounts.
    Empty when the policy is not known yet."""
    if is_unknown(assume_role_policy):
        return []
    doc, _ = document(assume_role_policy, "assumeRolePolicy")
    return [label for label, statement in statements(doc or {}) if allows(statement) and not _web_identity(statement)]


def web_identity_subjects(assume_role_policy: Any) -> set[str] | None:
    """The `sub` values (service accounts) a trust policy's web-identity statements admit, under
    any condition operator; None when the policy or one of them is not known yet."""
    if is_unknown(assume_role_policy):
        return None
    doc, _ = document(assume_role_policy, "assumeRolePolicy")
    subjects: set[str] = set()
    for _, statement in statements(doc or {}):
        condition = statement.get("Condition") if _web_identity(statement) else {}
        if is_unknown(condition):
            return None
        for operator in condition.values() if isinstance(condition, Mapping) else ():
            if is_unknown(operator):
                return None
            for key, value in operator.items() if isinstance(operator, Mapping) else ():
                if not key.endswith(":sub"):
                    continue
                if is_unknown(value) or any(is_unknown(v) for v in as_list(value)):
                    return None
                subjects.update(v for v in as_list(value) if isinstance(v, str))
    return subjects

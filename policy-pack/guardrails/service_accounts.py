"""`irsa-subjects-annotated` (a stack policy): an IRSA role trusts exactly the service accounts
that run with it.

Any pod running as a trusted service account can assume the role (a projected token with the
`sts.amazonaws.com` audience is all it takes; the annotation only asks EKS to mount one). So
Gloo's role trusts exactly the service accounts the Gloo release annotates with it: `gloo`, and
`discovery` unless the values disable discovery, in the release's namespace. Any other IRSA role
annotated on `ServiceAccount` resources of the stack (where Vault's own is heading) trusts
exactly those. A side not known yet (preview) is not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .common import IRSA_ANNOTATION, ROLE, StackContext, StackResource, get, is_unknown, known, truthy
from .gloo_values import GLOO_SERVICE_ACCOUNTS, annotated_role, gloo_releases
from .trust import web_identity_subjects

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"

Annotated = dict[str, set[str] | None]
"""Role ARN → the subjects of the service accounts annotated with it; None: not known yet."""


def _add(annotated: Annotated, arn: str, subject: str | None) -> None:
    known_so_far = annotated.setdefault(arn, set())
    if known_so_far is not None:
        if subject is None:
            annotated[arn] = None
        else:
            known_so_far.add(subject)


def _subject(namespace: Any, name: Any) -> str | None:
    if isinstance(namespace, str) and known(namespace) and isinstance(name, str) and known(name):
        return f"system:serviceaccount:{namespace}:{name}"
    return None


def gloo_annotations(resources: Sequence[StackResource]) -> Annotated | None:
    """What the Gloo releases annotate; None when an annotated role ARN is not known yet."""
    annotated: Annotated = {}
    for release, root in gloo_releases(resources):
        for sa in GLOO_SERVICE_ACCOUNTS:
            arn = annotated_role(root, sa)
            if arn is None:
                continue
            if not isinstance(arn, str) or not known(arn):
                return None
            enabled = get(root, sa, "enabled") if sa == "discovery" else True
            if enabled is None or is_unknown(enabled) or truthy(enabled):
                subject = None if is_unknown(enabled) else _subject(release.props.get("namespace"), sa)
                _add(annotated, arn, subject)
    return annotated


def service_account_annotations(resources: Sequence[StackResource]) -> Annotated | None:
    """What the stack's ServiceAccount resources annotate; None when an annotation is not known yet."""
    annotated: Annotated = {}
    for sa in resources:
        if sa.type != SERVICE_ACCOUNT:
            continue
        metadata = sa.props.get("metadata")
        annotations = get(metadata, "annotations")
        if is_unknown(metadata) or is_unknown(annotations):
            return None
        arn = get(annotations, IRSA_ANNOTATION)
        if arn is None:
            continue
        if not isinstance(arn, str) or not known(arn):
            return None
        _add(annotated, arn, _subject(get(metadata, "namespace"), get(metadata, "name")))
    return annotated


def check_irsa_subjects(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Each IRSA role of the stack trusts exactly the service accounts annotated with it: for
    Gloo's role, the ones the Gloo release annotates; for another, the ServiceAccount resources."""
    gloo, others = gloo_annotations(resources), service_account_annotations(resources)
    if gloo is None or others is None:
        return []
    violations: list[str] = []
    for role in resources:
        arn = role.props.get("arn")
        if role.type != ROLE or not isinstance(arn, str) or arn not in gloo.keys() | others.keys():
            continue
        expected = gloo[arn] if arn in gloo else others[arn]
        trusted = web_identity_subjects(role.props.get("assumeRolePolicy"))
        if expected is not None and trusted is not None:
            violations += _compare(_label(role), expected, trusted, gloo_role=arn in gloo)
    return violations


def _label(role: StackResource) -> str:
    name = role.props.get("name")
    return name if isinstance(name, str) and known(name) else role.name


def _compare(label: str, expected: set[str], trusted: set[str], *, gloo_role: bool) -> list[str]:
    who = "the Gloo release annotates" if gloo_role else "the stack's ServiceAccounts annotate"
    fix = "glooServiceAccounts" if gloo_role else "the role's service accounts"
    listed = ", ".join(sorted(expected)) or "none"
    return [
        f"IRSA role {label!r} trusts {subject}, which is not one of the service accounts annotated with the "
        f"role ({who}: {listed}); any pod running as it can assume the role: remove it from {fix}"
        for subject in sorted(trusted - expected)
    ] + [
        f"{subject} is annotated with the IRSA role {label!r}, which does not trust it, so its logins fail: "
        f"add it to {fix}" + (" (or disable discovery)" if subject.endswith(":discovery") and gloo_role else "")
        for subject in sorted(expected - trusted)
    ]

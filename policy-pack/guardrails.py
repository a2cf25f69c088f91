"""The guardrails of gloo-vault-irsa as plain functions, testable without the Pulumi CLI.

Each resource check takes the resource's type token, its properties as the engine sends them
to a policy pack (camelCase names, secrets unwrapped, values not known during preview replaced
by `UNKNOWN` or left as the engine's sentinel strings) and the `StackContext`, and returns the
violations as messages that say what to change; an empty list means compliant. `check_stack`
does the same over every resource of the stack. `__main__.py` only wraps them as
`ResourceValidationPolicy`/`StackValidationPolicy`.

A value that is not known yet (a preview before the resource it comes from exists) is skipped:
the same check runs again during `pulumi up`, when it is known. The one exception is the
Vault chart's values in a production stack (see `check_vault_dev_mode`).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

PROJECT = "gloo-vault-irsa"
PACK_NAME = "gloo-vault-irsa-guardrails"

ROLE = "aws:iam/role:Role"
IAM_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_TYPES = (HELM_RELEASE, "kubernetes:helm.sh/v4:Chart")
VAULT_PROVIDER = "pulumi:providers:vault"
VAULT_AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
VAULT_MOUNT = "vault:index/mount:Mount"
VAULT_AWS_CLIENT = "vault:aws/authBackendClient:AuthBackendClient"
VAULT_AWS_ROLE = "vault:aws/authBackendRole:AuthBackendRole"

STS_AUDIENCE = "sts.amazonaws.com"
WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600
"""The longest `token_max_ttl` allowed for Gloo's Vault token: 7 days (168h).

Gloo 1.15.19+ renews its token and logs in again, so a short maximum costs nothing, while a
leaked token stays usable at most this long.
"""

# The sentinels the engine sends for values not known during preview; the same strings as
# pulumi_policy.proxy's UNKNOWN_*_VALUE (tests/test_policy_pack.py keeps them in step).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Unknown:
    """A value the engine does not know yet (the policy wrapper's stand-in for its sentinels)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return isinstance(value, _Unknown) or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


# ---------------------------------------------------------------------------- production

_PRODUCTION_STACK = re.compile(r"(?:^|[-_./])(?:prod|production)(?:$|[-_./])", re.IGNORECASE)


@dataclass(frozen=True)
class StackContext:
    """What the policy knows about the stack: its name and its `environment` config key."""

    stack: str = ""
    environment: str | None = None

    @property
    def production(self) -> bool:
        return is_production(self.stack, self.environment)


def is_production(stack: str, environment: str | None) -> bool:
    """A stack is production when `environment` is `production`, or its name has a `prod` or
    `production` part (`prod`, `eu-prod`, `production_2`; not `product`). Either one is enough:
    a stack named `prod` cannot opt out with `environment: development`."""
    return environment == "production" or bool(_PRODUCTION_STACK.search(stack))


# ---------------------------------------------------------------------------- helpers


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _get(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _document(value: Any, what: str) -> tuple[Mapping[str, Any] | None, list[str]]:
    """An IAM policy document given as a JSON string or an object; None when unknown or absent."""
    if value is None or is_unknown(value):
        return None, []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None, [f"{what} is not valid JSON: write it as a JSON policy document"]
    if not isinstance(value, Mapping):
        return None, [f"{what} is not a policy document object: give it a Version and Statement"]
    return value, []


def _statements(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, statement) for each statement object; the label is its Sid or its index."""
    for index, statement in enumerate(_as_list(document.get("Statement"))):
        if isinstance(statement, Mapping):
            sid = statement.get("Sid")
            yield (f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index}"), statement


def _allows(statement: Mapping[str, Any]) -> bool:
    effect = statement.get("Effect")
    return isinstance(effect, str) and effect.lower() == "allow"


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


# ---------------------------------------------------------------------------- irsa-trust-policy

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
    exact `system:serviceaccount:<namespace>:<name>` subjects. Other statements (the role an
    external Vault in another account assumes) must name exact principals, not `*` nor a whole
    account, and exact actions; `NotPrincipal`/`NotAction` with Allow are refused everywhere.
    """
    if resource_type != ROLE:
        return []
    document, problems = _document(props.get("assumeRolePolicy"), "assumeRolePolicy")
    if document is None:
        return problems
    violations: list[str] = []
    for label, statement in _statements(document):
        if not _allows(statement):
            continue
        where = f"assumeRolePolicy {label}"
        for negated in ("NotPrincipal", "NotAction"):
            if negated in statement:
                violations.append(
                    f"{where}: Allow with {negated} trusts everything it does not list; "
                    f"use {negated.removeprefix('Not')} with the exact values"
                )
        principal = statement.get("Principal")
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        if principal is None or is_unknown(principal):
            if principal is None and "NotPrincipal" not in statement:
                violations.append(f"{where}: has no Principal; name the OIDC provider or the exact principal")
            continue
        if not isinstance(principal, Mapping):
            violations.append(
                f"{where}: Principal {principal!r} trusts anyone; name the cluster's OIDC provider "
                "(Federated) or the exact role/user ARN (AWS)"
            )
            continue
        federated = _as_list(principal.get("Federated"))
        web_identity = bool(federated) or any(a.lower() == WEB_IDENTITY_ACTION.lower() for a in actions)
        if web_identity:
            violations += _check_web_identity(where, principal, federated, actions, statement.get("Condition"))
        else:
            violations += _check_other_trust(where, principal, actions)
    return violations


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
    issuers: list[str] = []
    if not federated:
        violations.append(
            f"{where}: {WEB_IDENTITY_ACTION} needs Principal.Federated set to the cluster's OIDC provider ARN "
            "(arn:aws:iam::<account>:oidc-provider/<issuer>)"
        )
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
    if condition is None or is_unknown(condition):
        if condition is None:
            violations.append(
                f"{where}: has no Condition; add StringEquals on <issuer>:aud = {STS_AUDIENCE} and "
                "<issuer>:sub = the exact service account subjects"
            )
        return violations
    if not isinstance(condition, Mapping):
        return [*violations, f"{where}: Condition is not an object; use StringEquals on <issuer>:aud and :sub"]
    for operator in condition:
        if operator != "StringEquals":
            violations.append(
                f"{where}: condition operator {operator} is not allowed; use StringEquals "
                "(…IfExists passes when the claim is absent, StringLike matches wildcards)"
            )
    equals = condition.get("StringEquals")
    if is_unknown(equals):
        return violations
    equals = equals if isinstance(equals, Mapping) else {}
    for issuer in issuers:
        aud = equals.get(f"{issuer}:aud")
        if aud is None:
            violations.append(f"{where}: add StringEquals {issuer}:aud = {STS_AUDIENCE}")
        elif not is_unknown(aud) and _as_list(aud) != [STS_AUDIENCE]:
            violations.append(f"{where}: StringEquals {issuer}:aud must be exactly {STS_AUDIENCE} (got {aud!r})")
        sub = equals.get(f"{issuer}:sub")
        if sub is None:
            violations.append(
                f"{where}: add StringEquals {issuer}:sub = the exact subjects "
                "(system:serviceaccount:<namespace>:<name>)"
            )
            continue
        if is_unknown(sub):
            continue
        subjects = _as_list(sub)
        if not subjects:
            violations.append(f"{where}: StringEquals {issuer}:sub lists no subject; list the service accounts")
        for subject in subjects:
            if is_unknown(subject):
                continue
            if not isinstance(subject, str) or _has_wildcard(subject) or not _SERVICE_ACCOUNT_SUBJECT.match(subject):
                violations.append(
                    f"{where}: subject {subject!r} is not one exact service account; write "
                    "system:serviceaccount:<namespace>:<name>, without * or ?"
                )
    return violations


def _check_other_trust(where: str, principal: Mapping[str, Any], actions: list[str]) -> list[str]:
    violations: list[str] = []
    for kind, values in principal.items():
        for value in _as_list(values):
            if is_unknown(value) or not isinstance(value, str):
                continue
            if _has_wildcard(value):
                violations.append(f"{where}: Principal.{kind} {value!r} has a wildcard; name the exact principal ARN")
            elif kind == "AWS" and _ACCOUNT_ROOT.match(value):
                violations.append(
                    f"{where}: Principal.AWS {value!r} trusts every principal of that account; "
                    "name the exact role or user ARN"
                )
    for action in actions:
        if _has_wildcard(action):
            violations.append(f"{where}: Action {action!r} has a wildcard; name the exact action (sts:AssumeRole)")
    return violations


# ---------------------------------------------------------------------------- iam-no-wildcard-grants

_SENSITIVE_SERVICES = ("iam", "sts")


def check_iam_grants(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """No Allow statement of an IAM permissions policy grants `*`, a wildcard over `iam:`/`sts:`
    actions (`iam:*`, `sts:*`, `iam:Get*`...), uses NotAction, or grants `iam:GetRole` on a
    wildcard resource. Applies to managed, role, user and group policies and to a role's
    inline policies."""
    documents: list[tuple[str, Any]] = []
    if resource_type in IAM_POLICY_TYPES:
        documents.append(("policy", props.get("policy")))
    elif resource_type == ROLE:
        inline = props.get("inlinePolicies")
        if not is_unknown(inline):
            for index, entry in enumerate(_as_list(inline)):
                name = _get(entry, "name")
                label = f"inlinePolicies[{name if isinstance(name, str) and name else index}]"
                documents.append((label, _get(entry, "policy")))
    violations: list[str] = []
    for what, raw in documents:
        document, problems = _document(raw, what)
        violations += problems
        if document is not None:
            violations += _check_grants(what, document)
    return violations


def _check_grants(what: str, document: Mapping[str, Any]) -> list[str]:
    violations: list[str] = []
    for label, statement in _statements(document):
        if not _allows(statement):
            continue
        where = f"{what} {label}"
        if "NotAction" in statement:
            violations.append(
                f"{where}: Allow with NotAction grants every other action, iam:* and sts:* included; "
                "list the exact actions in Action"
            )
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str) and not is_unknown(a)]
        for action in actions:
            service, _, name = action.lower().partition(":")
            if action == "*" or not name:
                violations.append(f"{where}: Action {action!r} grants every action; list the exact actions")
            elif _has_wildcard(service) or (service in _SENSITIVE_SERVICES and _has_wildcard(name)):
                violations.append(
                    f"{where}: Action {action!r} is a wildcard over IAM/STS actions; list the exact "
                    "actions (for Vault: iam:GetRole on the bound role ARNs)"
                )
        if any(a.lower() == "iam:getrole" for a in actions):
            resources = _as_list(statement.get("Resource"))
            wild = [r for r in resources if isinstance(r, str) and not is_unknown(r) and _has_wildcard(r)]
            if wild or "NotResource" in statement:
                violations.append(
                    f"{where}: iam:GetRole on {wild[0] if wild else 'NotResource'!r} lets the holder read every "
                    "role; set Resource to the exact bound role ARN(s)"
                )
    return violations


# ---------------------------------------------------------------------------- helm-chart-version-pinned

_EXACT_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def check_chart_pinned(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Every Helm release pins one exact chart version (`1.15.19`), never a range (`^1.15`,
    `~1.15.0`, `>=1.15`, `1.15.x`, `*`) nor nothing (the repository's latest)."""
    if resource_type not in HELM_TYPES:
        return []
    version = props.get("version")
    chart = props.get("chart")
    name = chart if isinstance(chart, str) and not is_unknown(chart) else "the chart"
    if is_unknown(version):
        return []
    if version is None or version == "":
        return [f"Helm chart {name}: set version to an exact chart version (none means the repository's latest)"]
    if not isinstance(version, str) or not _EXACT_SEMVER.match(version):
        return [f"Helm chart {name}: version {version!r} is not exact; pin one version such as 1.15.19, not a range"]
    return []


# ---------------------------------------------------------------------------- production Vault

_VAULT_CHART_REPO = "helm.releases.hashicorp.com"


def _is_vault_chart(props: Mapping[str, Any]) -> bool:
    chart = props.get("chart")
    if not isinstance(chart, str) or is_unknown(chart):
        return False
    return chart.rstrip("/").rsplit("/", 1)[-1] == "vault"


def check_vault_dev_mode(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, no release of the Vault chart runs dev mode (`server.dev.enabled`:
    in-memory storage, unsealed with a root token).

    Fails closed: when the release's values are not known yet (a first preview) a production
    stack is refused too, since this program installs the Vault chart only in dev mode
    (`vaultTopology: in-cluster-dev`)."""
    if resource_type != HELM_RELEASE or not context.production or not _is_vault_chart(props):
        return []
    fix = "use vaultTopology: external (a production Vault) for this stack"
    values = props.get("values")
    if is_unknown(values):
        return [
            f"production stack {context.stack!r}: the Vault chart's values are not known yet, so dev mode "
            f"cannot be ruled out; {fix}"
        ]
    dev = _get(values, "server", "dev", "enabled")
    if is_unknown(dev) or dev is True or (isinstance(dev, str) and dev.lower() == "true"):
        return [
            f"production stack {context.stack!r}: the Vault chart runs in dev mode (server.dev.enabled); "
            f"dev mode keeps secrets in memory and is unsealed with a root token: {fix}"
        ]
    return []


def is_local_or_in_cluster(host: str) -> bool:
    """Loopback (localhost, 127.0.0.0/8, ::1) or a cluster-internal service name (*.svc,
    *.svc.cluster.local, *.cluster.local): plain http there does not cross a network."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host.endswith((".svc", ".svc.cluster.local", ".cluster.local")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_vault_provider_tls(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack, the Vault provider (which sends the Vault token) uses https, or
    plain http only to a loopback or cluster-internal address, and never skips TLS verification."""
    if resource_type != VAULT_PROVIDER or not context.production:
        return []
    violations: list[str] = []
    address = props.get("address")
    if isinstance(address, str) and not is_unknown(address):
        parts = urlsplit(address)
        host = parts.hostname or ""
        if parts.scheme.lower() == "http" and not is_local_or_in_cluster(host):
            violations.append(
                f"production stack {context.stack!r}: the Vault provider sends its token over plain http to "
                f"{host!r}; set vaultProviderAddress (or vaultAddress) to an https:// address"
            )
    skip = props.get("skipTlsVerify")
    if skip is True or (isinstance(skip, str) and skip.lower() == "true"):
        violations.append(
            f"production stack {context.stack!r}: the Vault provider skips TLS verification; remove "
            "skip_tls_verify and give it the CA (ca_cert_file)"
        )
    return violations


# ---------------------------------------------------------------------------- vault-aws-auth-role-bounded


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def check_vault_aws_role(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Gloo's Vault aws auth role: `auth_type` is `iam`, `bound_iam_principal_arns` is a
    non-empty list of exact ARNs, `token_max_ttl` is set, above 0 and at most 7 days, and
    `token_ttl` (when set) does not exceed it."""
    if resource_type != VAULT_AWS_ROLE:
        return []
    violations: list[str] = []
    auth_type = props.get("authType")
    if not is_unknown(auth_type) and auth_type != "iam":
        violations.append(
            f"Vault aws auth role: auth_type is {auth_type!r}; set auth_type to 'iam' "
            "(IRSA logs in with a signed sts:GetCallerIdentity; 'ec2' trusts instance metadata)"
        )
    bound = props.get("boundIamPrincipalArns")
    if not is_unknown(bound):
        arns = _as_list(bound)
        if not arns:
            violations.append("Vault aws auth role: bound_iam_principal_arns is empty; bind the Gloo IRSA role's ARN")
        for arn in arns:
            if isinstance(arn, str) and not is_unknown(arn) and _has_wildcard(arn):
                violations.append(f"Vault aws auth role: bound ARN {arn!r} has a wildcard; bind the exact role ARN")
    limit = f"between 1 and {MAX_TOKEN_TTL_SECONDS} seconds (7 days; e.g. tokenMaxTtl: 24h)"
    max_ttl_raw = props.get("tokenMaxTtl")
    max_ttl = _seconds(max_ttl_raw)
    if not is_unknown(max_ttl_raw):
        if max_ttl is None or max_ttl <= 0:
            violations.append(f"Vault aws auth role: token_max_ttl is not set; set it {limit}")
        elif max_ttl > MAX_TOKEN_TTL_SECONDS:
            violations.append(f"Vault aws auth role: token_max_ttl is {max_ttl}s; set it {limit}")
    ttl = _seconds(props.get("tokenTtl"))
    if ttl is not None and max_ttl is not None and max_ttl > 0 and ttl > max_ttl:
        violations.append(
            f"Vault aws auth role: token_ttl ({ttl}s) exceeds token_max_ttl ({max_ttl}s); lower token_ttl"
        )
    return violations


# ---------------------------------------------------------------------------- gloo-vault-agreement


class StackResource(NamedTuple):
    """One resource of the stack as a stack policy sees it."""

    type: str
    name: str
    props: Mapping[str, Any]


_STS_HOST = re.compile(r"^sts(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")
_GLOBAL_STS_HOST = "sts.amazonaws.com"


def check_vault_aws_client(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """The aws auth client requires the IAM server ID header and verifies logins in one region.

    Without `iam_server_id_header_value` Vault accepts a GetCallerIdentity signed for any server,
    so a login captured by another Vault (or anything the Gloo role talks to) can be replayed
    here. And the STS endpoint must be in `sts_region`: Vault signs its STS calls for that region,
    and a regional endpoint refuses a signature scoped to another.
    """
    if resource_type != VAULT_AWS_CLIENT:
        return []
    where = "Vault aws auth client"
    violations: list[str] = []
    header = props.get("iamServerIdHeaderValue")
    if not is_unknown(header) and not header:
        violations.append(
            f"{where}: iam_server_id_header_value is empty, so a login signed for any other server is accepted; "
            "set iamServerIdHeader (Gloo sends it as X-Vault-AWS-IAM-Server-ID)"
        )
    endpoint, region = props.get("stsEndpoint"), props.get("stsRegion")
    if _known(endpoint) and endpoint:
        host = urlsplit(str(endpoint)).hostname or ""
        match = _STS_HOST.match(host)
        endpoint_region = match["region"] if match else ("us-east-1" if host == _GLOBAL_STS_HOST else None)
        if not _known(region) and not is_unknown(region):
            violations.append(
                f"{where}: sts_endpoint {endpoint!r} is set without sts_region; set both from the stack's region"
            )
        elif _known(region) and endpoint_region is not None and endpoint_region != region:
            violations.append(
                f"{where}: sts_endpoint {endpoint!r} is in {endpoint_region}, but sts_region is {region!r}; "
                "Vault's signatures would be refused: derive both from the stack's region"
            )
    return violations


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _path(value: Any) -> str | None:
    return value.strip("/") if isinstance(value, str) and not is_unknown(value) else None


def _gloo_roots(values: Any) -> list[Mapping[str, Any]]:
    """The value trees holding Gloo's settings: the values themselves (OSS), `gloo` (Enterprise)."""
    roots: list[Mapping[str, Any]] = []
    for root in (values, _get(values, "gloo")):
        if isinstance(root, Mapping) and "settings" in root:
            roots.append(root)
    return roots


def _vault_sources(root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sources = _get(root, "settings", "secretOptions", "sources")
    if not isinstance(sources, (list, tuple)):
        return []
    return [s["vault"] for s in sources if isinstance(s, Mapping) and isinstance(s.get("vault"), Mapping)]


def check_stack(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Gloo's Vault settings agree with the Vault resources of the same stack.

    For every Helm release whose values configure a Vault secret source with aws auth:
    `iamServerIdHeader` equals the aws auth client's `iam_server_id_header_value`, `mountPath`
    is the aws auth backend's path, `region` is the client's `sts_region`, `pathPrefix` is a kv
    mount's path, `vaultRole` is an aws auth role on that mount, and the IRSA role ARN annotated
    on Gloo's service accounts is among that role's bound ARNs. A side that is unknown (preview)
    or absent from the stack (Vault configured elsewhere) is not compared.
    """
    backends = [r for r in resources if r.type == VAULT_AUTH_BACKEND and r.props.get("type") == "aws"]
    clients = [r for r in resources if r.type == VAULT_AWS_CLIENT]
    roles = [r for r in resources if r.type == VAULT_AWS_ROLE]
    mounts = [r for r in resources if r.type == VAULT_MOUNT and r.props.get("type") in ("kv", "kv-v2")]
    violations: list[str] = []
    for release in resources:
        if release.type != HELM_RELEASE:
            continue
        for root in _gloo_roots(release.props.get("values")):
            annotated = [
                _get(root, sa, "serviceAccount", "extraAnnotations", IRSA_ANNOTATION) for sa in ("gloo", "discovery")
            ]
            for source in _vault_sources(root):
                violations += _check_source(
                    f"Gloo release {release.name!r}",
                    source,
                    [a for a in annotated if _known(a)],
                    backends,
                    clients,
                    roles,
                    mounts,
                )
    return violations


def _on_mount(items: list[StackResource], key: str, mount: str | None) -> list[StackResource]:
    """The items whose `key` (backend path) is `mount`; items whose backend is unknown match too."""
    return [r for r in items if mount is None or _path(r.props.get(key)) in (mount, None)]


def _check_source(
    where: str,
    source: Mapping[str, Any],
    annotated: list[Any],
    backends: list[StackResource],
    clients: list[StackResource],
    roles: list[StackResource],
    mounts: list[StackResource],
) -> list[str]:
    violations: list[str] = []
    aws = source.get("aws")
    prefix = "settings.secretOptions.sources[].vault"
    if isinstance(aws, Mapping):
        mount = _path(aws.get("mountPath"))
        paths = [p for p in (_path(b.props.get("path")) for b in backends) if p is not None]
        if mount is not None and paths and mount not in paths:
            violations.append(
                f"{where}: {prefix}.aws.mountPath {mount!r} is not the aws auth mount of this stack "
                f"({', '.join(map(repr, paths))}); set authMountPath once so both use it"
            )
        candidates = _on_mount(clients, "backend", mount)
        if len(candidates) == 1:
            client = candidates[0]
            header, want_header = aws.get("iamServerIdHeader"), client.props.get("iamServerIdHeaderValue")
            if _known(header) and _known(want_header) and header != want_header:
                violations.append(
                    f"{where}: {prefix}.aws.iamServerIdHeader {header!r} differs from the aws auth client's "
                    f"iam_server_id_header_value {want_header!r}; Vault refuses the login: set iamServerIdHeader "
                    "once so both use it"
                )
            region, want_region = aws.get("region"), client.props.get("stsRegion")
            if _known(region) and _known(want_region) and region != want_region:
                violations.append(
                    f"{where}: {prefix}.aws.region {region!r} differs from the aws auth client's sts_region "
                    f"{want_region!r}; Gloo signs for one region and Vault verifies another: set region once"
                )
        violations += _check_role(where, prefix, aws, mount, annotated, roles)
    path_prefix = _path(source.get("pathPrefix"))
    kv_paths = [p for p in (_path(m.props.get("path")) for m in mounts) if p is not None]
    if path_prefix is not None and kv_paths and path_prefix not in kv_paths:
        violations.append(
            f"{where}: {prefix}.pathPrefix {path_prefix!r} is not a kv mount of this stack "
            f"({', '.join(map(repr, kv_paths))}); set kvPath once so both use it"
        )
    return violations


def _check_role(
    where: str,
    prefix: str,
    aws: Mapping[str, Any],
    mount: str | None,
    annotated: list[Any],
    roles: list[StackResource],
) -> list[str]:
    on_mount = _on_mount(roles, "backend", mount)
    vault_role = aws.get("vaultRole")
    if _known(vault_role):
        named = [r for r in on_mount if r.props.get("role") == vault_role]
        if not named and on_mount and all(_known(r.props.get("role")) for r in on_mount):
            names = ", ".join(repr(r.props.get("role")) for r in on_mount)
            return [
                f"{where}: {prefix}.aws.vaultRole {vault_role!r} is not an aws auth role on that mount ({names}); "
                "use the Vault role's name output"
            ]
        on_mount = named or on_mount
    if len(on_mount) != 1:
        return []
    bound = on_mount[0].props.get("boundIamPrincipalArns")
    if not _known(bound) or not all(_known(arn) for arn in _as_list(bound)):
        return []
    return [
        f"{where}: the IRSA role {arn!r} annotated on Gloo's service accounts is not bound by the Vault role "
        f"(bound: {_as_list(bound)!r}); bind the Gloo role's ARN output"
        for arn in dict.fromkeys(annotated)
        if arn not in _as_list(bound)
    ]


# ---------------------------------------------------------------------------- the pack


ResourceCheck = Callable[[str, Mapping[str, Any], StackContext], list[str]]
StackCheck = Callable[[Sequence[StackResource], StackContext], list[str]]


@dataclass(frozen=True)
class ResourcePolicy:
    name: str
    description: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackPolicy:
    name: str
    description: str
    check: StackCheck


RESOURCE_POLICIES: tuple[ResourcePolicy, ...] = (
    ResourcePolicy(
        "irsa-trust-policy",
        "IRSA trust: one OIDC provider, only sts:AssumeRoleWithWebIdentity, StringEquals on aud and exact subs; "
        "other trust names exact principals and actions.",
        check_trust_policy,
    ),
    ResourcePolicy(
        "iam-no-wildcard-grants",
        "IAM policies allow no '*', no iam:/sts: wildcards, no NotAction, and no iam:GetRole on a wildcard resource.",
        check_iam_grants,
    ),
    ResourcePolicy(
        "helm-chart-version-pinned",
        "Helm releases pin one exact chart version.",
        check_chart_pinned,
    ),
    ResourcePolicy(
        "no-vault-dev-mode-in-production",
        "Production stacks run no Vault chart in dev mode.",
        check_vault_dev_mode,
    ),
    ResourcePolicy(
        "vault-provider-tls-in-production",
        "Production stacks reach Vault over https (plain http only to loopback/cluster-internal addresses).",
        check_vault_provider_tls,
    ),
    ResourcePolicy(
        "vault-aws-auth-client",
        "Gloo's Vault aws auth client requires the IAM server ID header and verifies in its STS endpoint's region.",
        check_vault_aws_client,
    ),
    ResourcePolicy(
        "vault-aws-auth-role-bounded",
        "Gloo's Vault aws auth role: auth_type iam, exact bound ARNs, token_max_ttl set and at most 7 days.",
        check_vault_aws_role,
    ),
)

STACK_POLICIES: tuple[StackPolicy, ...] = (
    StackPolicy(
        "gloo-vault-agreement",
        "Gloo's Vault settings (header, mount, region, kv path, role, IRSA role ARN) match the Vault resources.",
        check_stack,
    ),
)

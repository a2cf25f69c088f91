"""`vault-aws-auth-client`, `vault-aws-auth-role-bounded` and `gloo-vault-no-static-keys`: how
Vault verifies Gloo's logins and what a login gets, so that only Gloo's IRSA role logs in,
verified by AWS, for a bounded time, and no static AWS key stands in for IRSA on either side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .common import (
    HELM_TYPES,
    ROLE,
    VAULT_AWS_CLIENT,
    VAULT_AWS_ROLE,
    StackContext,
    StackResource,
    as_list,
    get,
    has_wildcard,
    is_unknown,
    known,
    seconds,
)
from .gloo_values import gloo_roots, vault_sources
from .service_accounts import gloo_annotations
from .trust import other_trust

MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600
"""The longest `token_max_ttl` allowed for Gloo's Vault token: 7 days (168h).

Gloo 1.15.19+ renews its token and logs in again, so a short maximum costs nothing, while a
leaked token stays usable at most this long.
"""

# ---------------------------------------------------------------------------- vault-aws-auth-client

_STS_HOST = re.compile(
    r"^sts(?P<fips>-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<domain>amazonaws\.com(?:\.cn)?)$"
)
_GLOBAL_STS_HOST = "sts.amazonaws.com"  # the aws partition's global endpoint, which signs as us-east-1
_IAM_HOSTS = {
    "iam.amazonaws.com": "aws",
    "iam-fips.amazonaws.com": "aws",
    "iam.us-gov.amazonaws.com": "aws-us-gov",
    "iam.cn-north-1.amazonaws.com.cn": "aws-cn",
}
"""IAM is global per partition: the one endpoint (and FIPS endpoint) of each."""


def partition(region: str) -> str:
    """The AWS partition a region belongs to: China and GovCloud have their own endpoints."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def sts_endpoint_region(host: str) -> str | None:
    """The region of an AWS STS endpoint host (regional, FIPS, the global one); None when `host`
    is not one: `sts.<region>.amazonaws.com` (`.amazonaws.com.cn` in China, which has no FIPS)."""
    if host == _GLOBAL_STS_HOST:
        return "us-east-1"
    match = _STS_HOST.match(host)
    if match is None:
        return None
    china = partition(match["region"]) == "aws-cn"
    if match["domain"] != ("amazonaws.com.cn" if china else "amazonaws.com") or (china and match["fips"]):
        return None
    return match["region"]


def check_vault_aws_client(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """The aws auth client requires the IAM server ID header and verifies logins with AWS, in one region.

    Without `iam_server_id_header_value` Vault accepts a GetCallerIdentity signed for any server,
    so a login captured by another Vault (or anything the Gloo role talks to) can be replayed
    here. Vault verifies a login by sending Gloo's signed request to `sts_endpoint`, and resolves
    roles at `iam_endpoint`: both must be AWS's own hosts over https, or whoever answers there
    decides who logs in. And the STS endpoint must be in `sts_region`: Vault signs its STS calls
    for that region, and a regional endpoint refuses a signature scoped to another.
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
    violations += [
        f"{where}: {name} is set, a static AWS key stored in Vault; remove it: Vault resolves roles with its own "
        "identity (its IRSA role, or the role or user it runs as), and IRSA exists so that no long-lived key is "
        "stored anywhere"
        for field, name in (("accessKey", "access_key"), ("secretKey", "secret_key"), ("secretKeyWo", "secret_key_wo"))
        if _set(props.get(field))
    ]
    endpoint, iam_endpoint, region = props.get("stsEndpoint"), props.get("iamEndpoint"), props.get("stsRegion")
    if known(endpoint) and endpoint:
        violations += _check_sts_endpoint(where, str(endpoint), region)
    if known(iam_endpoint) and iam_endpoint:
        violations += _check_iam_endpoint(where, str(iam_endpoint), region)
    return violations


def _check_sts_endpoint(where: str, endpoint: str, region: Any) -> list[str]:
    parts = urlsplit(endpoint)
    violations: list[str] = []
    if parts.scheme.lower() != "https":
        violations.append(
            f"{where}: sts_endpoint must be https (got {endpoint!r}); use https://sts.<region>.amazonaws.com"
        )
    endpoint_region = sts_endpoint_region(parts.hostname or "")
    if endpoint_region is None:
        return [
            *violations,
            f"{where}: sts_endpoint {endpoint!r} is not an AWS STS endpoint, and Vault trusts whoever answers there "
            "to verify Gloo's logins; use https://sts.<region>.amazonaws.com (sts-fips.…, or …amazonaws.com.cn "
            "in China) for the stack's region",
        ]
    if not known(region) and not is_unknown(region):
        violations.append(
            f"{where}: sts_endpoint {endpoint!r} is set without sts_region; set both from the stack's region"
        )
    elif known(region) and endpoint_region != region:
        violations.append(
            f"{where}: sts_endpoint {endpoint!r} is in {endpoint_region}, but sts_region is {region!r}; "
            "Vault's signatures would be refused: derive both from the stack's region"
        )
    return violations


def _check_iam_endpoint(where: str, endpoint: str, region: Any) -> list[str]:
    parts = urlsplit(endpoint)
    violations: list[str] = []
    if parts.scheme.lower() != "https":
        violations.append(f"{where}: iam_endpoint must be https (got {endpoint!r}); use https://iam.amazonaws.com")
    endpoint_partition = _IAM_HOSTS.get(parts.hostname or "")
    want = partition(region) if isinstance(region, str) and known(region) else endpoint_partition
    if endpoint_partition is None or endpoint_partition != want:
        violations.append(
            f"{where}: iam_endpoint {endpoint!r} is not an AWS IAM endpoint"
            + (f" of the {want} partition (sts_region {region!r})" if want else "")
            + "; Vault resolves the bound roles there: leave it unset or use "
            f"{' or '.join('https://' + h for h, p in _IAM_HOSTS.items() if want in (None, p))}"
        )
    return violations


# ---------------------------------------------------------------------------- vault-aws-auth-role-bounded


def check_vault_aws_role(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Gloo's Vault aws auth role: `auth_type` is `iam` without `inferred_entity_type`,
    `bound_iam_principal_arns` is exactly one exact ARN, `token_max_ttl` is set, above
    0 and at most 7 days, and `token_ttl` (when set) does not exceed it. A periodic token
    (`token_period`) has a period of at most 7 days and a `token_explicit_max_ttl` (at most 7
    days, whenever it is set)."""
    if resource_type != VAULT_AWS_ROLE:
        return []
    violations: list[str] = []
    auth_type = props.get("authType")
    if not is_unknown(auth_type) and auth_type != "iam":
        violations.append(
            f"Vault aws auth role: auth_type is {auth_type!r}; set auth_type to 'iam' "
            "(IRSA logs in with a signed sts:GetCallerIdentity; 'ec2' trusts instance metadata)"
        )
    violations += _check_bound(props.get("boundIamPrincipalArns"))
    inferred = props.get("inferredEntityType")
    if _set(inferred):
        violations.append(
            f"Vault aws auth role: inferred_entity_type is {inferred!r}; remove it (and inferred_aws_region): "
            "Vault would look the login up as an EC2 instance, which the assumed-role identity IRSA gives is not "
            "(hashicorp/vault#20021, #22324)"
        )
    return violations + _check_token_ttls(props)


def _check_bound(bound: Any) -> list[str]:
    """Exactly one exact principal: every principal bound logs in as the role, so a role bound to
    two clusters' Gloo roles lets each cluster's Gloo log in as the other's."""
    if is_unknown(bound):
        return []
    arns = as_list(bound)
    if not arns:
        return ["Vault aws auth role: bound_iam_principal_arns is empty; bind the Gloo IRSA role's ARN"]
    violations = [
        f"Vault aws auth role: bound ARN {arn!r} has a wildcard; bind the exact role ARN"
        for arn in arns
        if isinstance(arn, str) and not is_unknown(arn) and has_wildcard(arn)
    ]
    if len(arns) > 1:
        violations.append(
            f"Vault aws auth role: bound_iam_principal_arns binds {len(arns)} IAM principals; bind exactly one, the "
            "Gloo IRSA role of one cluster: each principal bound logs in as this role, so give each cluster's Gloo "
            "role a Vault role of its own"
        )
    return violations


def check_vault_role_principals(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """Each Vault aws auth role of the stack binds only IRSA roles of this stack that a Gloo
    release annotates on its service accounts, trusting web identities alone (and
    `irsa-subjects-annotated` holds that trust to exactly those service accounts).

    `_check_bound` sees one role and can only count ARNs: one exact ARN of an EKS node role passes
    it, and the stack rules compare what Gloo annotates, which may be nothing. Bound to anything
    but Gloo's IRSA role, Vault lets that principal log in as Gloo: a node role is held by every
    pod that reaches the instance metadata service. Skipped while an annotation is not known."""
    annotated = gloo_annotations(resources)
    if annotated is None:
        return []
    roles = {r.props["arn"]: r for r in resources if r.type == ROLE and isinstance(r.props.get("arn"), str)}
    violations: list[str] = []
    for vault_role in resources:
        bound = vault_role.props.get("boundIamPrincipalArns") if vault_role.type == VAULT_AWS_ROLE else None
        if bound is None or is_unknown(bound):
            continue
        where = f"Vault aws auth role {vault_role.name!r} binds"
        for arn in as_list(bound):
            if isinstance(arn, str) and known(arn) and not has_wildcard(arn):
                violations += _check_bound_role(where, arn, roles.get(arn), arn in annotated)
    return violations


def _check_bound_role(where: str, arn: str, role: StackResource | None, annotated: bool) -> list[str]:
    """One bound ARN: a role of the stack, annotated on Gloo's service accounts, trusting them alone."""
    fix = "bind the IRSA role the Gloo release annotates on its service accounts (its ARN output)"
    if role is None:
        return [
            f"{where} {arn!r}, which is not an IAM role of this stack; {fix}: any other principal (a node role: "
            "every pod that reaches the instance metadata service) logs in as Gloo and reads its secrets"
        ]
    name = role.props.get("name")
    label = repr(name if isinstance(name, str) and known(name) else role.name)
    if not annotated:
        return [
            f"{where} the IAM role {label}, which no Gloo release of this stack annotates on its service accounts; "
            f"{fix}: whoever holds that role logs in as Gloo and reads its secrets"
        ]
    others = other_trust(role.props.get("assumeRolePolicy"))
    if not others:
        return []
    return [
        f"{where} the IAM role {label}, whose trust admits more than Gloo's service accounts ({', '.join(others)} "
        "of its assumeRolePolicy); whoever assumes it that way (an instance profile: every pod on its node) "
        "logs in as Gloo: trust the cluster's OIDC provider alone"
    ]


def _check_token_ttls(props: Mapping[str, Any]) -> list[str]:
    violations: list[str] = []
    where = "Vault aws auth role"
    limit = f"between 1 and {MAX_TOKEN_TTL_SECONDS} seconds (7 days; e.g. tokenMaxTtl: 24h)"
    max_ttl_raw = props.get("tokenMaxTtl")
    max_ttl = seconds(max_ttl_raw)
    if not is_unknown(max_ttl_raw):
        if max_ttl is None or max_ttl <= 0:
            violations.append(f"{where}: token_max_ttl is not set; set it {limit}")
        elif max_ttl > MAX_TOKEN_TTL_SECONDS:
            violations.append(f"{where}: token_max_ttl is {max_ttl}s; set it {limit}")
    ttl = seconds(props.get("tokenTtl"))
    if ttl is not None and max_ttl is not None and max_ttl > 0 and ttl > max_ttl:
        violations.append(f"{where}: token_ttl ({ttl}s) exceeds token_max_ttl ({max_ttl}s); lower token_ttl")
    return violations + _check_token_period(where, props, limit)


def _check_token_period(where: str, props: Mapping[str, Any], limit: str) -> list[str]:
    """A periodic token ignores token_max_ttl and renews forever; only token_explicit_max_ttl ends it."""
    violations: list[str] = []
    period, explicit_raw = seconds(props.get("tokenPeriod")), props.get("tokenExplicitMaxTtl")
    explicit = seconds(explicit_raw)
    if period is not None and period > MAX_TOKEN_TTL_SECONDS:
        violations.append(
            f"{where}: token_period is {period}s; a periodic token renews forever, for that long each time: "
            f"drop token_period, or set it {limit} with token_explicit_max_ttl"
        )
    elif period and not is_unknown(explicit_raw) and not explicit:
        violations.append(
            f"{where}: token_period is set without token_explicit_max_ttl; a periodic token renews forever "
            f"(token_max_ttl does not apply to it): drop token_period, or set token_explicit_max_ttl {limit}"
        )
    if explicit is not None and explicit > MAX_TOKEN_TTL_SECONDS:
        violations.append(f"{where}: token_explicit_max_ttl is {explicit}s; set it {limit}")
    return violations


def _set(value: Any) -> bool:
    """Present: not None nor empty. A value not known yet is present too: setting it is the problem."""
    return value is not None and value != "" and value != []


# ---------------------------------------------------------------------------- gloo-vault-no-static-keys

_GLOO_KEYS = ("accessKeyId", "secretAccessKey", "sessionToken")


def check_gloo_vault_keys(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """Gloo logs in to Vault with its IRSA role: no Vault secret source of a Helm release (OSS,
    or Enterprise's `gloo:` nesting) carries static AWS keys (`aws.accessKeyId`,
    `aws.secretAccessKey`, `aws.sessionToken`)."""
    if resource_type not in HELM_TYPES:
        return []
    return [
        "settings.secretOptions.sources[].vault.aws: Gloo's Vault source carries static AWS keys "
        f"({', '.join(keys)}); remove them: Gloo signs its login with its IRSA role's credentials, and IRSA "
        "exists so that no long-lived key is stored anywhere (Gloo also errors when only one key is set)"
        for root in gloo_roots(props.get("values"))
        for source in vault_sources(root)
        if (keys := [k for k in _GLOO_KEYS if _set(get(source, "aws", k))])
    ]

"""The policy pack (policy-pack/), without the Pulumi CLI.

The checks in `guardrails.py` run on the program's real graph (tests/harness.py, with the real
Pulumi.dev.yaml and the other topologies), seen as the engine shows it to a policy pack:
inputs by their camelCase names, secrets unwrapped, values not known in a preview as the
engine's unknown sentinel. The real graph must pass; for every policy and every way to break
it, a twin of the real properties broken that one way must fail with that policy's message.
Then `__main__.py` is run with only `PolicyPack` replaced (the real one starts a gRPC server
and never returns): its policies are handed to pulumi_policy's own analyzer servicer, as the
server would, and fed the graph as analyzer requests, with the stack and its config given to
the policy process as the CLI gives them (PULUMI_STACK, PULUMI_CONFIG).
"""

from __future__ import annotations

import copy
import json
import re
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mypy.api
import pulumi
import pulumi_policy
import pulumi_policy.proxy
import pytest
import yaml
from pulumi.output import Unknown
from pulumi.runtime import config as pulumi_config
from pulumi.runtime.proto import analyzer_pb2

import guardrails
import pack
from components import config as config_module
from guardrails import StackContext, StackResource
from tests.harness import (
    ROOT,
    VARIANTS,
    ProgramRun,
    Registered,
    dev_config,
    mock_role_arn,
    run_program,
    run_program_failure,
)

PACK_DIR = ROOT / "policy-pack"
DEV = StackContext("dev")
PROD = StackContext("prod")
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # what the engine sends for an unknown value

# ---------------------------------------------------------------------------- the engine's view


def engine_view(value: Any) -> Any:
    """A harness input as the engine sends it to a policy pack: unknowns become the sentinel."""
    if isinstance(value, Unknown):
        return ENGINE_UNKNOWN
    if isinstance(value, dict):
        return {k: engine_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_view(v) for v in value]
    return value


def props(res: Registered) -> dict[str, Any]:
    view: dict[str, Any] = engine_view(res.inputs)
    return view


def stack_resources(run: ProgramRun) -> list[StackResource]:
    return [StackResource(r.type, r.name, props(r)) for r in run.resources if r.custom]


def all_violations(run: ProgramRun, context: StackContext) -> dict[str, list[str]]:
    """Every policy over every resource: {policy name: messages}."""
    found: dict[str, list[str]] = {}
    for policy in guardrails.RESOURCE_POLICIES:
        for res in run.resources:
            if res.custom:
                found.setdefault(policy.name, []).extend(policy.check(res.type, props(res), context))
    for stack_policy in guardrails.STACK_POLICIES:
        found[stack_policy.name] = stack_policy.check(stack_resources(run), context)
    return found


def real(run: ProgramRun, type_: str, name: str) -> dict[str, Any]:
    """A deep copy of a real resource's properties, to break."""
    return copy.deepcopy(props(run.one(type_, name)))


def only(violations: list[str], fragment: str) -> None:
    """The violations include one that says `fragment`."""
    assert violations, f"expected a violation mentioning {fragment!r}, got none"
    assert any(fragment in v for v in violations), (fragment, violations)


# ---------------------------------------------------------------------------- the real graph passes


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_real_graph_passes_every_policy(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all_violations(runs[variant], DEV) == {
        **{p.name: [] for p in guardrails.RESOURCE_POLICIES},
        **{p.name: [] for p in guardrails.STACK_POLICIES},
    }


def test_the_preview_graph_passes_every_policy(preview: ProgramRun) -> None:
    assert any(ENGINE_UNKNOWN in json.dumps(props(r)) for r in preview.resources), "the preview has unknowns"
    assert all(v == [] for v in all_violations(preview, DEV).values())


@pytest.mark.parametrize("variant", ["external-role", "cross-account"])
def test_an_external_vault_over_https_passes_in_production(runs: dict[str, ProgramRun], variant: str) -> None:
    assert all(v == [] for v in all_violations(runs[variant], PROD).values())


def test_the_policies_see_what_they_check(run: ProgramRun) -> None:
    """Guards against passing by looking at nothing: each checked type is in the graph, named as the
    checks expect."""
    types = {r.type for r in run.resources}
    assert {
        guardrails.ROLE,
        "aws:iam/rolePolicy:RolePolicy",
        guardrails.HELM_RELEASE,
        guardrails.VAULT_PROVIDER,
        guardrails.VAULT_AWS_ROLE,
        guardrails.VAULT_AWS_CLIENT,
        guardrails.VAULT_AUTH_BACKEND,
        guardrails.VAULT_MOUNT,
    } <= types
    role = props(run.one(guardrails.VAULT_AWS_ROLE))
    assert {"authType", "boundIamPrincipalArns", "tokenMaxTtl"} <= set(role)
    assert "assumeRolePolicy" in props(run.one(guardrails.ROLE, "gloo"))
    assert {"iamServerIdHeaderValue", "stsRegion", "backend"} <= set(props(run.one(guardrails.VAULT_AWS_CLIENT)))


# ---------------------------------------------------------------------------- production


@pytest.mark.parametrize(
    ("stack", "environment", "production"),
    [
        ("dev", None, False),
        ("dev", "development", False),
        ("staging", None, False),
        ("product", None, False),
        ("preprod", None, False),
        ("prod", None, True),
        ("production", None, True),
        ("PROD", None, True),
        ("eu-prod", None, True),
        ("prod-eu-west-1", None, True),
        ("team_production", None, True),
        ("dev", "production", True),
        ("prod", "development", True),
    ],
)
def test_production_is_the_stack_name_or_the_environment_key(
    stack: str, environment: str | None, production: bool
) -> None:
    assert StackContext(stack, environment).production is production


def test_the_dev_stack_runs_dev_vault_because_it_is_not_production(run: ProgramRun) -> None:
    release = props(run.one(guardrails.HELM_RELEASE, "vault"))
    assert release["values"]["server"]["dev"]["enabled"] is True
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, DEV) == []


@pytest.mark.parametrize("stack", ["prod", "production", "eu-prod"])
def test_the_same_graph_in_a_production_stack_fails_the_dev_mode_check(stack: str) -> None:
    run = run_program(stack=stack)
    found = all_violations(run, StackContext(stack))
    only(found["no-vault-dev-mode-in-production"], "runs in dev mode (server.dev.enabled)")
    assert [name for name, v in found.items() if v] == ["no-vault-dev-mode-in-production"]


def test_a_production_preview_fails_closed_on_the_vault_charts_unknown_values() -> None:
    preview = run_program(preview=True, stack="prod")
    release = props(preview.one(guardrails.HELM_RELEASE, "vault"))
    # The program's values are known in a preview now (issue 10: the service account's name, not
    # the role ARN, is in them); a chart whose values are not known yet is still refused.
    release["values"] = ENGINE_UNKNOWN
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode cannot be ruled out")
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, DEV) == []


def test_dev_mode_off_passes_in_production(run: ProgramRun) -> None:
    release = real(run, guardrails.HELM_RELEASE, "vault")
    release["values"]["server"]["dev"]["enabled"] = False
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD) == []
    release["values"]["server"]["dev"]["enabled"] = "true"  # as `--set server.dev.enabled=true` gives it
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode")
    release["chart"] = "hashicorp/vault"
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode")


def test_dev_mode_is_looked_for_in_the_vault_chart_only(run: ProgramRun) -> None:
    gloo = real(run, guardrails.HELM_RELEASE, "gloo")
    gloo["values"]["server"] = {"dev": {"enabled": True}}
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, gloo, PROD) == []


# ---------------------------------------------------------------------------- irsa-trust-policy

Doc = dict[str, Any]


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


# ---------------------------------------------------------------------------- iam-no-wildcard-grants


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


# ---------------------------------------------------------------------------- helm-chart-version-pinned


@pytest.mark.parametrize("release", ["gloo", "vault"])
@pytest.mark.parametrize("version", ["^1.15", "~1.15.0", ">=1.15.0", "1.15.x", "*", "1.15", "latest", "1.15.19 - 1.16"])
def test_a_chart_version_range_is_refused(run: ProgramRun, release: str, version: str) -> None:
    chart = real(run, guardrails.HELM_RELEASE, release)
    assert guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV) == []
    chart["version"] = version
    only(guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV), f"version {version!r} is not exact")


@pytest.mark.parametrize("missing", [None, ""])
def test_an_unpinned_chart_is_refused(run: ProgramRun, missing: str | None) -> None:
    chart = real(run, guardrails.HELM_RELEASE, "gloo")
    chart.pop("version")
    if missing is not None:
        chart["version"] = missing
    only(guardrails.check_chart_pinned(guardrails.HELM_RELEASE, chart, DEV), "Helm chart gloo: set version")


@pytest.mark.parametrize("version", ["1.15.19", "v1.17.0", "1.18.0-beta1", "0.29.1+build.5"])
def test_exact_chart_versions_pass(run: ProgramRun, version: str) -> None:
    chart = real(run, guardrails.HELM_RELEASE, "gloo")
    chart["version"] = version
    assert guardrails.check_chart_pinned("kubernetes:helm.sh/v4:Chart", chart, DEV) == []


# ---------------------------------------------------------------------------- vault-provider-tls-in-production


@pytest.mark.parametrize(
    "address",
    ["http://vault.example.com:8200", "http://10.0.0.5:8200", "http://vault-internal.vault:8200", "HTTP://vault.corp"],
)
def test_plain_http_to_vault_is_refused_in_production(runs: dict[str, ProgramRun], address: str) -> None:
    provider = real(runs["external-role"], guardrails.VAULT_PROVIDER, "vault")
    assert provider["address"] == "https://vault.example.com:8200"
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []
    provider["address"] = address
    only(guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD), "over plain http")
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, DEV) == []


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8200",
        "http://127.1.2.3:8200",
        "http://localhost:8200",
        "http://[::1]:8200",
        "http://vault.vault.svc:8200",
        "http://vault.vault.svc.cluster.local:8200",
    ],
)
def test_plain_http_to_loopback_or_in_cluster_is_allowed_in_production(run: ProgramRun, address: str) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider["address"] = address
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []


def test_the_api_server_proxy_is_https(run: ProgramRun) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    assert provider["address"].startswith("https://")
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []


def test_skipping_tls_verification_is_refused_in_production(run: ProgramRun) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider["skipTlsVerify"] = "true"  # provider inputs reach the engine as strings
    only(guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD), "skips TLS verification")


# ---------------------------------------------------------------------------- vault-aws-auth-client


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"iamServerIdHeaderValue": ""}, "iam_server_id_header_value is empty"),
        ({"iamServerIdHeaderValue": None}, "iam_server_id_header_value is empty"),
        ({"stsRegion": "eu-west-1"}, "is in us-east-1, but sts_region is 'eu-west-1'"),
        ({"stsEndpoint": "https://sts.eu-west-1.amazonaws.com"}, "is in eu-west-1, but sts_region is 'us-east-1'"),
        (
            {"stsEndpoint": "https://sts.amazonaws.com", "stsRegion": "eu-west-1"},
            "is in us-east-1, but sts_region is 'eu-west-1'",
        ),
        ({"stsRegion": None}, "is set without sts_region"),
    ],
)
def test_a_client_without_the_header_or_out_of_region_fails(
    run: ProgramRun, change: dict[str, Any], fragment: str
) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []
    client.update(change)
    only(guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV), fragment)


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("https://sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://sts.amazonaws.com", "us-east-1"),
        ("https://vpce-0abc-sts.us-east-1.vpce.amazonaws.com", "eu-west-1"),  # a VPC endpoint: not judged
        (ENGINE_UNKNOWN, ENGINE_UNKNOWN),
    ],
)
def test_a_client_in_its_region_passes(run: ProgramRun, endpoint: str, region: str) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    client.update(stsEndpoint=endpoint, stsRegion=region)
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []


# ---------------------------------------------------------------------------- vault-aws-auth-role-bounded

ROLE_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("ec2", {"authType": "ec2"}, "auth_type is 'ec2'"),
    ("no-auth-type", {"authType": None}, "auth_type is None"),
    ("empty-bound", {"boundIamPrincipalArns": []}, "bound_iam_principal_arns is empty"),
    ("no-bound", {"boundIamPrincipalArns": None}, "bound_iam_principal_arns is empty"),
    ("wildcard-bound", {"boundIamPrincipalArns": ["arn:aws:iam::123456789012:role/*"]}, "has a wildcard"),
    ("no-max-ttl", {"tokenMaxTtl": None}, "token_max_ttl is not set"),
    ("zero-max-ttl", {"tokenMaxTtl": 0}, "token_max_ttl is not set"),
    ("max-ttl-8-days", {"tokenMaxTtl": 8 * 86400.0}, "token_max_ttl is 691200s"),
    ("max-ttl-one-over", {"tokenMaxTtl": 604801}, "token_max_ttl is 604801s"),
    ("ttl-over-max", {"tokenTtl": 90000.0}, "token_ttl (90000s) exceeds token_max_ttl (86400s)"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), ROLE_BREAKS, ids=[c[0] for c in ROLE_BREAKS])
def test_a_loose_vault_aws_role_is_refused(run: ProgramRun, case: str, change: dict[str, Any], fragment: str) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []
    for key, value in change.items():
        if value is None:
            role.pop(key)
        else:
            role[key] = value
    only(guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV), fragment)


@pytest.mark.parametrize("ttl", [1, 3600, 604800])
def test_a_max_ttl_up_to_7_days_passes(run: ProgramRun, ttl: int) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    role.update(tokenMaxTtl=float(ttl), tokenTtl=float(ttl))
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


def test_the_config_maximum_ttl_is_the_policy_maximum() -> None:
    """The program refuses what the pack would refuse, so no stack builds a role the pack stops."""
    assert config_module.MAX_TOKEN_TTL_SECONDS == guardrails.MAX_TOKEN_TTL_SECONDS
    role = props(run_program({**dev_config(), "tokenMaxTtl": "168h"}).one(guardrails.VAULT_AWS_ROLE))
    assert role["tokenMaxTtl"] == guardrails.MAX_TOKEN_TTL_SECONDS
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []
    failed = run_program_failure({**dev_config(), "tokenMaxTtl": "169h"})
    assert isinstance(failed.error, config_module.ConfigError)
    assert failed.error.key == "tokenMaxTtl"


def test_the_preview_role_with_unknown_arns_passes(preview: ProgramRun) -> None:
    role = props(preview.one(guardrails.VAULT_AWS_ROLE))
    assert role["boundIamPrincipalArns"] == [ENGINE_UNKNOWN]
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


# ---------------------------------------------------------------------------- gloo-vault-agreement

Resources = list[StackResource]


def replace(resources: Resources, type_: str, change: Callable[[dict[str, Any]], None]) -> Resources:
    """The resources with the one of `type_` changed (on a copy)."""
    out: Resources = []
    found = 0
    for r in resources:
        if r.type == type_ and (type_ != guardrails.HELM_RELEASE or r.name == "gloo"):
            p = copy.deepcopy(dict(r.props))
            change(p)
            r = StackResource(r.type, r.name, p)
            found += 1
        out.append(r)
    assert found == 1, (type_, found)
    return out


def gloo_root(values: dict[str, Any]) -> dict[str, Any]:
    """Gloo's settings: the values themselves (OSS), or under `gloo` (Enterprise)."""
    root: dict[str, Any] = values["gloo"] if "license_key" in values else values
    return root


def vault_source(values: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = gloo_root(values)["settings"]["secretOptions"]["sources"][0]["vault"]
    return source


def gloo_aws(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda p: change(vault_source(p["values"])["aws"])


OTHER_ROLE = mock_role_arn("someone-else")

STACK_BREAKS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    (
        "header-mismatch",
        guardrails.VAULT_AWS_CLIENT,
        lambda p: p.update(iamServerIdHeaderValue="vault.other.example.com"),
        "iamServerIdHeader 'vault.gloo.example.com' differs",
    ),
    (
        "gloo-header-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(iamServerIdHeader="vault.typo.example.com")),
        "iamServerIdHeader 'vault.typo.example.com' differs",
    ),
    (
        "mount-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(mountPath="aws-eks")),
        "mountPath 'aws-eks' is not the aws auth mount",
    ),
    (
        "backend-moved",
        guardrails.VAULT_AUTH_BACKEND,
        lambda p: p.update(path="aws2"),
        "mountPath 'aws' is not the aws auth mount of this stack ('aws2')",
    ),
    (
        "region-mismatch",
        guardrails.VAULT_AWS_CLIENT,
        lambda p: p.update(stsRegion="eu-west-1"),
        "region 'us-east-1' differs from the aws auth client's sts_region 'eu-west-1'",
    ),
    (
        "gloo-region-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(region="us-west-2")),
        "region 'us-west-2' differs",
    ),
    (
        "kv-mismatch",
        guardrails.VAULT_MOUNT,
        lambda p: p.update(path="secrets"),
        "pathPrefix 'dev' is not a kv mount of this stack ('secrets')",
    ),
    (
        "gloo-kv-mismatch",
        guardrails.HELM_RELEASE,
        lambda p: vault_source(p["values"]).update(pathPrefix="prod"),
        "pathPrefix 'prod' is not a kv mount",
    ),
    (
        "vault-role-mismatch",
        guardrails.HELM_RELEASE,
        gloo_aws(lambda a: a.update(vaultRole="gloo")),
        "vaultRole 'gloo' is not an aws auth role on that mount",
    ),
    (
        "annotation-not-bound",
        guardrails.VAULT_AWS_ROLE,
        lambda p: p.update(boundIamPrincipalArns=[OTHER_ROLE]),
        "is not bound by the Vault role",
    ),
    (
        "gloo-annotation-other-role",
        guardrails.HELM_RELEASE,
        lambda p: gloo_root(p["values"])["gloo"]["serviceAccount"]["extraAnnotations"].update(
            {"eks.amazonaws.com/role-arn": OTHER_ROLE}
        ),
        f"the IRSA role {OTHER_ROLE!r} annotated on Gloo's service accounts is not bound",
    ),
]


@pytest.mark.parametrize(("case", "type_", "change", "fragment"), STACK_BREAKS, ids=[c[0] for c in STACK_BREAKS])
@pytest.mark.parametrize("variant", ["dev", "enterprise"])
def test_gloo_and_vault_disagreeing_is_refused(
    runs: dict[str, ProgramRun],
    variant: str,
    case: str,
    type_: str,
    change: Callable[[dict[str, Any]], None],
    fragment: str,
) -> None:
    resources = stack_resources(runs[variant])
    assert guardrails.check_stack(resources, DEV) == []
    only(guardrails.check_stack(replace(resources, type_, change), DEV), fragment)


def test_unknown_sides_are_not_compared(preview: ProgramRun, run: ProgramRun) -> None:
    resources = stack_resources(preview)
    gloo = next(r for r in resources if r.name == "gloo" and r.type == guardrails.HELM_RELEASE)
    assert gloo.props["values"] == ENGINE_UNKNOWN
    assert guardrails.check_stack(resources, DEV) == []
    # Known Gloo values against a client whose header is not known yet: nothing to compare.
    unknown_header = replace(
        stack_resources(run), guardrails.VAULT_AWS_CLIENT, lambda p: p.update(iamServerIdHeaderValue=ENGINE_UNKNOWN)
    )
    assert guardrails.check_stack(unknown_header, DEV) == []


def test_a_gloo_release_without_vault_resources_in_the_stack_is_not_compared(run: ProgramRun) -> None:
    only_gloo = [r for r in stack_resources(run) if r.type == guardrails.HELM_RELEASE]
    assert guardrails.check_stack(only_gloo, DEV) == []


# ---------------------------------------------------------------------------- the pack as the CLI runs it


class CapturedPack:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, name: str, policies: list[pulumi_policy.Policy], **kwargs: Any) -> None:
        self.calls.append({"name": name, "policies": policies, **kwargs})


@pytest.fixture(scope="module")
def pack_call() -> dict[str, Any]:
    """Runs policy-pack/ as `python -m pulumi.policy` does (runpy on the folder), with only
    `PolicyPack` replaced: the real one serves gRPC and never returns."""
    captured = CapturedPack()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pulumi_policy, "PolicyPack", captured)
        runpy.run_path(str(PACK_DIR), run_name="__main__")
    [call] = captured.calls
    return call


def test_the_pack_is_mandatory_and_holds_every_check(pack_call: dict[str, Any]) -> None:
    assert pack_call["name"] == "gloo-vault-irsa-guardrails"
    assert pack_call["enforcement_level"] is pulumi_policy.EnforcementLevel.MANDATORY
    policies = pack_call["policies"]
    assert [(type(p).__name__, p.name) for p in policies] == [
        ("ResourceValidationPolicy", "irsa-trust-policy"),
        ("ResourceValidationPolicy", "iam-no-wildcard-grants"),
        ("ResourceValidationPolicy", "helm-chart-version-pinned"),
        ("ResourceValidationPolicy", "no-vault-dev-mode-in-production"),
        ("ResourceValidationPolicy", "vault-provider-tls-in-production"),
        ("ResourceValidationPolicy", "vault-aws-auth-client"),
        ("ResourceValidationPolicy", "vault-aws-auth-role-bounded"),
        ("StackValidationPolicy", "gloo-vault-agreement"),
    ]
    assert all(p.enforcement_level is None for p in policies)  # the pack's MANDATORY applies to each


def analyze(pack_call: dict[str, Any], run: ProgramRun) -> list[tuple[str, str]]:
    """The pack's policies behind pulumi_policy's own servicer, as PolicyPack sets it up, fed one
    AnalyzeRequest per resource and one AnalyzeStack: (policy name, message) per violation."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer(
        pack_call["name"], "0.0.1", pack_call["policies"], pack_call["enforcement_level"]
    )
    found: list[tuple[str, str]] = []
    stack = analyzer_pb2.AnalyzeStackRequest()
    for res in run.resources:
        if not res.custom:
            continue
        request = analyzer_pb2.AnalyzeRequest(type=res.type, urn=res.urn, name=res.name)
        request.properties.update(props(res))
        response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]  # pulumi_policy leaves it unannotated
        found += [(d.policyName, d.message) for d in response.diagnostics]
        resource = stack.resources.add(type=res.type, urn=res.urn, name=res.name)
        resource.properties.update(props(res))
    response = servicer.AnalyzeStack(stack, None)  # type: ignore[no-untyped-call]
    found += [(d.policyName, d.message) for d in response.diagnostics]
    for _, message in found:
        assert "can't run policy" not in message, message  # an unknown value escaped the wrapper
    return found


@pytest.fixture
def policy_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, dict[str, str]], None]]:
    """Gives the policy process its stack and config as the CLI does (PULUMI_STACK, PULUMI_CONFIG)."""
    saved = dict(pulumi_config.CONFIG.get())

    def configure(stack: str, config: dict[str, str]) -> None:
        monkeypatch.setenv("PULUMI_PROJECT", "gloo-vault-irsa")
        monkeypatch.setenv("PULUMI_STACK", stack)
        monkeypatch.setenv("PULUMI_DRY_RUN", "true")
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
        pulumi.runtime.set_all_config({})

    yield configure
    pulumi.runtime.set_all_config(saved)


def test_the_pack_passes_the_dev_stack(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {"gloo-vault-irsa:environment": "development"})
    assert analyze(pack_call, runs["dev"]) == []
    assert pulumi.get_stack() == "dev"


def test_the_pack_passes_a_preview(
    pack_call: dict[str, Any], preview: ProgramRun, policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {})
    assert analyze(pack_call, preview) == []


@pytest.mark.parametrize(
    ("stack", "config"),
    [("prod", {}), ("dev", {"gloo-vault-irsa:environment": "production"})],
    ids=["stack-name", "environment-key"],
)
def test_the_pack_refuses_dev_vault_in_production(
    pack_call: dict[str, Any],
    runs: dict[str, ProgramRun],
    policy_process: Callable[[str, dict[str, str]], None],
    stack: str,
    config: dict[str, str],
) -> None:
    policy_process(stack, config)
    found = analyze(pack_call, runs["dev"])
    assert [name for name, _ in found] == ["no-vault-dev-mode-in-production"]
    assert "runs in dev mode" in found[0][1]


def test_the_pack_reports_each_broken_layer(
    pack_call: dict[str, Any], runs: dict[str, ProgramRun], policy_process: Callable[[str, dict[str, str]], None]
) -> None:
    policy_process("dev", {})
    run = copy.deepcopy(runs["dev"])
    for res in run.resources:
        if res.type == guardrails.VAULT_AWS_ROLE:
            res.raw_inputs["tokenMaxTtl"] = 30 * 86400
        if res.type == guardrails.VAULT_AWS_CLIENT:
            res.raw_inputs["stsRegion"] = "eu-west-1"
        if res.type == guardrails.HELM_RELEASE and res.name == "gloo":
            res.raw_inputs["version"] = "^1.15"
    assert sorted(name for name, _ in analyze(pack_call, run)) == [
        "gloo-vault-agreement",
        "helm-chart-version-pinned",
        "vault-aws-auth-client",
        "vault-aws-auth-role-bounded",
    ]


def test_plain_maps_the_engines_unknowns() -> None:
    proxied = pulumi_policy.proxy.unknown_checking_proxy(
        {"a": ENGINE_UNKNOWN, "b": [1, "3eeb2bf0-c639-47a8-9e75-3b44932eb421"], "c": {"d": "x"}}
    )
    assert pack.plain(proxied) == {"a": guardrails.UNKNOWN, "b": [1, guardrails.UNKNOWN], "c": {"d": "x"}}


def test_the_unknown_sentinels_are_pulumi_policys() -> None:
    names = [n for n in dir(pulumi_policy.proxy) if re.fullmatch(r"UNKNOWN_[A-Z]+_VALUE", n)]
    assert len(names) == 7
    assert {getattr(pulumi_policy.proxy, n) for n in names} == guardrails.UNKNOWN_SENTINELS


def test_the_pack_entry_point_type_checks_strict() -> None:
    """mypy cannot hold two `__main__` modules in one run; the pack's is checked on its own."""
    out, err, status = mypy.api.run(["--config-file", str(ROOT / "pyproject.toml"), str(PACK_DIR / "__main__.py")])
    assert status == 0, out + err


# ---------------------------------------------------------------------------- the pack's files


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def test_the_pack_pins_the_projects_versions() -> None:
    project = {**pins(ROOT / "requirements.txt"), **pins(ROOT / "requirements-dev.txt")}
    pack = pins(PACK_DIR / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy"}
    assert pack == {name: project[name] for name in pack}


def test_pulumi_policy_yaml_runs_python_in_its_own_virtualenv() -> None:
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"]["virtualenv"] == "venv"
    assert "policy-pack/venv/" in (ROOT / ".gitignore").read_text().splitlines()

"""`vault-aws-auth-client` and `vault-aws-auth-role-bounded` (guardrails/vault.py): the real client
and role pass; a twin broken in each way fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import guardrails
from components.config import checks as config_checks
from guardrails import StackContext
from guardrails.gloo_values import GLOO_SERVICE_ACCOUNTS, gloo_role_arns
from tests.harness import (
    ACCOUNT_ID,
    FLEET,
    VARIANTS,
    ProgramRun,
    dev_config,
    mock_role_arn,
    run_program,
    run_program_failure,
)
from tests.policy_pack.engine import (
    DEV,
    ENGINE_UNKNOWN,
    Resources,
    gloo_root,
    only,
    pack_violations,
    props,
    real,
    refused_when_changed,
    replace,
    stack_resources,
    vault_source,
)

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


STS_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    ("attacker-host", {"stsEndpoint": "https://sts.attacker.example.net"}, "is not an AWS STS endpoint"),
    (
        "look-alike-suffix",
        {"stsEndpoint": "http://sts.us-east-1.amazonaws.com.attacker.net"},
        "is not an AWS STS endpoint",
    ),
    ("userinfo", {"stsEndpoint": "https://sts.us-east-1.amazonaws.com@attacker.net"}, "is not an AWS STS endpoint"),
    ("plain-http", {"stsEndpoint": "http://sts.us-east-1.amazonaws.com"}, "sts_endpoint must be https"),
    ("china-host-for-aws", {"stsEndpoint": "https://sts.us-east-1.amazonaws.com.cn"}, "is not an AWS STS endpoint"),
    (
        "vpc-endpoint",
        {"stsEndpoint": "https://vpce-0abc-sts.us-east-1.vpce.amazonaws.com"},
        "is not an AWS STS endpoint",
    ),
    ("iam-attacker-host", {"iamEndpoint": "https://iam.attacker.example.net"}, "is not an AWS IAM endpoint"),
    ("iam-plain-http", {"iamEndpoint": "http://iam.amazonaws.com"}, "iam_endpoint must be https"),
    ("iam-gov-for-aws", {"iamEndpoint": "https://iam.us-gov.amazonaws.com"}, "is not an AWS IAM endpoint"),
    ("iam-china-for-aws", {"iamEndpoint": "https://iam.cn-north-1.amazonaws.com.cn"}, "is not an AWS IAM endpoint"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), STS_BREAKS, ids=[c[0] for c in STS_BREAKS])
def test_a_client_verifying_logins_elsewhere_is_refused(
    run: ProgramRun, case: str, change: dict[str, Any], fragment: str
) -> None:
    """Vault verifies Gloo's signed GetCallerIdentity with the host it is given: only AWS's own."""
    refused_when_changed(run, guardrails.VAULT_AWS_CLIENT, "gloo", change, fragment)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"stsEndpoint": "https://sts.cn-north-1.amazonaws.com"}, "is not an AWS STS endpoint"),
        ({"stsEndpoint": "https://sts-fips.cn-north-1.amazonaws.com.cn"}, "is not an AWS STS endpoint"),
        ({"stsEndpoint": "https://sts.amazonaws.com"}, "is in us-east-1, but sts_region is 'cn-north-1'"),
        ({"iamEndpoint": "https://iam.amazonaws.com"}, "is not an AWS IAM endpoint"),
        ({"iamEndpoint": "https://iam.us-gov.amazonaws.com"}, "is not an AWS IAM endpoint"),
    ],
)
def test_a_client_in_china_verifies_with_chinas_endpoints(
    run: ProgramRun, change: dict[str, Any], fragment: str
) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    client.update(stsEndpoint="https://sts.cn-north-1.amazonaws.com.cn", stsRegion="cn-north-1")
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []
    client.update(change)
    only(guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV), fragment)


@pytest.mark.parametrize(
    ("iam_endpoint", "region"),
    [
        ("https://iam.amazonaws.com", "us-east-1"),
        ("https://iam-fips.amazonaws.com", "eu-west-1"),
        ("https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
        ("https://iam.cn-north-1.amazonaws.com.cn", "cn-northwest-1"),
    ],
)
def test_an_iam_endpoint_of_the_regions_partition_passes(run: ProgramRun, iam_endpoint: str, region: str) -> None:
    client = real(run, guardrails.VAULT_AWS_CLIENT, "gloo")
    client.update(iamEndpoint=iam_endpoint, stsEndpoint=f"https://sts.{region}.amazonaws.com", stsRegion=region)
    if region.startswith("cn-"):
        client["stsEndpoint"] += ".cn"
    assert guardrails.check_vault_aws_client(guardrails.VAULT_AWS_CLIENT, client, DEV) == []


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("https://sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://sts.amazonaws.com", "us-east-1"),
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
    ("two-bound", {"boundIamPrincipalArns": [mock_role_arn("a"), mock_role_arn("b")]}, "binds 2 IAM principals"),
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


PERIOD_BREAKS: list[tuple[str, dict[str, Any], str]] = [
    (
        "period-a-year",
        {"tokenMaxTtl": 3600, "tokenPeriod": 31536000},
        "token_period is 31536000s; a periodic token renews forever",
    ),
    ("period-one-over", {"tokenPeriod": 604801, "tokenExplicitMaxTtl": 3600}, "token_period is 604801s"),
    ("period-without-explicit-max", {"tokenPeriod": 3600}, "a periodic token renews forever"),
    ("explicit-max-a-year", {"tokenExplicitMaxTtl": 31536000}, "token_explicit_max_ttl is 31536000s"),
    ("explicit-max-as-string", {"tokenExplicitMaxTtl": "604801"}, "token_explicit_max_ttl is 604801s"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), PERIOD_BREAKS, ids=[c[0] for c in PERIOD_BREAKS])
def test_a_token_that_outlives_the_bound_is_refused(
    run: ProgramRun, case: str, change: dict[str, Any], fragment: str
) -> None:
    """token_max_ttl does not bound a periodic token (it renews forever); token_explicit_max_ttl does."""
    refused_when_changed(run, guardrails.VAULT_AWS_ROLE, "gloo", change, fragment)


def test_a_periodic_token_with_an_explicit_bound_passes(run: ProgramRun) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    role.update(tokenPeriod=3600, tokenExplicitMaxTtl=float(guardrails.MAX_TOKEN_TTL_SECONDS))
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


@pytest.mark.parametrize("ttl", [1, 3600, 604800])
def test_a_max_ttl_up_to_7_days_passes(run: ProgramRun, ttl: int) -> None:
    role = real(run, guardrails.VAULT_AWS_ROLE, "gloo")
    role.update(tokenMaxTtl=float(ttl), tokenTtl=float(ttl))
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


def test_the_config_maximum_ttl_is_the_policy_maximum() -> None:
    """The program refuses what the pack would refuse, so no stack builds a role the pack stops."""
    assert config_checks.MAX_TOKEN_TTL_SECONDS == guardrails.MAX_TOKEN_TTL_SECONDS
    role = props(run_program({**dev_config(), "tokenMaxTtl": "168h"}).one(guardrails.VAULT_AWS_ROLE))
    assert role["tokenMaxTtl"] == guardrails.MAX_TOKEN_TTL_SECONDS
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []
    failed = run_program_failure({**dev_config(), "tokenMaxTtl": "169h"})
    assert isinstance(failed.error, config_checks.ConfigError)
    assert failed.error.key == "tokenMaxTtl"


def test_the_preview_role_with_unknown_arns_passes(preview: ProgramRun) -> None:
    role = props(preview.one(guardrails.VAULT_AWS_ROLE))
    assert role["boundIamPrincipalArns"] == [ENGINE_UNKNOWN]
    assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


def test_each_clusters_vault_role_binds_that_clusters_gloo_role_alone(runs: dict[str, ProgramRun]) -> None:
    run = runs["clusters"]
    resources = stack_resources(run)
    for key in FLEET:
        role = real(run, guardrails.VAULT_AWS_ROLE, f"gloo-{key}")
        gloo_arn = next(r.props["arn"] for r in resources if r.type == guardrails.ROLE and r.name == f"{key}-gloo")
        assert role["boundIamPrincipalArns"] == [gloo_arn]
        assert guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, role, DEV) == []


def test_a_vault_role_bound_to_two_clusters_gloo_roles_is_refused(runs: dict[str, ProgramRun]) -> None:
    """Every bound principal logs in as the role: east-a's Vault role bound to east-b's Gloo role
    too lets east-b's Gloo log in as east-a's role."""
    run = runs["clusters"]
    east_a = real(run, guardrails.VAULT_AWS_ROLE, "gloo-east-a")
    east_a["boundIamPrincipalArns"] += real(run, guardrails.VAULT_AWS_ROLE, "gloo-east-b")["boundIamPrincipalArns"]
    only(guardrails.check_vault_aws_role(guardrails.VAULT_AWS_ROLE, east_a, DEV), "binds 2 IAM principals")
    refused_when_changed(
        run,
        guardrails.VAULT_AWS_ROLE,
        "gloo-east-a",
        {"boundIamPrincipalArns": east_a["boundIamPrincipalArns"]},
        "binds 2",
    )


# ------------------------------------------------------------------ login paths IRSA does not take

KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

LOGIN_BREAKS: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "inferred-ec2",
        guardrails.VAULT_AWS_ROLE,
        {"inferredEntityType": "ec2_instance", "inferredAwsRegion": "us-east-1"},
        "inferred_entity_type is 'ec2_instance'",
    ),
    ("client-keys", guardrails.VAULT_AWS_CLIENT, {"accessKey": KEY_ID, "secretKey": SECRET}, "static AWS key"),
    ("client-secret-only", guardrails.VAULT_AWS_CLIENT, {"secretKey": SECRET}, "secret_key"),
    ("client-write-only-secret", guardrails.VAULT_AWS_CLIENT, {"secretKeyWo": SECRET}, "secret_key_wo"),
]


@pytest.mark.parametrize(("case", "type_", "change", "fragment"), LOGIN_BREAKS, ids=[c[0] for c in LOGIN_BREAKS])
def test_a_login_path_irsa_does_not_take_is_refused(
    run: ProgramRun, case: str, type_: str, change: dict[str, Any], fragment: str
) -> None:
    refused_when_changed(run, type_, "gloo", change, fragment)


@pytest.mark.parametrize("variant", ["dev", "enterprise"])
@pytest.mark.parametrize(
    "keys",
    [
        {"accessKeyId": KEY_ID, "secretAccessKey": SECRET},
        {"secretAccessKey": SECRET},
        {"accessKeyId": KEY_ID, "secretAccessKey": SECRET, "sessionToken": "IQoJb3JpZ2luX2VjE"},
    ],
    ids=["both", "secret-only", "with-session-token"],
)
def test_static_aws_keys_in_gloos_vault_source_are_refused(
    runs: dict[str, ProgramRun], variant: str, keys: dict[str, str]
) -> None:
    """IRSA exists so that no long-lived key is stored anywhere; Gloo would log in with these instead."""
    resources = stack_resources(runs[variant])
    broken = replace(resources, guardrails.HELM_RELEASE, lambda p: vault_source(p["values"])["aws"].update(keys))
    only(pack_violations(broken, DEV), "Gloo's Vault source carries static AWS keys")


# ------------------------------------------------------------------ whom the Vault role binds

NODE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/eks-nodegroup-edge-prod-NodeInstanceRole-1A2B3C4D5E6F"
"""The role of an EKS managed node group: every pod that reaches the instance metadata service has it."""
BINDS = "vault-aws-auth-role-binds-gloo-irsa: "
PRODUCTION = StackContext("prod", "production")


def without_gloo_annotations(props: dict[str, Any]) -> None:
    """Gloo's values with no IRSA role annotated on any of its service accounts."""
    root = gloo_root(props["values"])
    for account in GLOO_SERVICE_ACCOUNTS:
        annotations = root.get(account, {}).get("serviceAccount", {}).get("extraAnnotations", {})
        annotations.pop(guardrails.IRSA_ANNOTATION, None)


def bound_to(arn: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.update(boundIamPrincipalArns=[arn])


def node_role_twin(resources: Resources) -> Resources:
    """The reproduction: the prod graph, Gloo's IRSA annotations removed, the Vault role
    bound to the node group's instance role."""
    return replace(
        replace(resources, guardrails.HELM_RELEASE, without_gloo_annotations),
        guardrails.VAULT_AWS_ROLE,
        bound_to(NODE_ROLE),
    )


def test_gloo_logging_in_as_the_node_role_is_refused(runs: dict[str, ProgramRun]) -> None:
    """Every policy passed this twin: the bound ARN is one exact ARN, and the agreement, subjects
    and isolation rules compare only what Gloo annotates (nothing here)."""
    prod = stack_resources(runs["prod"])
    assert pack_violations(prod, PRODUCTION) == []
    found = pack_violations(node_role_twin(prod), PRODUCTION)
    assert found == [
        f"{BINDS}Vault aws auth role 'gloo' binds {NODE_ROLE!r}, which is not an IAM role of this stack; bind the IRSA "
        "role the Gloo release annotates on its service accounts (its ARN output): any other principal (a node "
        "role: every pod that reaches the instance metadata service) logs in as Gloo and reads its secrets"
    ]


def test_the_node_role_annotated_on_gloo_and_bound_is_refused(runs: dict[str, ProgramRun]) -> None:
    """Gloo annotated with the node role too: the agreement holds, but the role is none of the stack's."""
    prod = stack_resources(runs["prod"])

    def annotate_node_role(props: dict[str, Any]) -> None:
        gloo_root(props["values"])["gloo"]["serviceAccount"]["extraAnnotations"][guardrails.IRSA_ANNOTATION] = NODE_ROLE

    twin = replace(
        replace(prod, guardrails.HELM_RELEASE, annotate_node_role), guardrails.VAULT_AWS_ROLE, bound_to(NODE_ROLE)
    )
    only(
        pack_violations(twin, PRODUCTION),
        f"{BINDS}Vault aws auth role 'gloo' binds {NODE_ROLE!r}, which is not an IAM role",
    )


def test_a_stack_role_gloo_does_not_annotate_is_refused(runs: dict[str, ProgramRun]) -> None:
    """Gloo's own role, bound, but no longer annotated on Gloo's service accounts: whatever holds
    it now is not Gloo."""
    prod = stack_resources(runs["prod"])
    twin = replace(prod, guardrails.HELM_RELEASE, without_gloo_annotations)
    only(
        pack_violations(twin, PRODUCTION),
        f"{BINDS}Vault aws auth role 'gloo' binds the IAM role 'gloo-9f10d15', which no Gloo",
    )


def test_a_gloo_role_that_ec2_may_also_assume_is_refused(runs: dict[str, ProgramRun]) -> None:
    """The role Gloo annotates, trusting EC2 too: an instance profile holding it makes it a node role."""
    prod = stack_resources(runs["prod"])

    def trust_ec2(props: dict[str, Any]) -> None:
        doc = json.loads(props["assumeRolePolicy"])
        doc["Statement"].append(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        )
        props["assumeRolePolicy"] = json.dumps(doc)

    twin = replace(prod, guardrails.ROLE, trust_ec2, name="gloo")
    only(
        pack_violations(twin, PRODUCTION),
        f"{BINDS}Vault aws auth role 'gloo' binds the IAM role 'gloo-9f10d15', whose trust",
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variants_vault_roles_bind_the_gloo_role_of_their_cluster(
    runs: dict[str, ProgramRun], variant: str
) -> None:
    """Guards the rule against passing by looking at nothing: each variant's Vault roles bind a
    role of the stack that a Gloo release annotates, and the rule passes them."""
    resources = stack_resources(runs[variant])
    bound = {arn for r in resources if r.type == guardrails.VAULT_AWS_ROLE for arn in r.props["boundIamPrincipalArns"]}
    assert bound and bound <= gloo_role_arns(resources)
    assert guardrails.check_vault_role_principals(resources, PRODUCTION) == []

"""components/iam.py: Gloo's IRSA role and the identity Vault resolves it with, per topology; the
organisation's IAM (path, boundary, session limit, tags) and what production protects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import (
    ACCOUNT_ID,
    BOUNDARY_ARN,
    DEFAULT_TAGS,
    EXTERNAL_VAULT,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    ISSUER_URL,
    OIDC_PROVIDER,
    ROLE_PATH,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    VAULT_STS_ROLE,
    ProgramRun,
    Registered,
    dev_config,
    gloo_values,
    mock_physical_name,
    mock_role_arn,
    oidc_provider_arn,
    run_program,
)

HOST = ISSUER_URL.removeprefix("https://")
PROVIDER_ARN = oidc_provider_arn(ISSUER_URL)
GLOO_ROLE_ARN = mock_role_arn("gloo")
VAULT_ROLE_ARN = mock_role_arn("vault-identity")
ROLE_PRINCIPAL = "arn:aws:iam::123456789012:role/platform/vault-server"
USER_PRINCIPAL = "arn:aws:iam::123456789012:user/vault"
CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault-server"


TOPOLOGIES: dict[str, dict[str, Any]] = {
    "in-cluster": {},
    "external-role": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": ROLE_PRINCIPAL},
    "external-user": {**EXTERNAL_VAULT, "vaultAwsPrincipalArn": USER_PRINCIPAL},
    "cross-account": {**EXTERNAL_VAULT, "vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL},
}


@pytest.fixture(scope="module")
def topology_runs() -> dict[str, ProgramRun]:
    return {name: run_program({**dev_config(), **overrides}) for name, overrides in TOPOLOGIES.items()}


def document(res: Registered, key: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(res.inputs[key])
    return doc


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def without_sid(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "Statement": [{k: v for k, v in s.items() if k != "Sid"} for s in doc["Statement"]]}


def irsa_trust(subjects: list[str]) -> dict[str, Any]:
    """The trust policy an IRSA role must have, written out (not built by the code under test)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": sorted(subjects)}},
            }
        ],
    }


def normalized_trust(res: Registered) -> dict[str, Any]:
    doc = without_sid(document(res, "assumeRolePolicy"))
    for statement in doc["Statement"]:
        for values in statement.get("Condition", {}).values():
            for key, value in values.items():
                if key.endswith(":sub"):
                    values[key] = sorted(as_list(value))
    return doc


def get_role_grant(arns: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": arns}],
    }


def normalized_grant(res: Registered) -> dict[str, Any]:
    doc = without_sid(document(res, "policy"))
    for statement in doc["Statement"]:
        actions = as_list(statement["Action"])
        statement["Action"] = actions[0] if len(actions) == 1 else actions
        statement["Resource"] = sorted(as_list(statement["Resource"]))
    return doc


def component_types(run: ProgramRun, res: Registered) -> list[str]:
    return [a.type for a in run.ancestors(res)]


# ---------------------------------------------------------------------------- Gloo's role


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_gloo_role_trusts_exactly_the_charts_gloo_service_account(
    topology_runs: dict[str, ProgramRun], topology: str
) -> None:
    """Gloo 1.22 (the default) has discovery off, so its chart creates only `gloo`."""
    run = topology_runs[topology]
    role = run.one(IAM_ROLE, "gloo")
    assert normalized_trust(role) == irsa_trust(["system:serviceaccount:gloo-system:gloo"])
    assert component_types(run, role)[0] == "gloo-vault-irsa:iam:IrsaRole"
    assert run.outputs["glooRoleArn"] == GLOO_ROLE_ARN
    assert run.outputs["glooRoleName"] == mock_physical_name("gloo")


def test_gloo_role_follows_namespace_and_service_accounts() -> None:
    run = run_program({**dev_config(), "glooNamespace": "edge", "glooServiceAccounts": ["gloo", "discovery"]})
    assert normalized_trust(run.one(IAM_ROLE, "gloo")) == irsa_trust(
        ["system:serviceaccount:edge:gloo", "system:serviceaccount:edge:discovery"]
    )


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_gloo_role_gets_no_permissions(topology_runs: dict[str, ProgramRun], topology: str) -> None:
    """Gloo signs sts:GetCallerIdentity, which needs no IAM permission: nothing is attached to its role."""
    run = topology_runs[topology]
    assert [p for p in run.of_type(IAM_ROLE_POLICY) if p.inputs["role"] == mock_physical_name("gloo")] == []
    assert run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []


# ---------------------------------------------------------------------------- Vault's identity


def test_in_cluster_vault_gets_its_own_irsa_role_allowed_get_role_on_gloos_role(
    topology_runs: dict[str, ProgramRun],
) -> None:
    run = topology_runs["in-cluster"]
    role = run.one(IAM_ROLE, "vault-identity")
    assert normalized_trust(role) == irsa_trust(["system:serviceaccount:vault:vault"])
    assert component_types(run, role)[:2] == ["gloo-vault-irsa:iam:IrsaRole", "gloo-vault-irsa:iam:VaultAwsIdentity"]
    grant = run.one(IAM_ROLE_POLICY)
    assert grant.inputs["role"] == mock_physical_name("vault-identity")
    assert normalized_grant(grant) == get_role_grant([GLOO_ROLE_ARN])
    assert run.of_type(IAM_USER_POLICY) == []
    assert run.of_type(VAULT_STS_ROLE) == []
    assert run.outputs["vaultAwsIdentityArn"] == VAULT_ROLE_ARN


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_the_grant_is_built_from_the_gloo_role_output(topology_runs: dict[str, ProgramRun], topology: str) -> None:
    run = topology_runs[topology]
    [grant] = run.of_type(IAM_ROLE_POLICY) + run.of_type(IAM_USER_POLICY)
    assert run.one(IAM_ROLE, "gloo").urn in grant.property_dependencies["policy"]


def test_external_vault_role_gets_the_grant_on_its_own_role(topology_runs: dict[str, ProgramRun]) -> None:
    run = topology_runs["external-role"]
    grant = run.one(IAM_ROLE_POLICY)
    assert grant.inputs["role"] == "vault-server"  # bare name: the ARN's path is not part of it
    assert normalized_grant(grant) == get_role_grant([GLOO_ROLE_ARN])
    assert [r.name for r in run.of_type(IAM_ROLE)] == ["gloo"]  # no role for Vault: it has one
    assert run.of_type(IAM_USER_POLICY) == []
    assert run.of_type(VAULT_STS_ROLE) == []
    assert run.outputs["vaultAwsIdentityArn"] == ROLE_PRINCIPAL


def test_external_vault_user_gets_a_user_policy(topology_runs: dict[str, ProgramRun]) -> None:
    run = topology_runs["external-user"]
    grant = run.one(IAM_USER_POLICY)
    assert grant.inputs["user"] == "vault"
    assert normalized_grant(grant) == get_role_grant([GLOO_ROLE_ARN])
    assert run.of_type(IAM_ROLE_POLICY) == []
    assert [r.name for r in run.of_type(IAM_ROLE)] == ["gloo"]
    assert run.outputs["vaultAwsIdentityArn"] == USER_PRINCIPAL


def test_cross_account_vault_assumes_a_role_here_registered_as_its_sts_role(
    topology_runs: dict[str, ProgramRun],
) -> None:
    run = topology_runs["cross-account"]
    role = run.one(IAM_ROLE, "vault-identity")
    assert without_sid(document(role, "assumeRolePolicy")) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": CROSS_PRINCIPAL}, "Action": "sts:AssumeRole"}],
    }
    grant = run.one(IAM_ROLE_POLICY)
    assert grant.inputs["role"] == mock_physical_name("vault-identity")
    assert normalized_grant(grant) == get_role_grant([GLOO_ROLE_ARN])
    sts = run.one(VAULT_STS_ROLE)
    assert sts.inputs["accountId"] == ACCOUNT_ID  # the Gloo role's account, where GetRole runs
    assert sts.inputs["stsRole"] == VAULT_ROLE_ARN
    assert sts.inputs["backend"] == "aws"
    assert run.outputs["vaultAwsIdentityArn"] == VAULT_ROLE_ARN


def test_cross_account_sts_role_account_is_the_gloo_roles(topology_runs: dict[str, ProgramRun]) -> None:
    """account_id is read from the Gloo role's ARN, not from the Vault principal's."""
    sts = topology_runs["cross-account"].one(VAULT_STS_ROLE)
    assert sts.inputs["accountId"] != CROSS_PRINCIPAL.split(":")[4]
    assert topology_runs["cross-account"].one(IAM_ROLE, "gloo").urn in sts.property_dependencies["accountId"]


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_no_statement_anywhere_allows_everything(topology_runs: dict[str, ProgramRun], topology: str) -> None:
    run = topology_runs[topology]
    documents = [
        json.loads(value)
        for res in run.resources
        if res.type.startswith("aws:")
        for key, value in res.inputs.items()
        if key in ("policy", "assumeRolePolicy")
    ]
    assert documents, "no IAM documents found"
    for doc in documents:
        for statement in doc["Statement"]:
            assert "NotAction" not in statement and "NotResource" not in statement and "NotPrincipal" not in statement
            assert "*" not in as_list(statement.get("Resource", []))
            assert not any(a == "*" or a.endswith(":*") for a in as_list(statement["Action"]))
            assert statement.get("Principal") != "*" and statement.get("Principal") != {"AWS": "*"}


CLUSTER = "gloo-ee-vault-integration"
ORG_CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault"
ORG_VARIANTS = ["org-iam", "org-iam-cross-account"]


@pytest.fixture(scope="module")
def production() -> ProgramRun:
    return run_program({**dev_config(), "environment": "production"})


@pytest.mark.parametrize("variant", ORG_VARIANTS)
def test_every_role_the_program_creates_gets_path_boundary_and_session_limit(
    runs: dict[str, ProgramRun], variant: str
) -> None:
    roles = runs[variant].of_type(IAM_ROLE)
    assert sorted(r.name for r in roles) == ["gloo", "vault-identity"]  # Gloo's, and the one made for Vault
    for role in roles:
        assert role.inputs["path"] == ROLE_PATH, role.name
        assert role.inputs["permissionsBoundary"] == BOUNDARY_ARN, role.name
        assert role.inputs["maxSessionDuration"] == 2 * 3600, role.name


def test_without_them_roles_keep_iams_defaults(run: ProgramRun) -> None:
    for role in run.of_type(IAM_ROLE):
        assert role.inputs["path"] == "/"
        assert "permissionsBoundary" not in role.inputs and "maxSessionDuration" not in role.inputs


def test_the_pathed_arn_is_what_vault_binds_and_grants_and_gloo_is_annotated_with(runs: dict[str, ProgramRun]) -> None:
    """The path is part of the ARN (and so of every ARN the program passes on), never of the name:
    Vault's role is named after the IAM role's name, and inline policies attach by name."""
    run = runs["org-iam"]
    arn = mock_role_arn("gloo", ROLE_PATH)
    assert run.outputs["glooRoleArn"] == arn
    assert run.outputs["glooRoleName"] == mock_physical_name("gloo")
    vault_role = run.one(VAULT_AWS_ROLE).inputs
    assert vault_role["boundIamPrincipalArns"] == [arn]
    assert vault_role["role"] == mock_physical_name("gloo")
    [statement] = json.loads(run.one(IAM_ROLE_POLICY).inputs["policy"])["Statement"]
    assert statement["Resource"] == [arn]
    assert run.one(IAM_ROLE_POLICY).inputs["role"] == mock_physical_name("vault-identity")
    annotations = gloo_values(run)["gloo"]["serviceAccount"]["extraAnnotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == arn
    assert run.outputs["vaultAwsIdentityArn"] == mock_role_arn("vault-identity", ROLE_PATH)


@pytest.mark.parametrize("variant", ORG_VARIANTS)
def test_default_tags_reach_every_aws_resource_through_the_provider(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    provider = run.one("pulumi:providers:aws")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": DEFAULT_TAGS}  # provider config travels as JSON
    aws_resources = [r for r in run.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources
    assert {r.provider.rsplit("::", 1)[0] for r in aws_resources} == {provider.urn}


def test_without_default_tags_the_provider_has_none(run: ProgramRun) -> None:
    assert "defaultTags" not in run.one("pulumi:providers:aws").inputs


def test_roles_and_the_oidc_provider_say_which_cluster_and_service_accounts_they_serve(run: ProgramRun) -> None:
    assert run.one(IAM_ROLE, "gloo").inputs["tags"] == {
        "eks-cluster": CLUSTER,
        "irsa-service-accounts": "gloo-system/gloo",
    }
    assert run.one(IAM_ROLE, "vault-identity").inputs["tags"] == {
        "eks-cluster": CLUSTER,
        "irsa-service-accounts": "vault/vault",
    }
    assert run.one(OIDC_PROVIDER).inputs["tags"] == {"eks-cluster": CLUSTER}


def test_the_cross_account_role_says_which_cluster_it_serves(runs: dict[str, ProgramRun]) -> None:
    assert runs["org-iam-cross-account"].one(IAM_ROLE, "vault-identity").inputs["tags"] == {"eks-cluster": CLUSTER}


def test_a_role_listing_several_service_accounts_names_them_all() -> None:
    run = run_program({**dev_config(), "glooServiceAccounts": ["gloo", "discovery"]})
    assert run.one(IAM_ROLE, "gloo").inputs["tags"]["irsa-service-accounts"] == "gloo-system/gloo gloo-system/discovery"


def test_production_protects_the_iam_roles_and_the_oidc_provider(production: ProgramRun) -> None:
    for res in [*production.of_type(IAM_ROLE), *production.of_type(OIDC_PROVIDER)]:
        assert res.options["protect"] is True, (res.type, res.name)


def test_production_protects_the_mounts_but_not_the_vault_role(production: ProgramRun) -> None:
    """The Vault role is replaced when the Gloo role's unique ID changes (the rebind): protecting it
    would stop that replacement; it holds nothing that cannot be written again."""
    assert production.one(VAULT_MOUNT).options["protect"] is True
    assert production.one(VAULT_AUTH_BACKEND).options["protect"] is True
    assert production.one(VAULT_AWS_ROLE).options["protect"] is not True


def test_production_protects_the_cross_account_role_too() -> None:
    run = run_program(
        {
            **dev_config(),
            **EXTERNAL_VAULT,
            "vaultCrossAccountPrincipalArn": ORG_CROSS_PRINCIPAL,
            "environment": "production",
        }
    )
    assert run.one(IAM_ROLE, "vault-identity").options["protect"] is True


def test_development_protects_nothing_in_iam(run: ProgramRun) -> None:
    for res in [*run.of_type(IAM_ROLE), *run.of_type(OIDC_PROVIDER)]:
        assert res.options["protect"] is not True, (res.type, res.name)

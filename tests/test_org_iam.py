"""IAM as organisations require it (issue 14), with terraform-aws-modules' IRSA role
(`iam-role-for-service-accounts-eks`: `role_path`, `role_permissions_boundary_arn`,
`max_session_duration`, `tags`) as the reference: every role the program creates gets them, the
AWS provider tags everything, and production protects the roles and the OIDC provider.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import (
    BOUNDARY_ARN,
    DEFAULT_TAGS,
    EXTERNAL_VAULT,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    OIDC_PROVIDER,
    ORG_IAM,
    ROLE_PATH,
    VAULT_AUTH_BACKEND,
    VAULT_AWS_ROLE,
    VAULT_MOUNT,
    ProgramRun,
    dev_config,
    mock_physical_name,
    mock_role_arn,
    run_program,
)
from tests.test_config import parse

CLUSTER = "gloo-ee-vault-integration"
CROSS_PRINCIPAL = "arn:aws:iam::210987654321:role/vault"
ORG_VARIANTS = ["org-iam", "org-iam-cross-account"]


@pytest.fixture(scope="module")
def production() -> ProgramRun:
    return run_program({**dev_config(), "environment": "production"})


def gloo_values(run: ProgramRun) -> dict[str, Any]:
    values: dict[str, Any] = run.one(HELM_RELEASE, "gloo").inputs["values"]
    return values


# ---------------------------------------------------------------------------- path, boundary, session


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


# ---------------------------------------------------------------------------- tags


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


# ---------------------------------------------------------------------------- production protects


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
            "vaultCrossAccountPrincipalArn": CROSS_PRINCIPAL,
            "environment": "production",
        }
    )
    assert run.one(IAM_ROLE, "vault-identity").options["protect"] is True


def test_development_protects_nothing_in_iam(run: ProgramRun) -> None:
    for res in [*run.of_type(IAM_ROLE), *run.of_type(OIDC_PROVIDER)]:
        assert res.options["protect"] is not True, (res.type, res.name)


# ---------------------------------------------------------------------------- config


def test_the_keys_are_read() -> None:
    s = parse({**dev_config(), **{k: v if isinstance(v, str) else json.dumps(v) for k, v in ORG_IAM.items()}})
    assert s.iam_role_path == ROLE_PATH
    assert s.iam_permissions_boundary_arn == BOUNDARY_ARN
    assert s.iam_max_session_seconds == 7200
    assert s.aws_default_tags == DEFAULT_TAGS
    assert parse({**dev_config(), "iamMaxSessionDuration": "43200"}).iam_max_session_seconds == 12 * 3600
    managed = "arn:aws:iam::aws:policy/PowerUserAccess"  # an AWS-managed boundary: it only caps
    assert parse({**dev_config(), "iamPermissionsBoundaryArn": managed}).iam_permissions_boundary_arn == managed

"""IAM as organisations require it, on the engines: a Gloo role under a path (with a permissions
boundary, a session limit and tags) logs in with Gloo's own libraries.

STS's GetCallerIdentity names an assumed role without its path
(`arn:aws:sts::<account>:assumed-role/<name>/<session>`), so a Vault role bound to the pathed ARN
used to refuse the login (hashicorp/vault#2729) and, once logged in, the renewal
(hashicorp/vault#3368). The program binds with `resolve_aws_unique_ids`, so Vault matches the
caller by the role's unique ID; moto, like STS, drops the path from the assumed-role ARN.
moto does not evaluate permissions boundaries: that the boundary allows Vault's `iam:GetRole` is
the organisation's to ensure (README).
"""

from __future__ import annotations

import json

import pytest

from tests.engines.apply import Deployment
from tests.engines.conftest import Deployer, Scenario
from tests.engines.gloo_client import GlooSecretClient, assume_role_with_web_identity, web_identity_token
from tests.engines.servers import Engines
from tests.engines.test_auth_chain import POLICY, UPSTREAM_SECRET, VAULT_ROLE, bound_iam_role, declared, seed_secret
from tests.harness import ACCOUNT_ID, BOUNDARY_ARN, ORG_IAM, ROLE_PATH

pytestmark = pytest.mark.engines


def _given_boundary(engines: Engines) -> None:
    """The organisation's permissions boundary, which exists before any stack uses it."""
    name, path = BOUNDARY_ARN.rsplit("/", 1)[1], "/" + BOUNDARY_ARN.split(":policy/", 1)[1].rsplit("/", 1)[0] + "/"
    statement = {"Effect": "Allow", "Action": ["iam:GetRole", "sts:GetCallerIdentity"], "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    created = engines.moto.client("iam").create_policy(PolicyName=name, Path=path, PolicyDocument=json.dumps(document))
    assert created["Policy"]["Arn"] == BOUNDARY_ARN


ORG_IAM_SCENARIO = Scenario(
    "in-cluster-dev, organisation IAM (path, boundary, session limit, tags)", ORG_IAM, given=_given_boundary
)


def test_a_pathed_gloo_role_logs_in_though_sts_names_it_without_its_path(deployer: Deployer) -> None:
    dep = deployer(ORG_IAM_SCENARIO)
    seed_secret(dep)
    vault_role = declared(dep, VAULT_ROLE)
    [bound] = vault_role["boundIamPrincipalArns"]
    role = bound_iam_role(dep, vault_role)
    assert role["Arn"] == bound == dep.run.outputs["glooRoleArn"]
    assert role["Path"] == ROLE_PATH and f":role{ROLE_PATH}{role['RoleName']}" in bound
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY_ARN
    assert role["MaxSessionDuration"] == 2 * 3600

    # What STS says Gloo's pod is: the assumed role's name, no path; only the unique ID can match.
    caller = _caller_identity(dep)
    assert caller["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/"), caller
    assert ROLE_PATH not in caller["Arn"]
    assert caller["UserId"].split(":")[0] == role["RoleId"]

    run = dep.run_gloo().ok()
    assert run.logins[0]["token_policies"] == sorted(["default", declared(dep, POLICY)["name"]])
    assert run.reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}


def _caller_identity(dep: Deployment) -> dict[str, str]:
    """GetCallerIdentity as Gloo's pod: its web identity exchanged for the role's credentials."""
    s = dep.gloo_settings()
    token = web_identity_token(dep.run.outputs["oidcIssuerUrl"], s.subject)
    sts_url = dep.rewrites.pod_sts_endpoint()
    creds = assume_role_with_web_identity(sts_url, s.region, s.role_arn, token, "gloo")
    sts = dep.engines.moto.client(
        "sts",
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token or "",
    )
    identity: dict[str, str] = sts.get_caller_identity()
    return identity


def test_a_pathed_gloo_roles_token_renews(deployer: Deployer) -> None:
    """renew-self re-checks the caller against the role (it failed for pathed roles, vault#3368).
    Gloo's renewal loop sends the same request once two thirds of the TTL have passed; sent here
    at once, with the token Gloo's login got."""
    dep = deployer(ORG_IAM_SCENARIO)
    run = dep.run_gloo().ok()
    renewed = GlooSecretClient(dep.gloo_settings(), run.token).call("PUT", "auth/token/renew-self", {})
    assert renewed.status == 200, renewed.errors
    assert renewed.body["auth"]["client_token"] == run.token

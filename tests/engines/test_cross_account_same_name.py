"""CVE-2025-11621, hostile: a role of Gloo's name and path in another AWS account cannot log in
as Gloo.

CVE-2025-11621 (HCSEC-2025-30; components/config/vault_versions.py): Vault's aws auth "may be
susceptible to authentication bypass if the role of the configured bound_iam_principal_arn is
the same across AWS accounts". Role names are no secret here: anyone who can read Gloo's Helm
values or service-account annotations has Gloo's role ARN. So an attacker with an AWS account of
their own creates a role with Gloo's role's name and path there, assumes it, and signs Gloo's
login (`sts:GetCallerIdentity` with the IAM server ID header Gloo signs, for Vault's STS region:
everything Gloo's settings say) for the Vault role the program writes. Vault must refuse it, and
Gloo's own role must still log in, before and after (the vulnerability is in what Vault caches).

The attacker's login is built by the Python client (gloo_client.login_data, the body Gloo's
library posts), signed with the attacker's credentials: an attacker uses any client, and Gloo's
library would sign with Gloo's pod identity only.

Against the v1.18.5 plugin (Vault's own cmd/aws, before the fix; run once, 2026-12-05) this test
passes too: the role the program writes binds Gloo's role ARN with `resolve_aws_unique_ids`
(components/vault_auth.py sets it: bound by unique ID), so Vault compares the
caller's unique role ID (`AROA…` of `GetCallerIdentity`'s UserId), which a same-named role in
another account never has, and the caller's ARN names another account anyway. The program's
configuration is therefore not exposed to the bypass by name alone; the fix (Vault caches its
IAM clients by account too: hashicorp/vault@8d07273d14ae) is still what a Vault must run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.engines.apply import Deployment, _account_admin
from tests.engines.conftest import Deployer, Scenario
from tests.engines.gloo_client import AwsCredentials, login, login_data
from tests.harness import ACCOUNT_ID

pytestmark = pytest.mark.engines

ATTACKER_ACCOUNT = "999988887777"
SCENARIO = Scenario("in-cluster-dev")  # the dev stack as the program declares it


def gloo_role_in_moto(dep: Deployment) -> dict[str, Any]:
    """Gloo's IAM role, as moto holds it: the one ARN the Vault role binds."""
    vault_role = dep.run.one("vault:aws/authBackendRole:AuthBackendRole").inputs
    [arn] = vault_role["boundIamPrincipalArns"]
    role: dict[str, Any] = dep.engines.moto.client("iam").get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
    assert role["Arn"] == arn and arn.startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/")
    return role


def attackers_twin(dep: Deployment, gloo_role: dict[str, Any]) -> tuple[str, AwsCredentials]:
    """In the attacker's account: a role of Gloo's role's name and path, assumed. Its ARN and the
    session's credentials."""
    admin = _account_admin(dep.engines, ATTACKER_ACCOUNT)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ATTACKER_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    twin = dep.engines.moto.client("iam", **admin).create_role(
        RoleName=gloo_role["RoleName"], Path=gloo_role["Path"], AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]
    assert twin["Arn"] == gloo_role["Arn"].replace(f"::{ACCOUNT_ID}:", f"::{ATTACKER_ACCOUNT}:")
    assert twin["RoleId"] != gloo_role["RoleId"]
    creds = dep.engines.moto.client("sts", **admin).assume_role(RoleArn=twin["Arn"], RoleSessionName="gloo")[
        "Credentials"
    ]
    return twin["Arn"], AwsCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_a_same_named_role_of_another_account_is_refused_and_gloo_still_logs_in(deployer: Deployer) -> None:
    dep = deployer(SCENARIO)
    deployer.forget()  # this test adds an account and a role to moto
    gloo_role = gloo_role_in_moto(dep)
    dep.run_gloo().ok()  # Gloo first: whatever Vault caches of Gloo's role is cached now

    twin_arn, attacker = attackers_twin(dep, gloo_role)
    settings = dep.gloo_settings()
    as_attacker = {
        "aws_access_key_id": attacker.access_key_id,
        "aws_secret_access_key": attacker.secret_access_key,
        "aws_session_token": attacker.session_token or "",
    }
    caller = dep.engines.moto.client("sts", **as_attacker).get_caller_identity()
    assert caller["Account"] == ATTACKER_ACCOUNT and f":assumed-role/{gloo_role['RoleName']}/" in caller["Arn"]

    refused = login(settings, login_data(attacker, settings))
    assert refused.status == 400, refused
    errors = "; ".join(refused.errors)
    assert f'does not belong to the role "{settings.vault_role}"' in errors, errors
    assert twin_arn.split(":")[4] == ATTACKER_ACCOUNT

    dep.run_gloo().ok()  # and Gloo's own role still logs in after the attempt

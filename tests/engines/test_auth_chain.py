"""The guide's auth chain on real engines: the program applied to moto (IAM/STS) and OpenBao
(with the AWS auth plugin), then Gloo's login and secret reads done by Gloo's own libraries: the
Go client tests/engines/gloologin (the module versions Gloo 1.15.19 to 1.22 pin), run as EKS runs
Gloo's pod (gloo_pod.py: the release values, the pod identity webhook's environment, the
projected token).

What is checked by whom: OpenBao's AWS auth checks the IAM server ID header (value, and that it
is signed), the bound role (by unique ID) and the role name; moto checks, while Vault is
configured and for every request Vault sends to STS (Gloo's login), every SigV4 signature,
access key and session token and the caller's IAM policies (Vault's iam:GetRole scope); the
regional STS stand-in checks that a request is signed for its region. moto does not verify web
identity tokens nor evaluate trust policies (tests/test_iam.py and tests/documents/test_iam.py cover
those documents).

The Python client (gloo_client.py) logs in only where a test needs a request Gloo's library
never makes (a server ID header outside the signature, a tampered signature); each such test
says so.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import pytest

from components.vault_provider import child_token_ttl_seconds
from tests.engines.apply import ROLE_POLICY, ApplyError, Deployment, apply
from tests.engines.conftest import Deployer, Scenario
from tests.engines.gloo_client import (
    IRSA_ANNOTATION,
    AwsCredentials,
    GlooSecretClient,
    assume_role_with_web_identity,
    login,
    login_data,
    web_identity_token,
)
from tests.engines.gloo_pod import REGIONAL_STS_ANNOTATION, webhook_env
from tests.engines.servers import Engines, Response
from tests.harness import ACCOUNT_ID, ProgramRun, dev_config, oidc_provider_arn

pytestmark = pytest.mark.engines

POLICY = "vault:index/policy:Policy"
MOUNT = "vault:index/mount:Mount"
CLIENT = "vault:aws/authBackendClient:AuthBackendClient"
VAULT_ROLE = "vault:aws/authBackendRole:AuthBackendRole"
EXTERNAL = {"vaultTopology": "external", "vaultAddress": "https://vault.example.com:8200"}
VAULT_SERVER_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/vault-server"
OTHER_ACCOUNT = "210987654321"
CROSS_ACCOUNT_USER = f"arn:aws:iam::{OTHER_ACCOUNT}:user/vault"

# A secret as Gloo's Secret kind is stored (solo-kit protoutils.MarshalMap of the resource).
UPSTREAM_SECRET = {
    "metadata": {"name": "upstream-aws", "namespace": "gloo-system"},
    "aws": {"accessKey": "AKIAUPSTREAM0000EXMP", "secretKey": "upstream-secret-key"},
}


def _given_vault_server_role(engines: Engines) -> None:
    """An external Vault's own role in the account (it exists before the program runs)."""
    statement = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    engines.moto.client("iam").create_role(RoleName="vault-server", AssumeRolePolicyDocument=json.dumps(trust))


def _given_cross_account_vault_user(engines: Engines) -> None:
    """An external Vault's IAM user in another account, allowed (there) to assume roles here."""
    creds = engines.moto.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin", RoleSessionName="operator"
    )["Credentials"]
    iam = engines.moto.client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    iam.create_user(UserName="vault")
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/*"}
    allow = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_user_policy(UserName="vault", PolicyName="assume-resolver-roles", PolicyDocument=json.dumps(allow))


def _given_vault_user(engines: Engines) -> None:
    """An external Vault's IAM user in the account."""
    engines.moto.client("iam").create_user(UserName="vault")


IN_CLUSTER = Scenario("in-cluster-dev")
ENTERPRISE = Scenario(
    "in-cluster-dev, Gloo Enterprise", {"glooEdition": "enterprise"}, secrets={"glooLicenseKey": "LICENSE-KEY"}
)
GUIDE_POLICY = Scenario("in-cluster-dev, vaultPolicyMode guide", {"vaultPolicyMode": "guide"})
EXTERNAL_ROLE = Scenario(
    "external, Vault's role in the account",
    {**EXTERNAL, "vaultAwsPrincipalArn": VAULT_SERVER_ROLE},
    given=_given_vault_server_role,
)
EXTERNAL_USER = Scenario(
    "external, Vault's user in the account",
    {**EXTERNAL, "vaultAwsPrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:user/vault"},
    given=_given_vault_user,
)
CROSS_ACCOUNT = Scenario(
    "external, Vault's user in another account",
    {**EXTERNAL, "vaultCrossAccountPrincipalArn": CROSS_ACCOUNT_USER},
    given=_given_cross_account_vault_user,
)


# The regions the signing-mode tests run in: the dev stack's, one of Europe's and one more that
# aws-sdk-go v1.34.9 still sends to STS's global endpoint by default.
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
SHORT_TTL = Scenario("in-cluster-dev, tokenMaxTtl 1m", {"tokenMaxTtl": "1m"})  # config's minimum


def in_region(region: str) -> Scenario:
    """The in-cluster-dev stack in `region` (the dev stack itself for its own region)."""
    if region == dev_region():
        return IN_CLUSTER
    return Scenario(f"in-cluster-dev, {region}", {"region": region})


def dev_region() -> str:
    return dev_config()["region"]


@pytest.fixture
def deployed(deployer: Deployer) -> Deployment:
    return deployer(IN_CLUSTER)


def python_login(dep: Deployment, *, sign_header: bool = True, tamper: bool = False) -> Response:
    """A login Gloo's library never sends, by the Python client: the server ID header added after
    signing (`sign_header=False`), or the signature corrupted (`tamper`)."""
    s = dep.gloo_settings()
    token = web_identity_token(dep.run.outputs["oidcIssuerUrl"], s.subject)
    creds = assume_role_with_web_identity(dep.rewrites.pod_sts_endpoint(), s.region, s.role_arn, token, "gloo")
    data = login_data(creds, s, sign_server_id_header=sign_header)
    if tamper:
        headers = json.loads(base64.b64decode(data["iam_request_headers"]))
        authorization = headers["Authorization"][0]
        headers["Authorization"] = [authorization[:-4] + ("0000" if authorization[-4:] != "0000" else "1111")]
        data["iam_request_headers"] = base64.b64encode(json.dumps(headers).encode()).decode()
    return login(s, data)


def seed_secret(dep: Deployment, name: str = "upstream-aws", resource: dict[str, Any] | None = None) -> None:
    """The operator writes a Gloo secret where Gloo's settings say, with the root token (once per
    deployment: a test sharing the deployment finds it there)."""
    settings = dep.gloo_settings()
    operator = GlooSecretClient(settings, dep.engines.bao.root_token)
    if operator.read(settings.namespace, name).status == 200:
        return
    operator.write(settings.namespace, name, resource or UPSTREAM_SECRET).expect(200, 204)


def declared(dep: Deployment, type_: str) -> dict[str, Any]:
    inputs: dict[str, Any] = dep.run.one(type_).inputs
    return inputs


def gloo_reads(gloo: GlooSecretClient, namespace: str, name: str) -> Any:
    """What solo-kit's Read gets: a kv-v2 answer (data and metadata.version, not deleted)."""
    read = gloo.read(namespace, name).expect(200).data
    assert set(read) == {"data", "metadata"}, read
    assert isinstance(read["metadata"]["version"], int) and read["metadata"]["version"] >= 1
    assert read["metadata"]["deletion_time"] == "" and read["metadata"]["destroyed"] is False
    return read["data"]


def bound_iam_role(dep: Deployment, vault_role: dict[str, Any]) -> dict[str, Any]:
    """The IAM role (as moto holds it) that a Vault role's inputs bind."""
    [arn] = vault_role["boundIamPrincipalArns"]
    role: dict[str, Any] = dep.engines.moto.client("iam").get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
    return role


def error_text(answer: Response) -> str:
    return "; ".join(answer.errors)


# ---------------------------------------------------------------------------- the happy chain


def test_gloo_logs_in_with_its_irsa_role_and_gets_the_declared_policy(deployed: Deployment) -> None:
    run = deployed.run_gloo().ok()
    # Every aws value the program sets is passed to api/auth/aws, as Gloo's newAwsAuthMethod does.
    options = ["WithIAMAuth", "WithRole", "WithRegion", "WithIAMServerIDHeader", "WithMountPath"]
    assert run.transcript["options"] == options
    [login] = run.logins
    client, role = declared(deployed, CLIENT), declared(deployed, VAULT_ROLE)
    request = login["request"]
    assert request["path"] == f"auth/{client['backend']}/login"
    assert request["role"] == role["role"]
    assert request["server_id_header"] == client["iamServerIdHeaderValue"] and request["server_id_header_signed"]
    assert request["signed_region"] == client["stsRegion"]
    assert login["token_policies"] == sorted(["default", declared(deployed, POLICY)["name"]])
    assert login["metadata"]["auth_type"] == "iam"
    assert login["metadata"]["account_id"] == ACCOUNT_ID
    assert login["lease_duration"] == role["tokenMaxTtl"]  # 24h, the guide's max_ttl
    assert login["renewable"] is True  # Gloo 1.15.19+ renews it


def test_gloo_lists_and_reads_the_secret_an_operator_wrote(deployed: Deployment) -> None:
    seed_secret(deployed)
    namespace = deployed.gloo_settings().namespace
    [read] = deployed.run_gloo().ok().reads

    assert read["keys"] == ["upstream-aws"]
    assert f"{namespace}/" in read["namespaces"]  # watching all namespaces
    assert read["secrets"] == {"upstream-aws": UPSTREAM_SECRET}
    assert read["versions"]["upstream-aws"] >= 1  # what solo-kit reads as the resource version


def test_without_a_vault_role_vault_picks_the_role_named_like_the_iam_role(deployed: Deployment) -> None:
    """With vaultRole empty Gloo adds no WithRole: no `role` is sent, and Vault picks the role named
    after the IAM role."""
    run = deployed.run_gloo(deployed.gloo_pod().with_vault_settings(vaultRole="")).ok()
    assert "WithRole" not in run.transcript["options"]
    [login] = run.logins
    assert "role" not in login["request"]
    assert login["token_policies"] == sorted(["default", declared(deployed, POLICY)["name"]])


def test_vault_holds_what_the_program_declared(deployed: Deployment) -> None:
    """Read back from OpenBao: declared values as declared, only the named rewrites differ."""
    client = declared(deployed, CLIENT)
    config = deployed.operator("GET", f"auth/{client['backend']}/config/client").expect(200).data
    assert config["iam_server_id_header_value"] == client["iamServerIdHeaderValue"]
    assert config["sts_region"] == client["stsRegion"]
    assert config["sts_endpoint"] == deployed.rewrites.sts_endpoint(client["stsEndpoint"])
    assert config["iam_endpoint"] == deployed.rewrites.iam_endpoint()

    role = declared(deployed, VAULT_ROLE)
    stored = deployed.operator("GET", f"auth/{role['backend']}/role/{role['role']}").expect(200).data
    assert stored["auth_type"] == role["authType"]
    assert stored["bound_iam_principal_arn"] == role["boundIamPrincipalArns"]
    assert stored["token_policies"] == role["tokenPolicies"]
    assert stored["token_max_ttl"] == role["tokenMaxTtl"]
    # Vault resolved the bound ARN, with its own identity, to the unique ID moto gave the role.
    gloo_role = bound_iam_role(deployed, role)
    assert stored["bound_iam_principal_id"] == [gloo_role["RoleId"]]

    mount = declared(deployed, MOUNT)
    assert deployed.operator("GET", f"sys/mounts/{mount['path']}").expect(200).data["options"] == mount["options"]
    policy = declared(deployed, POLICY)
    stored_policy = deployed.operator("GET", f"sys/policies/acl/{policy['name']}").expect(200).data["policy"]
    assert stored_policy == policy["policy"]


def test_the_provider_wrote_vault_with_a_child_token_that_outlives_one_run(deployed: Deployment) -> None:
    """pulumi-vault's own child token (`max_lease_ttl_seconds`, `token_name`), as the provider
    declares it: Vault issued it for the whole declared TTL (the root token's child is not capped)."""
    provider = deployed.run.one("pulumi:providers:vault").inputs
    assert deployed.provider_token and deployed.provider_token != deployed.engines.bao.root_token
    looked_up = deployed.operator("POST", "auth/token/lookup", {"token": deployed.provider_token}).expect(200).data
    assert looked_up["creation_ttl"] == int(provider["maxLeaseTtlSeconds"]) == child_token_ttl_seconds()
    assert looked_up["display_name"] == f"token-{provider['tokenName']}"
    assert looked_up["policies"] == ["root"]  # a child of the root token, as the provider's is


def test_vaults_identity_may_resolve_the_bound_role_and_nothing_else(deployed: Deployment) -> None:
    """Vault's identity is the IRSA role the Vault chart's service account is annotated with; the
    apply wrote the Vault role while moto enforced IAM, and that identity can GetRole exactly the
    bound role (the Troubleshooting tests below show the write failing without it)."""
    assert deployed.vault_identity_arn == deployed.run.outputs["vaultAwsIdentityArn"]
    bound = declared(deployed, VAULT_ROLE)["boundIamPrincipalArns"][0]
    assert get_role_as(deployed.engines, deployed.vault_identity, bound) == "allowed"
    denied = get_role_as(deployed.engines, deployed.vault_identity, deployed.vault_identity_arn)
    assert denied.endswith("is not authorized to perform: iam:GetRole")


# ---------------------------------------------------------------------------- refused logins


def test_a_wrong_iam_server_id_header_is_refused(deployed: Deployment) -> None:
    pod = deployed.gloo_pod().with_vault_settings(iamServerIdHeader="vault.attacker.example.com")
    run = deployed.run_gloo(pod).refused()
    assert run.status == 400
    assert "error validating X-Vault-AWS-IAM-Server-ID header" in run.error


def test_a_server_id_header_outside_the_signature_is_refused(deployed: Deployment) -> None:
    """Python client: Gloo's library always signs the header it adds, so only a hand-made request
    can carry it unsigned."""
    answer = python_login(deployed, sign_header=False)
    assert answer.status == 400
    assert "vault header wasn't signed" in error_text(answer)


def test_a_request_whose_signature_does_not_match_is_refused_by_sts(deployed: Deployment) -> None:
    """Python client: Gloo's library cannot be made to send a corrupted signature. moto (enforcing
    IAM for what Vault sends to STS) checks the signature Vault forwards. Its error answer is
    `application/xml` where STS says `text/xml`, so Vault reports it as an invalid STS answer."""
    answer = python_login(deployed, tamper=True)
    assert answer.status == 400
    assert error_text(answer) == "error making upstream request: body of GetCallerIdentity is invalid"


def test_a_login_signed_for_another_region_is_refused(deployed: Deployment) -> None:
    """Gloo's region must be Vault's STS region: STS refuses a request scoped to another region."""
    run = deployed.run_gloo(deployed.gloo_pod().with_vault_settings(region="eu-west-1")).refused()
    assert [r["signed_region"] for r in run.transcript["login_requests"]] == ["eu-west-1"]
    assert run.status == 400
    assert "Credential should be scoped to a valid region" in run.error


def _other_service_account_role(dep: Deployment) -> str:
    """An IRSA role of the same cluster for another service account (gateway-proxy)."""
    issuer = dep.run.outputs["oidcIssuer"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn(dep.run.outputs["oidcIssuerUrl"])},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": "system:serviceaccount:gloo-system:gateway-proxy",
                    }
                },
            }
        ],
    }
    iam = dep.engines.moto.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="gateway-proxy")
    arn: str = iam.create_role(RoleName="gateway-proxy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return arn


def test_another_service_accounts_role_is_refused(deployer: Deployer) -> None:
    dep = deployer(IN_CLUSTER)
    deployer.forget()  # this test adds a role to moto
    other = _other_service_account_role(dep)
    pod = dep.gloo_pod().as_service_account("gateway-proxy", {IRSA_ANNOTATION: other})
    vault_role = declared(dep, VAULT_ROLE)["role"]

    with_role = dep.run_gloo(pod).refused()
    assert with_role.status == 400
    assert f'does not belong to the role "{vault_role}"' in with_role.error

    without_role = dep.run_gloo(pod.with_vault_settings(vaultRole="")).refused()
    assert without_role.status == 400
    assert "entry for role gateway-proxy not found" in without_role.error


# ---------------------------------------------------------------------------- what Gloo's token may do


def test_least_privilege_token_reaches_nothing_but_its_secrets(deployed: Deployment) -> None:
    settings = deployed.gloo_settings()
    root = deployed.engines.bao.root_token
    prefix = settings.path_prefix
    # Things that exist, so that a refusal is the policy and not a missing path.
    deployed.operator("PUT", f"{prefix}/data/other/app", {"data": {"password": "p"}}).expect(200)
    deployed.operator("PUT", f"secret/data/{settings.root_key}/copy", {"data": {"password": "p"}}).expect(200)
    seed_secret(deployed)
    run = deployed.run_gloo().ok()
    assert run.reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}
    gloo = GlooSecretClient(settings, run.token)  # the token Gloo's login got, used for anything else

    def as_gloo(method: str, path: str, body: Any = None) -> int:
        return gloo.call(method, path, body).status

    assert as_gloo("GET", f"{prefix}/data/other/app") == 403  # outside the root key
    assert as_gloo("LIST", f"{prefix}/metadata/other") == 403
    assert as_gloo("GET", f"secret/data/{settings.root_key}/copy") == 403  # another mount
    assert as_gloo("LIST", "sys/policies/acl") == 403
    assert as_gloo("GET", "sys/mounts") == 403
    assert gloo.write(settings.namespace, "new", UPSTREAM_SECRET).status == 403  # read-only
    assert gloo.delete(settings.namespace, "upstream-aws").status == 403
    assert GlooSecretClient(settings, root).read(settings.namespace, "upstream-aws").status == 200


def test_guide_policy_token_can_also_write_and_delete(deployer: Deployer) -> None:
    dep = deployer(GUIDE_POLICY)
    settings = dep.gloo_settings()
    gloo = GlooSecretClient(settings, dep.run_gloo().ok().token)  # the token Gloo's login got
    written = {**UPSTREAM_SECRET, "metadata": {"name": "written-by-gloo", "namespace": settings.namespace}}

    gloo.write(settings.namespace, "written-by-gloo", written).expect(200)
    assert gloo_reads(gloo, settings.namespace, "written-by-gloo") == written
    assert "written-by-gloo" in gloo.list(settings.namespace).expect(200).data["keys"]
    gloo.delete(settings.namespace, "written-by-gloo").expect(204)
    assert gloo.read(settings.namespace, "written-by-gloo").status == 404
    assert gloo.call("GET", "sys/mounts").status == 200  # the guide's UI access
    assert gloo.call("LIST", "sys/policies/acl").status == 403


# ---------------------------------------------------------------------------- the guide's Troubleshooting


def applied_without_the_grant(deployer: Deployer) -> tuple[ProgramRun, ApplyError]:
    """The dev chain applied afresh without Vault's iam:GetRole grant: the refused Vault role write
    (its `deployment` is everything applied before it)."""
    deployer.forget()
    run = deployer(IN_CLUSTER).run
    deployer.forget()
    with pytest.raises(ApplyError) as refused:
        apply(run, deployer.engines, omit=lambda res: res.type == ROLE_POLICY)
    return run, refused.value


def test_without_the_get_role_grant_the_role_write_fails_as_in_the_troubleshooting(deployer: Deployer) -> None:
    """The guide's Troubleshooting error, reproduced by leaving out the program's grant."""
    run, refused = applied_without_the_grant(deployer)
    bound = run.one(VAULT_ROLE).inputs["boundIamPrincipalArns"][0]
    assert f'unable to resolve ARN "{bound}" to internal ID' in str(refused)
    assert "status code: 403" in str(refused)
    # Vault's SDK cannot parse moto's IAM error body; the same call with Vault's identity shows it.
    partial = refused.deployment
    assert partial is not None
    denied = get_role_as(partial.engines, partial.vault_identity, bound)
    vault_role = run.outputs["vaultAwsIdentityArn"].rsplit("/", 1)[1]
    assert denied.startswith(f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{vault_role}/")
    assert denied.endswith("is not authorized to perform: iam:GetRole")


def get_role_as(engines: Engines, creds: AwsCredentials, role_arn: str) -> str:
    """iam:GetRole with `creds` while moto enforces IAM: "allowed", or moto's AccessDenied message."""
    iam = engines.moto.client(
        "iam",
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token or "",
    )
    with engines.moto.enforcing_iam():
        try:
            iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])
        except iam.exceptions.ClientError as denied:
            assert denied.response["Error"]["Code"] == "AccessDenied", denied.response
            message: str = denied.response["Error"]["Message"]
            return message
    return "allowed"


def test_binding_a_role_outside_the_grant_fails_the_role_write(deployer: Deployer) -> None:
    """The grant covers exactly the bound role: Vault cannot resolve any other."""
    dep = deployer(IN_CLUSTER)
    deployer.forget()
    role = declared(dep, VAULT_ROLE)
    other = dep.engines.moto.client("iam").create_role(
        RoleName="not-granted", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    with dep.engines.moto.enforcing_iam():
        answer = dep.operator(
            "POST", f"auth/{role['backend']}/role/not-granted", {"auth_type": "iam", "bound_iam_principal_arn": [other]}
        )
    assert answer.status == 400
    assert f'unable to resolve ARN "{other}" to internal ID' in error_text(answer)
    assert "status code: 403" in error_text(answer)
    assert get_role_as(dep.engines, dep.vault_identity, other).endswith("is not authorized to perform: iam:GetRole")
    assert get_role_as(dep.engines, dep.vault_identity, role["boundIamPrincipalArns"][0]) == "allowed"


# ---------------------------------------------------------------------------- other topologies


@pytest.mark.parametrize("scenario", [EXTERNAL_ROLE, EXTERNAL_USER, CROSS_ACCOUNT, ENTERPRISE], ids=lambda s: s.name)
def test_the_chain_in_other_topologies(deployer: Deployer, scenario: Scenario) -> None:
    """External Vault (its role, its user, a user in another account) and Gloo Enterprise, whose
    values nest Gloo's settings under `gloo`."""
    dep = deployer(scenario)
    seed_secret(dep)
    run = dep.run_gloo().ok()
    assert run.reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}
    assert run.logins[0]["token_policies"] == sorted(["default", declared(dep, POLICY)["name"]])
    role = declared(dep, VAULT_ROLE)
    stored = dep.operator("GET", f"auth/{role['backend']}/role/{role['role']}").expect(200).data
    gloo_role = bound_iam_role(dep, role)
    assert stored["bound_iam_principal_id"] == [gloo_role["RoleId"]]


# ---------------------------------------------------------------------------- STS signing modes


def sts_hosts(region: str, regional: bool) -> str:
    """The STS host aws-sdk-go v1.34.9 calls for `region`: regional, or the global endpoint its
    legacy default keeps for the regions STS had in 2020 (all of REGIONS)."""
    return f"sts.{region}.amazonaws.com" if regional else "sts.amazonaws.com"


@pytest.mark.parametrize("regional", [True, False], ids=["AWS_STS_REGIONAL_ENDPOINTS=regional", "unset"])
@pytest.mark.parametrize("region", REGIONS)
def test_both_sdk_sts_modes_sign_for_vaults_sts_region(deployer: Deployer, region: str, regional: bool) -> None:
    """With the annotation the webhook sets AWS_STS_REGIONAL_ENDPOINTS=regional and the SDK calls
    and signs for sts.<region>. Without it, the SDK calls STS's global endpoint and the login URL
    Vault gets is https://sts.amazonaws.com/, yet the request is signed for Gloo's region, not
    us-east-1: api/auth/aws signs with go-secure-stdlib/awsutil v0.1.6, whose GenerateLoginData
    resolves STS with a signing region forced to the configured one. Vault sends it to its own
    regional sts_endpoint (Host header kept), which accepts that scope: both modes log in."""
    dep = deployer(in_region(region))
    seed_secret(dep)
    pod = dep.gloo_pod().with_annotations(**{REGIONAL_STS_ANNOTATION: "true" if regional else None})
    assert ("AWS_STS_REGIONAL_ENDPOINTS" in webhook_env(pod.annotations, region=region)) is regional

    run = dep.run_gloo(pod).ok()
    host = sts_hosts(region, regional)
    assert {call["host"] for call in run.transcript["sts_calls"]} == {host}  # the pod's IRSA credentials
    [login] = run.logins
    assert login["request"]["sts_url"] == f"https://{host}/"
    assert login["request"]["signed_region"] == declared(dep, CLIENT)["stsRegion"] == region
    assert run.reads[0]["secrets"] == {"upstream-aws": UPSTREAM_SECRET}


@pytest.mark.parametrize("region", REGIONS)
def test_the_programs_gloo_pod_calls_and_signs_for_regional_sts(deployer: Deployer, region: str) -> None:
    """The program's own service account annotations (read from the graph) make the webhook set
    AWS_STS_REGIONAL_ENDPOINTS=regional, so Gloo's pod calls STS in the stack's region only (no
    dependency on us-east-1's global endpoint, and reachable through an STS VPC endpoint).
    Needs `eks.amazonaws.com/sts-regional-endpoints: "true"` on Gloo's service accounts."""
    dep = deployer(in_region(region))
    pod = dep.gloo_pod()
    env = webhook_env(pod.annotations, region=region)
    assert env.get("AWS_STS_REGIONAL_ENDPOINTS") == "regional", f"Gloo's service account annotations: {pod.annotations}"

    run = dep.run_gloo(pod).ok()
    assert {call["host"] for call in run.transcript["sts_calls"]} == {sts_hosts(region, regional=True)}
    assert run.logins[0]["request"]["sts_url"] == f"https://{sts_hosts(region, regional=True)}/"
    assert run.logins[0]["request"]["signed_region"] == declared(dep, CLIENT)["stsRegion"]


def test_without_gloos_region_setting_it_signs_for_us_east_1_which_vault_refuses(deployer: Deployer) -> None:
    """Where the signed region and Vault's sts_region differ, the login is refused with Vault's
    error. With no region in Gloo's Settings, Gloo adds no WithRegion and api/auth/aws signs for its
    default, us-east-1; an eu-west-1 stack's Vault sends that to its eu-west-1 STS endpoint."""
    dep = deployer(in_region("eu-west-1"))
    run = dep.run_gloo(dep.gloo_pod().with_vault_settings(region="")).refused()
    assert "WithRegion" not in run.transcript["options"]
    assert [r["signed_region"] for r in run.transcript["login_requests"]] == ["us-east-1"]
    assert declared(dep, CLIENT)["stsRegion"] == "eu-west-1"
    assert run.status == 400
    assert "error making upstream request: received error code 403 from STS" in run.error
    assert "Credential should be scoped to a valid region" in run.error


# ---------------------------------------------------------------------------- staying logged in


def test_gloo_stays_logged_in_past_two_token_lifetimes(deployer: Deployer) -> None:
    """Gloo's renewal loop with the stack's tokenMaxTtl at its minimum (1m): the token is renewed
    (renew-self) until its max TTL, then Gloo logs in again, and its reads never fail; the first
    token, past its max TTL with no login of its own, is refused."""
    dep = deployer(SHORT_TTL)
    seed_secret(dep)
    max_ttl = declared(dep, VAULT_ROLE)["tokenMaxTtl"]
    assert max_ttl == 60
    run = dep.run_gloo(stay=2 * max_ttl + 5, read_every=5).ok()
    logins, renewals, reads = run.logins, run.transcript["renewals"], run.reads

    assert len(logins) >= 3, logins  # a login per lifetime
    for number, (issued, after) in enumerate(itertools.pairwise(logins), start=1):
        assert any(r["login"] == number for r in renewals), f"token {number} was never renewed"
        assert after["at"] < issued["at"] + max_ttl, "the next login came after the token expired"
    for renewal in renewals:  # renewing never carries a token past its max TTL
        issued = logins[renewal["login"] - 1]["at"]
        assert renewal["at"] + renewal["lease_duration"] <= issued + max_ttl + 1, renewal

    assert [r.get("error", "") for r in reads] == [""] * len(reads)
    assert all(r["secrets"] == {"upstream-aws": UPSTREAM_SECRET} for r in reads)
    assert reads[-1]["at"] > 2 * max_ttl and reads[-1]["login"] >= 3  # after two lifetimes

    expired = run.transcript["expired_token"]
    assert expired["login"] == 1 and expired["status"] == 403, expired
    assert "permission denied" in expired["error"]

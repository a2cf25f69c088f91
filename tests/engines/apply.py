"""Applies what the program registered (tests.harness.run_program) to the local engines.

IAM resources go to moto with boto3, Vault resources to OpenBao over its HTTP API, each with
exactly the inputs the program declared, mapped from Pulumi's input names to the AWS / Vault
API fields the providers send (`VAULT_APIS`, `_apply_aws`). A declared input the harness does
not know how to send, or a resource type it does not know, stops the apply: nothing the
program declares is silently dropped. The only values changed on the way are the endpoints
and credentials that must point at the local engines, all in `Rewrites`.

Values that are outputs of other resources (role ARNs, role names, the OIDC provider ARN)
come from the mocks; the apply checks that moto created the same ones, so every reference
in the graph lines up with what exists in moto.

It writes in the order the program registered, and decides nothing an engine decides (order,
updates, replacements, deletes, hooks): what needs the engine runs through the real Pulumi CLI
(tests/engines/test_cli_*.py, with the test plugins in tests/cli/plugins, which share `VAULT_APIS`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.engines.gloo_client import (
    IRSA_ANNOTATION,
    AwsCredentials,
    GlooVaultSettings,
    assume_role_with_web_identity,
    gloo_settings,
    web_identity_token,
)
from tests.engines.gloo_pod import GlooPod, GlooRun
from tests.engines.servers import Engines, Response
from tests.harness import ACCOUNT_ID, ProgramRun, Registered, mock_physical_name, oidc_provider_arn
from tooling.offline import whole_numbers

OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
RELEASE = "kubernetes:helm.sh/v3:Release"
VAULT_PROVIDER = "pulumi:providers:vault"
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")


class ApplyError(Exception):
    """A resource the engines refused (or the harness cannot send); the message says which and why.

    `deployment` is what was applied so far, once Vault's identity exists.
    """

    def __init__(self, message: str, deployment: Deployment | None = None) -> None:
        super().__init__(message)
        self.deployment = deployment


@dataclass
class Rewrites:
    """Every value the harness changes between the registered graph and the local engines.

    Nothing else is changed: every other declared input reaches the engines as declared.
    """

    engines: Engines

    def sts_endpoint(self, declared: str) -> str:
        """Vault's client config `sts_endpoint` (`https://sts.<region>.amazonaws.com`), where Vault
        sends Gloo's signed GetCallerIdentity and its own STS calls → the local stand-in for that
        region, which relays to moto (servers.RegionalSts)."""
        match = re.fullmatch(r"https://sts\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/?", declared)
        if not match:
            raise ApplyError(f"no local stand-in for the STS endpoint {declared!r}")
        return self.engines.sts_url(match.group(1))

    def iam_endpoint(self) -> str:
        """Vault's client config `iam_endpoint`, not declared (AWS's global IAM endpoint), where
        Vault calls iam:GetRole → moto."""
        return self.engines.moto.url

    def pod_sts_endpoint(self) -> str:
        """Where a pod's AWS SDK reaches STS (`sts.amazonaws.com` or `sts.<region>.amazonaws.com`) for
        AssumeRoleWithWebIdentity (IRSA) → moto."""
        return self.engines.moto.url

    def vault_address(self, declared: str) -> str:
        """Gloo's `settings.secretOptions.sources[].vault.address` and the Vault provider's address
        (for in-cluster-dev the API server's service proxy, whose CA file and bearer header only
        serve that proxy and are dropped) → the local OpenBao."""
        del declared
        return self.engines.bao.url

    def vault_aws_credentials(self, creds: AwsCredentials) -> dict[str, str]:
        """Vault's own AWS identity. On EKS the pod identity webhook gives Vault's pod AWS_ROLE_ARN and
        a token file, and the SDK in the plugin assumes the role itself; here the harness assumes it
        on moto and hands the plugin the resulting keys through the plugin catalog's `env`."""
        return creds.as_env()


@dataclass(frozen=True)
class VaultApi:
    """How the Vault provider writes one resource type: path (from some inputs) and body fields."""

    path: str
    path_inputs: tuple[str, ...]
    fields: Mapping[str, str]
    method: str = "POST"


# Pulumi input name → Vault API field, as terraform-provider-vault sends them.
VAULT_APIS: dict[str, VaultApi] = {
    "vault:index/authBackend:AuthBackend": VaultApi(
        "sys/auth/{path}", ("path",), {"type": "type", "description": "description", "local": "local"}
    ),
    "vault:index/mount:Mount": VaultApi(
        "sys/mounts/{path}", ("path",), {"type": "type", "description": "description", "options": "options"}
    ),
    "vault:index/policy:Policy": VaultApi("sys/policies/acl/{name}", ("name",), {"policy": "policy"}, method="PUT"),
    "vault:aws/authBackendClient:AuthBackendClient": VaultApi(
        "auth/{backend}/config/client",
        ("backend",),
        {
            "iamServerIdHeaderValue": "iam_server_id_header_value",
            "stsEndpoint": "sts_endpoint",
            "stsRegion": "sts_region",
            "iamEndpoint": "iam_endpoint",
            "ec2Endpoint": "endpoint",
            "useStsRegionFromClient": "use_sts_region_from_client",
            "accessKey": "access_key",
            "secretKey": "secret_key",
        },
    ),
    "vault:aws/authBackendStsRole:AuthBackendStsRole": VaultApi(
        "auth/{backend}/config/sts/{accountId}", ("backend", "accountId"), {"stsRole": "sts_role"}
    ),
    "vault:kv/secretV2:SecretV2": VaultApi("{mount}/data/{name}", ("mount", "name"), {"dataJson": "data"}),
    "vault:aws/authBackendRole:AuthBackendRole": VaultApi(
        "auth/{backend}/role/{role}",
        ("backend", "role"),
        {
            "authType": "auth_type",
            "boundIamPrincipalArns": "bound_iam_principal_arn",
            "resolveAwsUniqueIds": "resolve_aws_unique_ids",
            "inferredEntityType": "inferred_entity_type",
            "inferredAwsRegion": "inferred_aws_region",
            "tokenPolicies": "token_policies",
            "tokenTtl": "token_ttl",
            "tokenMaxTtl": "token_max_ttl",
            "tokenPeriod": "token_period",
            "tokenType": "token_type",
            "tokenNoDefaultPolicy": "token_no_default_policy",
            "tokenBoundCidrs": "token_bound_cidrs",
        },
    ),
}

# Declared inputs of each AWS type the apply sends (anything else declared stops it).
AWS_INPUTS: dict[str, frozenset[str]] = {
    OIDC_PROVIDER: frozenset({"url", "clientIdLists", "thumbprintLists", "tags"}),
    ROLE: frozenset(
        {"name", "assumeRolePolicy", "description", "path", "maxSessionDuration", "permissionsBoundary", "tags"}
    ),
    ROLE_POLICY: frozenset({"name", "role", "policy"}),
    USER_POLICY: frozenset({"name", "user", "policy"}),
}

# Registered types that are not applied, and why.
NOT_APPLIED = {
    RELEASE: "no cluster here: the Gloo client reads the Gloo release's values, the Vault release's "
    "service account annotation names Vault's identity",
    "pulumi:providers:aws": "moto stands in for the AWS account",
    "pulumi:providers:kubernetes": "no cluster here",
    "kubernetes:core/v1:Namespace": "no cluster here",
    "kubernetes:core/v1:ServiceAccount": "no cluster here: its annotation names Vault's identity",
    "kubernetes:batch/v1:Job": "no cluster here: its pod is run by tests/engines/login_check_pod.py",
    VAULT_PROVIDER: "its address is rewritten (Rewrites.vault_address); its token is checked to be the server's",
}


@dataclass
class Deployment:
    """The program as applied to the engines: what Gloo and an operator need to use it."""

    run: ProgramRun
    engines: Engines
    rewrites: Rewrites
    vault_identity: AwsCredentials
    vault_identity_arn: str
    applied: list[Registered] = field(default_factory=list)
    vault_writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    provider_token: str = ""
    """The child token the Vault provider issued itself and wrote the Vault resources with."""

    @property
    def gloo_release(self) -> Registered:
        """The stack's one Gloo release."""
        return self.gloo_release_of(None)

    def gloo_release_of(self, cluster: str | None) -> Registered:
        """The Gloo release of `cluster` (a `clusters` key: the release `<key>-gloo`), or the only one."""
        releases = [r for r in self.run.of_type(RELEASE) if r.inputs["chart"] in ("gloo", "gloo-ee")]
        if cluster is not None:
            releases = [r for r in releases if r.name == f"{cluster}-gloo"]
        [release] = releases
        return release

    def gloo_settings(self, cluster: str | None = None) -> GlooVaultSettings:
        return gloo_settings(self.gloo_release_of(cluster), self.rewrites.vault_address)

    def gloo_pod(self, cluster: str | None = None) -> GlooPod:
        """Gloo's pod as the program declares it: the release's values and gloo's service account, in
        the stack's cluster, or in `cluster` (its own release, issuer and, as EKS's webhook sets it,
        region) when the stack serves several."""
        release = self.gloo_release_of(cluster)
        outputs = self.run.outputs
        if cluster is None:
            region, issuer_url = outputs["region"], outputs["oidcIssuerUrl"]
        else:
            issuer_url = outputs["clusters"][cluster]["oidcIssuerUrl"]
            region = eks_issuer_region(issuer_url) or outputs["region"]
        return GlooPod.of_release(release.inputs["values"], release.inputs["namespace"], region, issuer_url)

    def run_gloo(
        self, pod: GlooPod | None = None, *, cluster: str | None = None, stay: float = 0, read_every: float = 5
    ) -> GlooRun:
        """Gloo's own login and reads (the Go client) as `pod` (default: as declared, in `cluster`),
        with the pod's Vault address and route to STS rewritten to the local engines."""
        pod = pod or self.gloo_pod(cluster)
        return pod.run(
            vault_address=self.rewrites.vault_address(pod.vault_source["address"]),
            sts_endpoint=self.rewrites.pod_sts_endpoint(),
            stay=stay,
            read_every=read_every,
        )

    def operator(self, method: str, path: str, body: Any = None) -> Response:
        """The operator's Vault access: the provider's token, which is the dev server's root token."""
        return self.engines.bao.api(method, path, body)


def eks_issuer_region(issuer_url: str) -> str | None:
    """The region of an EKS cluster's OIDC issuer (`https://oidc.eks.<region>.amazonaws.com/id/...`)."""
    match = re.match(r"https://oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/", issuer_url)
    return match.group(1) if match else None


def _unknown_inputs(res: Registered, known: frozenset[str] | set[str]) -> None:
    extra = sorted(set(res.inputs) - set(known) - {"__defaults"})
    if extra:
        raise ApplyError(f"{res.type} {res.name}: the harness does not know how to send {extra}")


def _physical_name(res: Registered) -> str:
    """An IAM role's or inline policy's name: declared, or auto-named as the mocks (and so every
    output) name it."""
    name: str = res.inputs.get("name") or mock_physical_name(res.name)
    return name


def _provider_child_token(engines: Engines, provider: Registered) -> str:
    """What pulumi-vault does before its first write: a child of the given token
    (`auth/token/create`) living `max_lease_ttl_seconds`, named `token_name`; it writes with it."""
    inputs = provider.inputs
    if str(inputs.get("skipChildToken")).lower() == "true":
        given: str = inputs["token"]
        return given
    ttl = f"{int(inputs['maxLeaseTtlSeconds'])}s"
    body = {"ttl": ttl, "explicit_max_ttl": ttl, "display_name": inputs["tokenName"]}
    answer = engines.bao.api("POST", "auth/token/create", body, token=inputs["token"])
    if answer.status != 200:
        raise ApplyError(f"the Vault provider could not create its child token: {'; '.join(answer.errors)}")
    token: str = answer.body["auth"]["client_token"]
    return token


def _apply_aws(engines: Engines, res: Registered) -> None:
    iam = engines.moto.client("iam")
    inputs = res.inputs
    _unknown_inputs(res, AWS_INPUTS[res.type])
    if res.type == OIDC_PROVIDER:
        created = iam.create_open_id_connect_provider(
            Url=inputs["url"],
            ClientIDList=inputs.get("clientIdLists", []),
            ThumbprintList=inputs.get("thumbprintLists", []),
            Tags=[{"Key": k, "Value": v} for k, v in inputs.get("tags", {}).items()],
        )
        expected = oidc_provider_arn(inputs["url"])
        if created["OpenIDConnectProviderArn"] != expected:
            raise ApplyError(
                f"moto's OIDC provider is {created['OpenIDConnectProviderArn']}, the graph uses {expected}"
            )
    elif res.type == ROLE:
        name = _physical_name(res)
        kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": inputs["assumeRolePolicy"]}
        if "description" in inputs:
            kwargs["Description"] = inputs["description"]
        if "path" in inputs:
            kwargs["Path"] = inputs["path"]
        if "maxSessionDuration" in inputs:
            kwargs["MaxSessionDuration"] = whole_numbers(inputs["maxSessionDuration"])
        if "permissionsBoundary" in inputs:
            kwargs["PermissionsBoundary"] = inputs["permissionsBoundary"]
        if "tags" in inputs:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in inputs["tags"].items()]
        role = iam.create_role(**kwargs)["Role"]
        expected = f"arn:aws:iam::{ACCOUNT_ID}:role{inputs.get('path', '/')}{name}"
        if role["Arn"] != expected:
            raise ApplyError(f"moto's role is {role['Arn']}, the graph uses {expected}")
        if json.loads(inputs["assumeRolePolicy"]) != _policy_document(role["AssumeRolePolicyDocument"]):
            raise ApplyError(f"moto stored another trust policy for {name}")
    elif res.type == ROLE_POLICY:
        iam.put_role_policy(
            RoleName=inputs["role"],
            PolicyName=_physical_name(res),
            PolicyDocument=inputs["policy"],
        )
    elif res.type == USER_POLICY:
        iam.put_user_policy(
            UserName=inputs["user"],
            PolicyName=_physical_name(res),
            PolicyDocument=inputs["policy"],
        )


def _policy_document(stored: Any) -> Any:
    return json.loads(stored) if isinstance(stored, str) else stored


def _vault_request(res: Registered, rewrites: Rewrites) -> tuple[str, str, dict[str, Any]]:
    api = VAULT_APIS[res.type]
    inputs = res.inputs
    _unknown_inputs(res, set(api.path_inputs) | set(api.fields))
    path = api.path.format(**{key: str(inputs[key]).strip("/") for key in api.path_inputs})
    body = {api.fields[key]: whole_numbers(value) for key, value in inputs.items() if key in api.fields}
    if res.type == "vault:kv/secretV2:SecretV2":
        body["data"] = json.loads(body["data"])  # data_json: the kv-v2 write's `data` object
    if res.type == "vault:aws/authBackendClient:AuthBackendClient":
        if "sts_endpoint" in body:
            body["sts_endpoint"] = rewrites.sts_endpoint(body["sts_endpoint"])
        body["iam_endpoint"] = rewrites.iam_endpoint()
    return api.method, path, body


def _vault_identity(engines: Engines, run: ProgramRun, rewrites: Rewrites) -> tuple[str, AwsCredentials]:
    """Vault's own AWS principal, as each topology gives it to Vault, and credentials for it."""
    vault_release = [r for r in run.of_type(RELEASE) if r.inputs["chart"] == "vault"]
    sts = engines.moto.client("sts")
    if vault_release:
        # in-cluster-dev: the Vault pod runs as the service account the chart values name, which the
        # program creates annotated with Vault's IRSA role.
        [release] = vault_release
        name = release.inputs["values"]["server"]["serviceAccount"]["name"]
        [account] = [
            a.inputs["metadata"]
            for a in run.of_type("kubernetes:core/v1:ServiceAccount")
            if (a.inputs["metadata"]["namespace"], a.inputs["metadata"]["name"]) == (release.inputs["namespace"], name)
        ]
        role_arn: str = account["annotations"][IRSA_ANNOTATION]
        subject = f"system:serviceaccount:{account['namespace']}:{account['name']}"
        issuer = run.outputs["oidcIssuerUrl"]
        token = web_identity_token(issuer, subject)
        session = f"botocore-session-{int(time.time())}"
        return role_arn, assume_role_with_web_identity(
            rewrites.pod_sts_endpoint(), run.outputs["region"], role_arn, token, session
        )
    principal: str = run.outputs["vaultAwsIdentityArn"]
    sts_roles = run.of_type("vault:aws/authBackendStsRole:AuthBackendStsRole")
    if sts_roles:
        # external, another account: Vault's principal is the one the created role trusts.
        [role] = [r for r in run.of_type(ROLE) if r.name == "vault-identity"]
        [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        principal = statement["Principal"]["AWS"]
    match = ROLE_ARN.match(principal)
    if not match:
        raise ApplyError(f"cannot make credentials for Vault's principal {principal}")
    account_id, kind, name = match.groups()
    if kind == "role":
        creds = sts.assume_role(RoleArn=principal, RoleSessionName="vault-server")["Credentials"]
        return principal, AwsCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    iam = engines.moto.client("iam")
    if account_id != ACCOUNT_ID:
        iam = engines.moto.client("iam", **_account_admin(engines, account_id))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return principal, AwsCredentials(key["AccessKeyId"], key["SecretAccessKey"])


def _account_admin(engines: Engines, account_id: str) -> dict[str, str]:
    """Credentials that act in another moto account (an assumed role there; moto needs no such role)."""
    creds = engines.moto.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/harness-admin", RoleSessionName="harness"
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _apply_vault(
    run: ProgramRun, deployment: Deployment, applied: list[Registered], omit: Callable[[Registered], bool]
) -> str:
    """Writes `run`'s Vault resources as its Vault provider would: with the child token it issues
    itself from the token it is given, in dependency order; returns that child token."""
    engines = deployment.engines
    provider = run.one(VAULT_PROVIDER)
    token = _provider_child_token(engines, provider)
    for res in run.resources:
        if not (res.custom and res.type in VAULT_APIS) or omit(res):
            continue
        if run.provider_of(res).urn != provider.urn:
            raise ApplyError(f"{res.type} {res.name} does not use the Vault provider")
        _write_vault(deployment, res, token)
        applied.append(res)
    return token


def _write_vault(deployment: Deployment, res: Registered, token: str) -> None:
    """Writes one Vault resource as its provider does, with the provider's child token."""
    method, path, body = _vault_request(res, deployment.rewrites)
    _vault_call(deployment, method, path, body, token)
    deployment.vault_writes.append((method, path, body))


def _vault_call(deployment: Deployment, method: str, path: str, body: Any, token: str) -> None:
    """One call of the Vault provider's; an answer other than success stops the apply with Vault's errors."""
    answer = deployment.engines.bao.api(method, path, body, token=token)
    if answer.status not in (200, 204):
        raise ApplyError(f"{method} {path}: HTTP {answer.status}: {'; '.join(answer.errors)}", deployment)


def apply_another(deployment: Deployment, run: ProgramRun) -> None:
    """Applies another program's Vault resources (a consumer's) to the deployed engines, with the
    token that program's provider is given."""
    _apply_vault(run, deployment, [], lambda res: False)


def apply(
    run: ProgramRun,
    engines: Engines,
    *,
    given: Callable[[Engines], None] | None = None,
    omit: Callable[[Registered], bool] = lambda res: False,
) -> Deployment:
    """Resets the engines and applies `run` to them; raises ApplyError when an engine refuses.

    `given` creates what the program expects to exist already (an external Vault's principal).
    `omit` leaves resources out, for tests that show what a missing resource breaks.
    """
    engines.reset()
    if given is not None:
        given(engines)
    rewrites = Rewrites(engines)
    applied: list[Registered] = []

    for res in run.resources:
        if res.custom and res.type in AWS_INPUTS and not omit(res):
            _apply_aws(engines, res)
            applied.append(res)
        elif res.custom and res.type not in AWS_INPUTS and res.type not in VAULT_APIS and res.type not in NOT_APPLIED:
            raise ApplyError(f"the harness does not know how to apply {res.type} {res.name}")

    identity_arn, identity = _vault_identity(engines, run, rewrites)
    engines.bao.register_aws_plugin(rewrites.vault_aws_credentials(identity))
    deployment = Deployment(run, engines, rewrites, identity, identity_arn, applied)

    if run.one(VAULT_PROVIDER).inputs["token"] != engines.bao.root_token:
        raise ApplyError("the Vault provider's token is not the dev server's root token")
    # Writing the Vault role makes Vault resolve the bound ARN with its own identity: moto checks
    # that identity's IAM policies (and every signature) while Vault is being configured.
    with engines.moto.enforcing_iam():
        deployment.provider_token = _apply_vault(run, deployment, applied, omit)
    return deployment

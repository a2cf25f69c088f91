"""Logs in to Vault and reads secrets the way Gloo Edge 1.15 does, from what its Helm values say.

Gloo (projects/gloo/pkg/bootstrap/clients/vault) builds `github.com/hashicorp/vault/api/auth/aws`
options from `settings.secretOptions.sources[].vault.aws`: `WithIAMAuth()`, then `WithRole`,
`WithRegion`, `WithIAMServerIDHeader`, `WithMountPath` each only when the value is set. That
client takes IRSA credentials from the pod's environment (AssumeRoleWithWebIdentity with the
projected service account token and `AWS_ROLE_ARN`, the role annotated on the service account),
then `awsutil.GenerateLoginData` signs an `sts:GetCallerIdentity` POST for the region, with the
`X-Vault-AWS-IAM-Server-ID` header added before signing, and sends method, URL, body and headers
(base64) to `auth/<mountPath>/login`, plus `role` when set. Without a role, Vault picks the
role named like the caller's IAM role.

Gloo's secret client (solo-kit pkg/api/v1/clients/vault) then keeps its resources at
`<pathPrefix>/data/<rootKey>/<group>/<version>/<Kind>/<namespace>/<name>`, lists
`<pathPrefix>/metadata/<rootKey>/<group>/<version>/<Kind>/<namespace>`, writes
`{"data": ..., "options": {"cas": n}}` and deletes through `metadata/`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.engines.servers import Response, http_json
from tests.harness import Registered

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
STS_AUDIENCE = "sts.amazonaws.com"
GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15"
# Defaults when a value is absent: api/auth/aws (mount "aws", region "us-east-1"), solo-kit's
# vault resource client (pathPrefix "secret") and Gloo's Settings (rootKey "gloo").
DEFAULT_MOUNT_PATH = "aws"
DEFAULT_REGION = "us-east-1"
DEFAULT_PATH_PREFIX = "secret"
DEFAULT_ROOT_KEY = "gloo"
# Gloo's Secret resource type: group, version, kind, as solo-kit builds the directory.
SECRET_TYPE = ("gloo.solo.io", "v1", "Secret")
GLOO_SERVICE_ACCOUNT = "gloo"  # the gloo deployment's service account in the Gloo chart


@dataclass(frozen=True)
class GlooVaultSettings:
    """What Gloo's Vault secret source and its service account say, as Gloo would read them."""

    address: str
    mount_path: str
    iam_server_id_header: str | None
    region: str
    vault_role: str | None
    path_prefix: str
    root_key: str
    role_arn: str
    namespace: str
    service_account: str = GLOO_SERVICE_ACCOUNT

    @property
    def subject(self) -> str:
        """The `sub` of the service account token EKS projects into Gloo's pod."""
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def gloo_settings(release: Registered, address: Callable[[str], str]) -> GlooVaultSettings:
    """Reads the Gloo release's values (OSS, or Enterprise nested under `gloo`).

    `address` maps the declared Vault address to the one to use (the harness's rewrite).
    """
    return gloo_settings_of(release.inputs["values"], release.inputs["namespace"], address)


def gloo_settings_of(values: dict[str, Any], namespace: str, address: Callable[[str], str]) -> GlooVaultSettings:
    """`gloo_settings` from a release's values and namespace (as a cluster recorded them)."""
    gloo = values if "settings" in values else values["gloo"]  # Enterprise nests Gloo's values
    sources = gloo["settings"]["secretOptions"]["sources"]
    [vault] = [source["vault"] for source in sources if "vault" in source]
    aws: dict[str, Any] = vault.get("aws", {})
    return GlooVaultSettings(
        address=address(vault["address"]),
        mount_path=aws.get("mountPath") or DEFAULT_MOUNT_PATH,
        iam_server_id_header=aws.get("iamServerIdHeader") or None,
        region=aws.get("region") or DEFAULT_REGION,
        vault_role=aws.get("vaultRole") or None,
        path_prefix=vault.get("pathPrefix") or DEFAULT_PATH_PREFIX,
        root_key=vault.get("rootKey") or DEFAULT_ROOT_KEY,
        role_arn=gloo["gloo"]["serviceAccount"]["extraAnnotations"][IRSA_ANNOTATION],
        namespace=namespace,
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def web_identity_token(issuer_url: str, subject: str, audience: str = STS_AUDIENCE) -> str:
    """A JWT-shaped projected service account token (header.claims.signature).

    moto does not verify web identity tokens (signature, issuer, audience, subject) nor the
    role's trust policy: the claims say what EKS would put in the token, for the reader.
    """
    now = int(time.time())
    header = {"alg": "RS256", "kid": "engines-test"}
    claims = {"iss": issuer_url, "sub": subject, "aud": [audience], "iat": now, "exp": now + 3600}
    parts = [_b64url(json.dumps(part).encode()) for part in (header, claims)]
    return ".".join([*parts, _b64url(b"not-signed")])


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def botocore(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token)

    def as_env(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def assume_role_with_web_identity(
    sts_url: str, region: str, role_arn: str, token: str, session_name: str
) -> AwsCredentials:
    """What the pod's AWS SDK does with AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (unsigned call)."""
    sts = boto3.client("sts", endpoint_url=sts_url, region_name=region, config=Config(signature_version=UNSIGNED))
    creds = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName=session_name, WebIdentityToken=token)[
        "Credentials"
    ]
    return AwsCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def login_data(
    creds: AwsCredentials, settings: GlooVaultSettings, *, sign_server_id_header: bool = True
) -> dict[str, str]:
    """`awsutil.GenerateLoginData` plus `role`: the body Gloo posts to `auth/<mountPath>/login`.

    `sign_server_id_header=False` adds the header after signing (a tampered request, for tests).
    """
    url = f"https://sts.{settings.region}.amazonaws.com/"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if settings.iam_server_id_header and sign_server_id_header:
        headers[SERVER_ID_HEADER] = settings.iam_server_id_header
    request = AWSRequest(method="POST", url=url, data=GET_CALLER_IDENTITY, headers=headers)
    SigV4Auth(creds.botocore(), "sts", settings.region).add_auth(request)
    signed: dict[str, list[str]] = {name: [value] for name, value in request.headers.items()}
    if settings.iam_server_id_header and not sign_server_id_header:
        signed[SERVER_ID_HEADER] = [settings.iam_server_id_header]
    data = {
        "iam_http_request_method": "POST",
        "iam_request_url": base64.b64encode(url.encode()).decode(),
        "iam_request_body": base64.b64encode(GET_CALLER_IDENTITY.encode()).decode(),
        "iam_request_headers": base64.b64encode(json.dumps(signed).encode()).decode(),
    }
    if settings.vault_role:
        data["role"] = settings.vault_role
    return data


def login(settings: GlooVaultSettings, data: dict[str, str]) -> Response:
    """POST auth/<mountPath>/login, with the header api/auth/aws adds to the Vault request too."""
    headers = {"iam_server_id_header_value": settings.iam_server_id_header} if settings.iam_server_id_header else {}
    return http_json("POST", f"{settings.address}/v1/auth/{settings.mount_path}/login", data, headers)


class GlooSecretClient:
    """solo-kit's Vault resource client for Gloo's Secret kind, with Gloo's token."""

    def __init__(self, settings: GlooVaultSettings, token: str) -> None:
        self.settings = settings
        self.token = token

    def directory(self, kind: str, namespace: str) -> str:
        """solo-kit `resourceDirectory`: <pathPrefix>/<data|metadata>/<rootKey>/<group>/<version>/<Kind>/<ns>."""
        s = self.settings
        return "/".join([s.path_prefix, kind, s.root_key, *SECRET_TYPE, namespace])

    def call(self, method: str, path: str, body: Any = None) -> Response:
        return http_json(method, f"{self.settings.address}/v1/{path}", body, {"X-Vault-Token": self.token})

    def list(self, namespace: str) -> Response:
        """`List(namespace)`; namespace "" is `NamespaceAll`, which lists the namespaces first."""
        return self.call("LIST", self.directory("metadata", namespace))

    def read(self, namespace: str, name: str) -> Response:
        return self.call("GET", f"{self.directory('data', namespace)}/{name}")

    def write(self, namespace: str, name: str, resource: dict[str, Any], cas: int = 0) -> Response:
        return self.call(
            "PUT", f"{self.directory('data', namespace)}/{name}", {"data": resource, "options": {"cas": cas}}
        )

    def delete(self, namespace: str, name: str) -> Response:
        return self.call("DELETE", f"{self.directory('metadata', namespace)}/{name}")

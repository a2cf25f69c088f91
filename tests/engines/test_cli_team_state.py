"""README's "Team state" recipe, an S3 backend with a KMS secrets provider, under the real CLI against
moto: the platform team's bucket (versioned) and KMS key (its alias) made as the README says, then the
README's `pulumi login` and `pulumi stack init --secrets-provider` commands as written (for `dev`).

AWS is reached as a user would reach an S3-compatible store or a local endpoint: `AWS_ENDPOINT_URL`
(the AWS SDK's own variable, which the CLI's SDK v2 honours) with the README's URLs unchanged, or the
endpoint in the URLs' query (gocloud.dev's s3blob and awskms URL openers, the version Pulumi
v3.274.1 pins). The state is then in the bucket, with its history, and every secret in it is
encrypted with a data key only that KMS key decrypts.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.cli.account import OPERATOR, Account
from tests.cli.steps import up_dev
from tests.cli.workspace import Workspace
from tests.engines.servers import ROOT_TOKEN
from tests.harness import ROOT

pytestmark = [pytest.mark.engines, pytest.mark.cli]

REGION = "eu-west-1"


def readme_command(start: str) -> str:
    """The README's "Team state" command that begins with `start` (inline code, as written)."""
    section = (
        (ROOT / "docs" / "production.md").read_text().split("\n## Team state: sharing the state and the secrets\n")[1]
    )
    [command] = re.findall(rf"`({re.escape(start)}[^`]*)`", section.split("\n## ", 1)[0])
    return str(command)


def quoted_url(command: str) -> str:
    """The single-quoted URL of a README command."""
    [url] = re.findall(r"'([^']+)'", command)
    return str(url)


def platform_team(account: Account, bucket: str, alias: str) -> str:
    """What the README says the platform team makes: a versioned, private, KMS-encrypted bucket and a
    KMS key whose policy names the team (the operator); returns the key's ARN."""
    kms = account.engines.moto.client("kms", region=REGION)
    root = "arn:aws:iam::123456789012:root"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
            {
                "Sid": "TheTeam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::123456789012:user/{OPERATOR}"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
        ],
    }
    key: dict[str, Any] = kms.create_key(Policy=json.dumps(policy), Description="Pulumi secrets")["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    s3 = account.engines.moto.client("s3", region=REGION)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]
        },
    )
    return str(key["Arn"])


def on_the_team_backend(workspace: Workspace) -> None:
    """The workspace's commands with no file backend and no passphrase: only what `pulumi login` and
    the stack's secrets provider give them."""
    for name in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"):
        workspace.env.pop(name)


def ciphertexts(value: Any) -> list[str]:
    """Every secret's ciphertext in a state document (`{"4dabf…": "1b47…", "ciphertext": …}`)."""
    if isinstance(value, dict):
        found = [value["ciphertext"]] if isinstance(value.get("ciphertext"), str) else []
        return found + [c for v in value.values() for c in ciphertexts(v)]
    if isinstance(value, list):
        return [c for v in value for c in ciphertexts(v)]
    return []


def decrypted(data_key: bytes, ciphertext: str) -> Any:
    """A secret as Pulumi's symmetric crypter wrote it (`v1:<nonce>:<AES-256-GCM>`, sdk/go/common/
    resource/config/crypt.go), decrypted with the stack's data key."""
    version, nonce, sealed = ciphertext.split(":")
    assert version == "v1", ciphertext
    return json.loads(AESGCM(data_key).decrypt(base64.b64decode(nonce), base64.b64decode(sealed), None))


def test_the_readmes_s3_backend_and_kms_secrets_hold_the_dev_stack(account: Account, workspace: Workspace) -> None:
    login = readme_command("pulumi login 's3://")
    init = readme_command("pulumi stack init prod --secrets-provider ")
    bucket_url, kms_url = quoted_url(login), quoted_url(init)
    bucket, prefix = re.fullmatch(r"s3://([^/?]+)/([^?]+)\?.*", bucket_url).groups()  # type: ignore[union-attr]
    key_arn = platform_team(account, bucket, "alias/" + kms_url.removeprefix("awskms://alias/").split("?")[0])

    on_the_team_backend(workspace)
    workspace.env["AWS_ENDPOINT_URL"] = account.engines.moto.url
    workspace.pulumi(*shlex.split(login)[1:]).ok()
    up_dev(account, workspace, "dev", "--secrets-provider", kms_url)
    workspace.pulumi("preview", "--expect-no-changes", "--stack", "dev").ok()

    stack_file = workspace.stack_file("dev").read_text()
    assert f"secretsprovider: {kms_url}\n" in stack_file
    assert not any((workspace.root / "state").iterdir()), "nothing went to the file backend"

    s3 = account.engines.moto.client("s3", region=REGION)
    state_key = f"{prefix}/.pulumi/stacks/gloo-vault-irsa/dev.json"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=state_key)["Versions"]
    assert len([v for v in versions if v["Key"] == state_key]) > 1, "the bucket keeps the state's history"
    locks = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/.pulumi/locks/").get("Contents") or []
    assert locks == [], "the update's lock is gone once it ended"
    body = s3.get_object(Bucket=bucket, Key=state_key)["Body"].read().decode()
    assert ROOT_TOKEN not in body
    latest = json.loads(body)["checkpoint"]["latest"]
    provider = latest["secrets_providers"]
    assert provider["type"] == "cloud" and provider["state"]["url"] == kms_url, provider

    kms = account.engines.moto.client("kms", region=REGION)
    opened = kms.decrypt(CiphertextBlob=base64.b64decode(provider["state"]["encryptedkey"]))
    assert opened["KeyId"] == key_arn, "the stack's data key is encrypted with the platform team's key"
    secrets = [decrypted(opened["Plaintext"], c) for c in ciphertexts(latest["resources"])]
    assert ROOT_TOKEN in secrets, "the Vault token in the state is a secret under that key"


def test_the_endpoint_can_be_in_the_urls_instead(account: Account, workspace: Workspace) -> None:
    """gocloud.dev's query parameters for a non-AWS endpoint (an S3-compatible store, a local one):
    `endpoint` and `use_path_style` on s3://, `endpoint` on awskms://, no AWS_ENDPOINT_URL."""
    moto = account.engines.moto.url
    key_arn = platform_team(account, "acme-pulumi-state", "alias/pulumi-gloo-vault-irsa")
    on_the_team_backend(workspace)
    workspace.env.update(account.env())
    bucket_url = f"s3://acme-pulumi-state/gloo-vault-irsa?region={REGION}&endpoint={moto}&use_path_style=true"
    kms_url = f"awskms://alias/pulumi-gloo-vault-irsa?region={REGION}&endpoint={moto}"
    workspace.pulumi("login", bucket_url).ok()
    workspace.pulumi("stack", "init", "dev", "--secrets-provider", kms_url).ok()
    workspace.pulumi("config", "set", "--secret", "vaultToken", ROOT_TOKEN, "--stack", "dev").ok()
    shown = workspace.pulumi("config", "get", "vaultToken", "--stack", "dev").ok()
    assert shown.stdout.strip() == ROOT_TOKEN

    stored = yaml_value(workspace.stack_file("dev").read_text(), "encryptedkey")
    kms = account.engines.moto.client("kms", region=REGION)
    assert kms.decrypt(CiphertextBlob=base64.b64decode(stored))["KeyId"] == key_arn
    s3 = account.engines.moto.client("s3", region=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="acme-pulumi-state")["Contents"]]
    assert "gloo-vault-irsa/.pulumi/stacks/gloo-vault-irsa/dev.json" in keys, keys


def yaml_value(text: str, key: str) -> str:
    import yaml

    value: str = yaml.safe_load(text)[key]
    return value

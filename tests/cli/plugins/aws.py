"""`pulumi-resource-aws` for the CLI tests: the resource types and lookups this program uses, on moto.

It calls moto (`GVI_MOTO_URL`) with boto3 and the credentials of its environment (the operator's, a
moto IAM user the tests make), in the provider's `region`, with the provider's `defaultTags` merged
into every resource's tags, as pulumi-aws sends them. Simpler than the real provider: no retries,
no `tagsAll` output, and only the inputs below. Read (`pulumi import`, `refresh`) reads a role and
an OIDC provider back from moto as pulumi-aws does: tags without the provider's default tags, and
the diffs it suppresses suppressed (`Kind.same`: equivalent policy JSON, `url` with or without
`https://`, an unset `maxSessionDuration` as its default 3600, an unset `thumbprintLists` as
computed); inline policies are not read back.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3

from tests.cli.plugins.base import Created, Found, Kind, PluginError, TestProvider, run, same_json
from tooling.offline import whole_numbers

VERSION = "7.51.1"  # the pulumi-aws SDK's (requirements.txt): the plugin the program asks for


@dataclass(frozen=True)
class AwsConfig:
    region: str
    default_tags: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=os.environ["GVI_MOTO_URL"], region_name=self.region)

    def tags(self, inputs: dict[str, Any]) -> list[dict[str, str]]:
        merged = {**self.default_tags, **(inputs.get("tags") or {})}
        return [{"Key": k, "Value": v} for k, v in sorted(merged.items())]


def configure(args: dict[str, Any]) -> AwsConfig:
    default_tags = args.get("defaultTags") or {}
    if isinstance(default_tags, str):  # a provider's object inputs reach it as JSON
        default_tags = json.loads(default_tags)
    region = args.get("region")
    return AwsConfig(region if isinstance(region, str) else "us-east-1", dict(default_tags.get("tags") or {}))


def _refused(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except Exception as err:  # botocore's ClientError: its message is AWS's one line
        raise PluginError(str(err)) from None


# ------------------------------------------------------------------------------- IAM role


def create_role(config: AwsConfig, urn: str, inputs: dict[str, Any]) -> Created:
    iam = config.client("iam")
    kwargs: dict[str, Any] = {
        "RoleName": inputs["name"],
        "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
        "Path": inputs.get("path", "/"),
        "Tags": config.tags(inputs),
    }
    if inputs.get("description"):
        kwargs["Description"] = inputs["description"]
    if inputs.get("maxSessionDuration"):
        kwargs["MaxSessionDuration"] = whole_numbers(inputs["maxSessionDuration"])
    if inputs.get("permissionsBoundary"):
        kwargs["PermissionsBoundary"] = inputs["permissionsBoundary"]
    role = _refused(iam.create_role, **kwargs)["Role"]
    return role["RoleName"], {"arn": role["Arn"], "uniqueId": role["RoleId"], "createDate": str(role["CreateDate"])}


def update_role(config: AwsConfig, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    iam = config.client("iam")
    if old.get("assumeRolePolicy") != new.get("assumeRolePolicy"):
        _refused(iam.update_assume_role_policy, RoleName=id_, PolicyDocument=new["assumeRolePolicy"])
    if (old.get("description"), old.get("maxSessionDuration")) != (
        new.get("description"),
        new.get("maxSessionDuration"),
    ):
        _refused(
            iam.update_role,
            RoleName=id_,
            Description=new.get("description") or "",
            MaxSessionDuration=whole_numbers(new.get("maxSessionDuration") or 3600),
        )
    if old.get("permissionsBoundary") != new.get("permissionsBoundary"):
        if new.get("permissionsBoundary"):
            _refused(iam.put_role_permissions_boundary, RoleName=id_, PermissionsBoundary=new["permissionsBoundary"])
        else:
            _refused(iam.delete_role_permissions_boundary, RoleName=id_)
    gone = sorted(set(old.get("tags") or {}) - set(new.get("tags") or {}))
    if gone:
        _refused(iam.untag_role, RoleName=id_, TagKeys=gone)
    _refused(iam.tag_role, RoleName=id_, Tags=config.tags(new))
    return {}


def delete_role(config: AwsConfig, id_: str, inputs: dict[str, Any]) -> None:
    _refused(config.client("iam").delete_role, RoleName=id_)


def _own_tags(config: AwsConfig, tags: list[dict[str, str]]) -> dict[str, str]:
    """A resource's `tags` as pulumi-aws reads them: its tags less the provider's default tags."""
    return {t["Key"]: t["Value"] for t in tags if config.default_tags.get(t["Key"]) != t["Value"]}


def _document(found: Any, applied: Any) -> str:
    """A policy document read back: the applied text when IAM holds the same JSON (as pulumi-aws keeps
    it), else IAM's document as JSON text (boto3 gives it decoded)."""
    text = found if isinstance(found, str) else json.dumps(found)
    return applied if isinstance(applied, str) and same_json(applied, text) else text


def read_role(config: AwsConfig, id_: str, applied: dict[str, Any] | None) -> Found:
    try:
        role = config.client("iam").get_role(RoleName=id_)["Role"]
    except config.client("iam").exceptions.NoSuchEntityException:
        return None
    inputs: dict[str, Any] = {
        "name": role["RoleName"],
        "path": role["Path"],
        "assumeRolePolicy": _document(role["AssumeRolePolicyDocument"], (applied or {}).get("assumeRolePolicy")),
    }
    optional = {
        "description": role.get("Description"),
        "maxSessionDuration": role.get("MaxSessionDuration") if role.get("MaxSessionDuration") != 3600 else None,
        "permissionsBoundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        "tags": _own_tags(config, role.get("Tags") or []),
    }
    inputs.update({k: v for k, v in optional.items() if v})
    extra = {"arn": role["Arn"], "uniqueId": role["RoleId"], "createDate": str(role["CreateDate"])}
    return inputs, extra


# -------------------------------------------------------------------- inline policies


GRANT_DELAY = "GVI_IAM_GRANT_DELAY"
"""Test-only: seconds after PutRolePolicy succeeds before the policy takes effect (`never`: it never
does), as IAM's eventual consistency lets a grant land late: AWS answers the call at once, and
pulumi-aws's create returns then, before every IAM endpoint enforces it."""


def inline_policy(owner: str) -> Kind:
    """An inline policy of an IAM role (`owner` "role") or user ("user"): put at create and at every
    update (PutRolePolicy replaces the document), deleted by name; a new owner or name replaces it.
    A role's policy honours `GRANT_DELAY`."""
    owner_key = f"{owner.capitalize()}Name"

    def put(config: AwsConfig, inputs: dict[str, Any]) -> None:
        iam = config.client("iam")
        call = functools.partial(
            _refused,
            getattr(iam, f"put_{owner}_policy"),
            **{owner_key: inputs[owner], "PolicyName": inputs["name"], "PolicyDocument": inputs["policy"]},
        )
        delay = os.environ.get(GRANT_DELAY) if owner == "role" else None
        if not delay:
            call()
        elif delay != "never":
            threading.Timer(float(delay), call).start()

    def create(config: AwsConfig, urn: str, inputs: dict[str, Any]) -> Created:
        put(config, inputs)
        return f"{inputs[owner]}:{inputs['name']}", {}

    def update(config: AwsConfig, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        put(config, new)
        return {}

    def delete(config: AwsConfig, id_: str, inputs: dict[str, Any]) -> None:
        iam = config.client("iam")
        _refused(getattr(iam, f"delete_{owner}_policy"), **{owner_key: inputs[owner], "PolicyName": inputs["name"]})

    return Kind(create, delete, update, replaces=frozenset({"name", owner}), auto_named="name")


# --------------------------------------------------------------------- OIDC provider


def create_oidc_provider(config: AwsConfig, urn: str, inputs: dict[str, Any]) -> Created:
    created = _refused(
        config.client("iam").create_open_id_connect_provider,
        Url=inputs["url"],
        ClientIDList=inputs.get("clientIdLists") or [],
        ThumbprintList=inputs.get("thumbprintLists") or [],
        Tags=config.tags(inputs),
    )
    arn: str = created["OpenIDConnectProviderArn"]
    return arn, {"arn": arn}


def update_oidc_provider(config: AwsConfig, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    iam = config.client("iam")
    for client_id in set(new.get("clientIdLists") or []) - set(old.get("clientIdLists") or []):
        _refused(iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=id_, ClientID=client_id)
    for client_id in set(old.get("clientIdLists") or []) - set(new.get("clientIdLists") or []):
        _refused(iam.remove_client_id_from_open_id_connect_provider, OpenIDConnectProviderArn=id_, ClientID=client_id)
    if old.get("thumbprintLists") != new.get("thumbprintLists"):
        _refused(
            iam.update_open_id_connect_provider_thumbprint,
            OpenIDConnectProviderArn=id_,
            ThumbprintList=new.get("thumbprintLists") or [],
        )
    _refused(iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=id_, Tags=config.tags(new))
    return {"arn": id_}


def delete_oidc_provider(config: AwsConfig, id_: str, inputs: dict[str, Any]) -> None:
    _refused(config.client("iam").delete_open_id_connect_provider, OpenIDConnectProviderArn=id_)


def read_oidc_provider(config: AwsConfig, id_: str, applied: dict[str, Any] | None) -> Found:
    iam = config.client("iam")
    try:
        found = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=id_)
    except iam.exceptions.NoSuchEntityException:
        return None
    url = found["Url"] if found["Url"].startswith("https://") else f"https://{found['Url']}"
    inputs: dict[str, Any] = {"url": url, "clientIdLists": found.get("ClientIDList") or []}
    if found.get("ThumbprintList"):
        inputs["thumbprintLists"] = found["ThumbprintList"]
    tags = _own_tags(config, found.get("Tags") or [])
    if tags:
        inputs["tags"] = tags
    return inputs, {"arn": id_}


def _same_url(old: Any, new: Any) -> bool:
    """pulumi-aws's `suppressOpenIdURL`: an issuer URL with or without its scheme."""
    return str(old or "").removeprefix("https://") == str(new or "").removeprefix("https://")


# ------------------------------------------------------------------------ functions


def get_caller_identity(config: AwsConfig, args: dict[str, Any]) -> dict[str, Any]:
    answer = _refused(config.client("sts").get_caller_identity)
    return {"accountId": answer["Account"], "arn": answer["Arn"], "userId": answer["UserId"], "id": answer["Account"]}


def get_cluster(config: AwsConfig, args: dict[str, Any]) -> dict[str, Any]:
    cluster = _refused(config.client("eks").describe_cluster, name=args["name"])["cluster"]
    return {
        "id": cluster["name"],
        "name": cluster["name"],
        "arn": cluster["arn"],
        "endpoint": cluster["endpoint"],
        "version": cluster.get("version", ""),
        "roleArn": cluster.get("roleArn", ""),
        "status": cluster.get("status", "ACTIVE"),
        "certificateAuthorities": [{"data": cluster["certificateAuthority"]["data"]}],
        "identities": [{"oidcs": [{"issuer": cluster["identity"]["oidc"]["issuer"]}]}],
    }


def get_cluster_auth(config: AwsConfig, args: dict[str, Any]) -> dict[str, Any]:
    """`aws eks get-token`'s token; the test Kubernetes plugin authenticates to its API server itself."""
    return {"id": args["name"], "name": args["name"], "token": f"k8s-aws-v1.test-token-for-{args['name']}"}


def get_oidc_provider(config: AwsConfig, args: dict[str, Any]) -> dict[str, Any]:
    iam = config.client("iam")
    wanted = (args.get("url") or "").removeprefix("https://")
    for entry in _refused(iam.list_open_id_connect_providers)["OpenIDConnectProviderList"]:
        arn = entry["Arn"]
        found = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        if arn == args.get("arn") or found["Url"].removeprefix("https://") == wanted:
            return {"id": arn, "arn": arn, "url": found["Url"], "clientIdLists": found.get("ClientIDList", [])}
    raise PluginError(f"no IAM OIDC provider for {args.get('url') or args.get('arn')}")


PROVIDER = TestProvider(
    "aws",
    kinds={
        "aws:iam/role:Role": Kind(
            create_role,
            delete_role,
            update_role,
            replaces=frozenset({"name", "namePrefix", "path"}),
            computed=frozenset({"arn", "uniqueId", "createDate"}),
            auto_named="name",
            read=read_role,
            same={
                "assumeRolePolicy": same_json,
                "maxSessionDuration": lambda old, new: (old or 3600) == (new or 3600),
                "tags": lambda old, new: (old or {}) == (new or {}),
            },
        ),
        "aws:iam/rolePolicy:RolePolicy": inline_policy("role"),
        "aws:iam/userPolicy:UserPolicy": inline_policy("user"),
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Kind(
            create_oidc_provider,
            delete_oidc_provider,
            update_oidc_provider,
            replaces=frozenset({"url"}),
            computed=frozenset({"arn"}),
            read=read_oidc_provider,
            same={
                "url": _same_url,
                "thumbprintLists": lambda old, new: new is None or sorted(old or []) == sorted(new),
                "tags": lambda old, new: (old or {}) == (new or {}),
            },
        ),
    },
    functions={
        "aws:index/getCallerIdentity:getCallerIdentity": get_caller_identity,
        "aws:eks/getCluster:getCluster": get_cluster,
        "aws:eks/getClusterAuth:getClusterAuth": get_cluster_auth,
        "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": get_oidc_provider,
    },
    configure_with=configure,
)

if __name__ == "__main__":
    run(PROVIDER, VERSION)

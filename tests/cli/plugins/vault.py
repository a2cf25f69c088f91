"""`pulumi-resource-vault` for the CLI tests: this program's Vault resources, on the local OpenBao.

Each resource is written to the API path with the fields terraform-provider-vault sends
(`VAULT_APIS`, shared with the engine tests), with the child token the provider issues itself from
the token it is given (`auth/token/create`, `max_lease_ttl_seconds`, `token_name`), as pulumi-vault
does before its first write. Rewritten on the way, as a cluster's network would route them: the
provider's `address` (to `GVI_BAO_URL`) and, in the aws auth client config, `sts_endpoint` (to the
stand-in for its region, `GVI_STS_URLS`) and `iam_endpoint` (to moto). While it writes, moto checks
every signature and IAM policy (`/moto-api/reset-auth`): writing a Vault role makes Vault call
iam:GetRole with its own identity, which must hold the stack's grant.

IDs are the real provider's (a mount's and an auth backend's path, a policy's name, else the API
path), so the README's `pulumi import` IDs are found; Read (`pulumi import`, `refresh`) reads the
resource back from its path and returns every field of `VAULT_APIS` the server holds with a value
(Vault's zero values and the endpoints rewritten above as the program set them), and Diff takes an
unset input as the server's zero value, as the provider's Optional fields read back. Simpler than
the real provider: a kv secret is not read back; an auth or kv mount whose path changes is
replaced (the real provider remounts); no namespace or header handling (the headers the program
sets reach the API server's service proxy, which the address rewrite bypasses).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli.plugins.base import Created, Found, Kind, PluginError, TestProvider, run
from tests.engines.apply import VAULT_APIS
from tests.engines.servers import http_json, moto_enforcing_iam
from tooling.offline import whole_numbers

VERSION = "7.14.0"  # the pulumi-vault SDK's (requirements.txt)


@dataclass
class VaultConfig:
    """The provider's inputs, and the child token it writes with (made on its first write)."""

    token: str
    skip_child_token: bool
    ttl_seconds: int
    token_name: str
    child: str | None = field(default=None)

    def writer(self) -> str:
        if self.child is None:
            self.child = self._child_token()
        return self.child

    def _child_token(self) -> str:
        if self.skip_child_token:
            return self.token
        ttl = f"{self.ttl_seconds}s"
        body = {"ttl": ttl, "explicit_max_ttl": ttl, "display_name": self.token_name}
        answer = call("POST", "auth/token/create", body, self.token)
        return str(answer["auth"]["client_token"])


def configure(args: dict[str, Any]) -> VaultConfig:
    return VaultConfig(
        token=args.get("token") or os.environ.get("VAULT_TOKEN", ""),
        skip_child_token=str(args.get("skipChildToken")).lower() == "true",
        ttl_seconds=int(float(args.get("maxLeaseTtlSeconds") or 1200)),
        token_name=args.get("tokenName") or "terraform",
    )


def call(method: str, path: str, body: Any, token: str) -> Any:
    """One Vault API call; anything but success is the provider's error, with Vault's own errors."""
    answer = http_json(method, f"{os.environ['GVI_BAO_URL']}/v1/{path}", body, {"X-Vault-Token": token})
    if answer.status not in (200, 204):
        raise PluginError(f"error writing to Vault: {method} {path}: Code: {answer.status}. Errors: {answer.errors}")
    return answer.body


def _sts_endpoint(declared: str) -> str:
    """Vault's `sts_endpoint` (`https://sts.<region>.amazonaws.com`) → the local stand-in for that region."""
    match = re.fullmatch(r"https://sts\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/?", declared)
    urls: dict[str, str] = json.loads(os.environ.get("GVI_STS_URLS", "{}"))
    if not match or match.group(1) not in urls:
        raise PluginError(f"no local stand-in for the STS endpoint {declared!r}")
    return urls[match.group(1)]


def request_of(type_: str, inputs: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(method, path, body) of the write that creates or updates a resource of `type_`."""
    api = VAULT_APIS[type_]
    unknown = sorted(set(inputs) - set(api.path_inputs) - set(api.fields) - {"deleteAllVersions"})
    if unknown:
        raise PluginError(f"the test plugin vault does not send {unknown} of {type_}")
    path = api.path.format(**{key: str(inputs[key]).strip("/") for key in api.path_inputs})
    body = {api.fields[key]: whole_numbers(value) for key, value in inputs.items() if key in api.fields}
    if type_ == "vault:kv/secretV2:SecretV2":
        body["data"] = json.loads(body["data"])
    if type_ == "vault:aws/authBackendClient:AuthBackendClient":
        if "sts_endpoint" in body:
            body["sts_endpoint"] = _sts_endpoint(body["sts_endpoint"])
        body["iam_endpoint"] = os.environ["GVI_MOTO_URL"]
    return api.method, path, body


ID_TEMPLATES = {
    "vault:index/authBackend:AuthBackend": "{path}",
    "vault:index/mount:Mount": "{path}",
    "vault:index/policy:Policy": "{name}",
}
"""The real provider's IDs where they are not the API path (its docs' `## Import` sections)."""


def resource_id(type_: str, inputs: dict[str, Any]) -> str:
    template = ID_TEMPLATES.get(type_, VAULT_APIS[type_].path)
    return template.format(**{key: str(inputs[key]).strip("/") for key in VAULT_APIS[type_].path_inputs})


def path_inputs(type_: str, id_: str) -> dict[str, str]:
    """The inputs an ID names (`auth/aws/role/gloo` -> backend `aws`, role `gloo`)."""
    template = ID_TEMPLATES.get(type_, VAULT_APIS[type_].path)
    keys = VAULT_APIS[type_].path_inputs
    pattern = re.escape(template)
    for index, key in enumerate(keys):
        group = f"(?P<{key}>.+)" if index == len(keys) - 1 else f"(?P<{key}>[^/]+)"
        pattern = pattern.replace(re.escape("{" + key + "}"), group)
    match = re.fullmatch(pattern, id_.strip("/"))
    if match is None:
        raise PluginError(f"{type_} takes an ID like {template!r} (got {id_!r})")
    return match.groupdict()


def zero(value: Any) -> bool:
    """Vault's zero value of a field (what an unset Optional input of the provider reads back as)."""
    return value in (None, "", 0, False, [], {}, "default")


def read_back(config: VaultConfig, type_: str, id_: str) -> Found:
    """The resource at its path, as inputs: every `VAULT_APIS` field the server holds with a value."""
    inputs: dict[str, Any] = dict(path_inputs(type_, id_))
    api = VAULT_APIS[type_]
    if type_ in ("vault:index/mount:Mount", "vault:index/authBackend:AuthBackend"):
        table = call("GET", "sys/auth" if "authBackend" in type_ else "sys/mounts", None, config.writer())["data"]
        found = table.get(inputs["path"] + "/")
    else:
        answer = http_json(
            "GET",
            f"{os.environ['GVI_BAO_URL']}/v1/{request_of(type_, inputs)[1]}",
            None,
            {"X-Vault-Token": config.writer()},
        )
        found = answer.body.get("data") if answer.status == 200 and isinstance(answer.body, dict) else None
    if found is None:
        return None
    for key, field_name in api.fields.items():
        value = found.get(field_name)
        if type_ == "vault:aws/authBackendClient:AuthBackendClient" and key in ("stsEndpoint", "iamEndpoint"):
            value = _declared_endpoint(key, value)
        if not zero(value):
            inputs[key] = value
    return inputs, _read_outputs(config, type_, inputs)


def _declared_endpoint(key: str, value: Any) -> str | None:
    """An endpoint the plugin rewrote, as the program declared it (the rewrite undone)."""
    if key == "iamEndpoint":
        return None if value == os.environ["GVI_MOTO_URL"] else value
    urls: dict[str, str] = json.loads(os.environ.get("GVI_STS_URLS", "{}"))
    regions = [region for region, url in urls.items() if url == value]
    return f"https://sts.{regions[0]}.amazonaws.com" if regions else value


REFUSALS = "GVI_VAULT_REFUSALS"
"""Test-only: a file the plugin appends each refused write's error to (the engine shows only the last)."""


def _write(config: VaultConfig, type_: str, inputs: dict[str, Any]) -> None:
    method, path, body = request_of(type_, inputs)
    try:
        with moto_enforcing_iam(os.environ["GVI_MOTO_URL"], Path(os.environ["GVI_MOTO_ENFORCEMENT"])):
            call(method, path, body, config.writer())
    except PluginError as refused:
        if os.environ.get(REFUSALS):
            with open(os.environ[REFUSALS], "a", encoding="utf-8") as log:
                log.write(f"{type_} {path}: {refused}\n")
        raise


def kind(type_: str, replaces: set[str], computed: set[str] | None = None) -> Kind:
    """A Vault resource written to its one path: created and updated by the same write, deleted there."""

    def create(config: VaultConfig, urn: str, inputs: dict[str, Any]) -> Created:
        _write(config, type_, inputs)
        return resource_id(type_, inputs), _read_outputs(config, type_, inputs)

    def update(config: VaultConfig, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if type_ in ("vault:index/mount:Mount", "vault:index/authBackend:AuthBackend"):
            _tune(config, type_, new)
        else:
            _write(config, type_, new)
        return _read_outputs(config, type_, new)

    def delete(config: VaultConfig, id_: str, inputs: dict[str, Any]) -> None:
        path = request_of(type_, inputs)[1]
        if type_ == "vault:kv/secretV2:SecretV2" and inputs.get("deleteAllVersions"):
            path = path.replace("/data/", "/metadata/", 1)
        call("DELETE", path, None, config.writer())

    def read(config: VaultConfig, id_: str, applied: dict[str, Any] | None) -> Found:
        return read_back(config, type_, id_)

    fields = set(VAULT_APIS[type_].fields)
    return Kind(
        create,
        delete,
        update,
        replaces=frozenset(replaces),
        computed=frozenset(computed or ()),
        read=None if type_ == "vault:kv/secretV2:SecretV2" else read,
        same={key: _same_or_zero for key in fields},
    )


def _same_or_zero(old: Any, new: Any) -> bool:
    return old == new or (zero(old) and zero(new))


def _tune(config: VaultConfig, type_: str, inputs: dict[str, Any]) -> None:
    """A mount's description and options change in place (`sys/{auth,mounts}/<path>/tune`)."""
    base = "sys/auth" if type_ == "vault:index/authBackend:AuthBackend" else "sys/mounts"
    body = {"description": inputs.get("description", "")}
    if inputs.get("options"):
        body["options"] = inputs["options"]
    call("POST", f"{base}/{str(inputs['path']).strip('/')}/tune", body, config.writer())


def _read_outputs(config: VaultConfig, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs the real provider reads back that are not inputs (a mount's accessor, a role's ID)."""
    if type_ in ("vault:index/mount:Mount", "vault:index/authBackend:AuthBackend"):
        table = "sys/auth" if type_ == "vault:index/authBackend:AuthBackend" else "sys/mounts"
        mounts = call("GET", table, None, config.writer())["data"]
        return {"accessor": mounts[str(inputs["path"]).strip("/") + "/"]["accessor"]}
    if type_ == "vault:aws/authBackendRole:AuthBackendRole":
        role = call("GET", request_of(type_, inputs)[1], None, config.writer())["data"]
        return {"roleId": role.get("role_id", "")}
    return {}


PROVIDER = TestProvider(
    "vault",
    kinds={
        "vault:index/authBackend:AuthBackend": kind(
            "vault:index/authBackend:AuthBackend", {"type", "path", "local"}, {"accessor"}
        ),
        "vault:index/mount:Mount": kind("vault:index/mount:Mount", {"type", "path", "local"}, {"accessor"}),
        "vault:index/policy:Policy": kind("vault:index/policy:Policy", {"name"}),
        "vault:aws/authBackendClient:AuthBackendClient": kind(
            "vault:aws/authBackendClient:AuthBackendClient", {"backend"}
        ),
        "vault:aws/authBackendRole:AuthBackendRole": kind(
            "vault:aws/authBackendRole:AuthBackendRole", {"backend", "role", "authType"}, {"roleId"}
        ),
        "vault:aws/authBackendStsRole:AuthBackendStsRole": kind(
            "vault:aws/authBackendStsRole:AuthBackendStsRole", {"backend", "accountId"}
        ),
        "vault:kv/secretV2:SecretV2": kind("vault:kv/secretV2:SecretV2", {"mount", "name"}),
    },
    configure_with=configure,
)

if __name__ == "__main__":
    run(PROVIDER, VERSION)

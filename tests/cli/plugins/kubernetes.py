"""`pulumi-resource-kubernetes` for the CLI tests: this program's Kubernetes objects and Helm releases,
on a real kube-apiserver (no nodes).

Which API server a provider reaches is chosen by the `server` of its kubeconfig's current context
(an EKS endpoint from moto, or a cluster stack's), looked up in `GVI_KUBE_CLUSTERS` (server → the
local API server's URL, admin token and CA file, and the cluster's OIDC issuer and region); the
kubeconfig's own credentials (`aws eks get-token`) are not used. Objects are created with
`fieldValidation=Strict`, as the real provider's server-side apply validates them.

A Helm release is recorded as Helm 3 records one, a Secret `sh.helm.release.v1.<name>.v<revision>`
of type `helm.sh/release.v1` in the release's namespace, holding the chart, version and values (as
JSON, not Helm's gzip); no chart is rendered. What the chart would then do, where the tests need it:
the `vault` chart's server starts with its service account's IRSA role and its dev root token, so
the release makes the local OpenBao's aws auth plugin run with that role's credentials (assumed on
moto with a web-identity token for that service account, as EKS's webhook and the SDK would).

A release is read back (`pulumi import` by `<namespace>/<name>`, `refresh`) from its newest record:
its name, namespace, chart, version and values, what Helm records; the inputs Helm does not record
(`repositoryOpts`, `timeout`, `compat`, `createNamespace`) are kept as last applied, and absent on
an import. Simpler than the real provider: no await logic beyond the release's own record, a Job is
created and not run (no nodes), plain objects are not read back.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from tests.cli.plugins.base import Created, Found, Kind, PluginError, TestProvider, run
from tests.engines.gloo_client import IRSA_ANNOTATION, web_identity_token
from tooling.offline import whole_numbers

VERSION = "4.34.2"  # the pulumi-kubernetes SDK's (requirements.txt)


@dataclass(frozen=True)
class Cluster:
    """The local API server standing in for one cluster, and what EKS would know of that cluster."""

    url: str
    token: str
    ca: str
    issuer: str
    region: str

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=headers)
        tls = ssl.create_default_context(cafile=self.ca)
        try:
            with urllib.request.urlopen(request, timeout=30, context=tls) as answer:
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            text = err.read()
            return err.code, json.loads(text) if text.startswith(b"{") else text.decode(errors="replace")

    def must(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        status, answer = self.request(method, path, body)
        if status not in ok:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise PluginError(f"{method} {path.split('?')[0]}: {status}: {message}")
        return answer


def configure(args: dict[str, Any]) -> Cluster:
    """The cluster of the provider's kubeconfig (its current context's server)."""
    clusters: dict[str, dict[str, str]] = json.loads(os.environ["GVI_KUBE_CLUSTERS"])
    kubeconfig = args.get("kubeconfig") or "{}"
    config = json.loads(kubeconfig) if kubeconfig.lstrip().startswith("{") else _yaml(kubeconfig)
    context_name = args.get("context") or config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
    servers = {c["name"]: c["cluster"]["server"] for c in config.get("clusters") or []}
    server = servers.get(contexts.get(context_name, {}).get("cluster", ""), "")
    if server not in clusters:
        raise PluginError(f"no local API server stands in for the cluster at {server!r}")
    return Cluster(**clusters[server])


def _yaml(text: str) -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


# ------------------------------------------------------------------------- plain objects

PATHS = {
    "kubernetes:core/v1:Namespace": "/api/v1/namespaces",
    "kubernetes:core/v1:ServiceAccount": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "kubernetes:batch/v1:Job": "/apis/batch/v1/namespaces/{namespace}/jobs",
}


def object_kind(type_: str) -> Kind:
    """A namespaced or cluster object created from its inputs; its `metadata.name` is auto-named as the
    real provider names it when the program gives none (`<name>-<8 random>`)."""

    def collection(inputs: dict[str, Any]) -> str:
        return PATHS[type_].format(namespace=inputs["metadata"].get("namespace", "default"))

    def create(cluster: Cluster, urn: str, inputs: dict[str, Any]) -> Created:
        body = whole_numbers({k: v for k, v in inputs.items() if k != "__defaults"})
        created = cluster.must("POST", f"{collection(inputs)}?fieldValidation=Strict", body)
        namespace = created["metadata"].get("namespace")
        return (f"{namespace}/" if namespace else "") + created["metadata"]["name"], {"status": created.get("status")}

    def update(cluster: Cluster, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        path = f"{collection(new)}/{new['metadata']['name']}"
        live = cluster.must("GET", path)
        body = whole_numbers(
            {**new, "metadata": {**new["metadata"], "resourceVersion": live["metadata"]["resourceVersion"]}}
        )
        updated = cluster.must("PUT", f"{path}?fieldValidation=Strict", body)
        return {"status": updated.get("status")}

    def delete(cluster: Cluster, id_: str, inputs: dict[str, Any]) -> None:
        if type_ == "kubernetes:core/v1:Namespace":
            remove_namespace(cluster.request, inputs["metadata"]["name"])
            return
        path = f"{collection(inputs)}/{inputs['metadata']['name']}?propagationPolicy=Background"
        cluster.must("DELETE", path, ok=(200, 202, 404))

    replaces = {"kind", "apiVersion"} | ({"spec"} if type_ == "kubernetes:batch/v1:Job" else set())
    return Kind(
        create, delete, update, replaces=frozenset(replaces), computed=frozenset({"status"}), auto_named="metadata.name"
    )


NAMESPACED = (
    "/api/v1/namespaces/{}/secrets",
    "/api/v1/namespaces/{}/serviceaccounts",
    "/apis/batch/v1/namespaces/{}/jobs",
)
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def remove_namespace(request: Callable[[str, str, Any], tuple[int, Any]], name: str) -> None:
    """What a cluster's namespace controller does for a deleted namespace, which an API server without
    controllers never finishes: the objects in it go, then the namespace (its finalizer cleared)."""
    for collection in NAMESPACED:
        path = collection.format(name)
        _, found = request("GET", path, None)
        for item in (found or {}).get("items", []):
            request("DELETE", f"{path}/{item['metadata']['name']}", None)
    request("DELETE", f"/api/v1/namespaces/{name}", None)
    request("PUT", f"/api/v1/namespaces/{name}/finalize", {"metadata": {"name": name}, "spec": {"finalizers": []}})


# ---------------------------------------------------------------------------- Helm releases


def _release_secret(name: str, namespace: str, revision: int, inputs: dict[str, Any]) -> dict[str, Any]:
    record = {
        "name": name,
        "namespace": namespace,
        "version": revision,
        "info": {"status": "deployed"},
        "chart": {"metadata": {"name": inputs["chart"], "version": inputs.get("version", "")}},
        "config": inputs.get("values") or {},
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": f"sh.helm.release.v1.{name}.v{revision}",
            "namespace": namespace,
            "labels": {"owner": "helm", "name": name, "status": "deployed", "version": str(revision)},
        },
        "data": {"release": base64.b64encode(json.dumps(record).encode()).decode()},
    }


def _revisions(cluster: Cluster, name: str, namespace: str) -> list[int]:
    found = cluster.must("GET", f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm,name%3D{name}")
    return sorted(int(item["metadata"]["labels"]["version"]) for item in found["items"])


def _install(cluster: Cluster, inputs: dict[str, Any]) -> dict[str, Any]:
    name, namespace = inputs["name"], inputs.get("namespace", "default")
    if inputs.get("createNamespace"):
        cluster.must("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}}, ok=(201, 409))
    revision = max(_revisions(cluster, name, namespace), default=0) + 1
    cluster.must("POST", f"/api/v1/namespaces/{namespace}/secrets", _release_secret(name, namespace, revision, inputs))
    if inputs["chart"] == "vault":
        _start_vault(cluster, namespace, inputs.get("values") or {})
    status = {"name": name, "namespace": namespace, "revision": revision, "status": "deployed"}
    return {"status": {**status, "chart": inputs["chart"], "version": inputs.get("version", "")}}


def create_release(cluster: Cluster, urn: str, inputs: dict[str, Any]) -> Created:
    outputs = _install(cluster, inputs)
    return f"{inputs.get('namespace', 'default')}/{inputs['name']}", outputs


def update_release(cluster: Cluster, id_: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return _install(cluster, new)


def delete_release(cluster: Cluster, id_: str, inputs: dict[str, Any]) -> None:
    name, namespace = inputs["name"], inputs.get("namespace", "default")
    for revision in _revisions(cluster, name, namespace):
        cluster.must("DELETE", f"/api/v1/namespaces/{namespace}/secrets/sh.helm.release.v1.{name}.v{revision}")


NOT_RECORDED = ("repositoryOpts", "timeout", "compat", "createNamespace")
"""A release's inputs that Helm's record does not hold."""


def read_release(cluster: Cluster, id_: str, applied: dict[str, Any] | None) -> Found:
    namespace, _, name = id_.rpartition("/")
    namespace = namespace or "default"
    revisions = _revisions(cluster, name, namespace)
    if not revisions:
        return None
    secret = cluster.must("GET", f"/api/v1/namespaces/{namespace}/secrets/sh.helm.release.v1.{name}.v{revisions[-1]}")
    record = json.loads(base64.b64decode(secret["data"]["release"]))
    chart = record["chart"]["metadata"]
    inputs = {k: v for k, v in (applied or {}).items() if k in NOT_RECORDED}
    inputs.update(name=name, namespace=namespace, chart=chart["name"], values=record["config"])
    if chart.get("version"):
        inputs["version"] = chart["version"]
    status = {"name": name, "namespace": namespace, "revision": revisions[-1], "status": record["info"]["status"]}
    return inputs, {"status": {**status, "chart": chart["name"], "version": chart.get("version", "")}}


def _start_vault(cluster: Cluster, namespace: str, values: dict[str, Any]) -> None:
    """The dev Vault server starting: it runs as the service account the values name, whose IRSA role
    it assumes (EKS's webhook and the SDK), so the local OpenBao's aws auth plugin gets those
    credentials; its root token is the values' dev root token."""
    server = values["server"]
    account = server["serviceAccount"]["name"]
    live = cluster.must("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}")
    role_arn = (live["metadata"].get("annotations") or {}).get(IRSA_ANNOTATION)
    if not role_arn:
        raise PluginError(f"service account {namespace}/{account} has no {IRSA_ANNOTATION} annotation")
    token = web_identity_token(cluster.issuer, f"system:serviceaccount:{namespace}:{account}")
    sts = boto3.client("sts", endpoint_url=os.environ["GVI_MOTO_URL"], region_name=cluster.region)
    creds = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=f"vault-{int(time.time())}", WebIdentityToken=token
    )["Credentials"]
    env = {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    register_vault_aws_plugin(server["dev"]["devRootToken"], env)


def register_vault_aws_plugin(token: str, env: dict[str, str]) -> None:
    """Registers the local Vault's aws auth plugin (`GVI_BAO_PLUGIN`: its command and sha256) with `env`."""
    plugin = json.loads(os.environ["GVI_BAO_PLUGIN"])
    body = {
        "sha256": plugin["sha256"],
        "command": plugin["command"],
        "env": [f"{k}={v}" for k, v in sorted(env.items())],
    }
    request = urllib.request.Request(
        f"{os.environ['GVI_BAO_URL']}/v1/sys/plugins/catalog/auth/aws",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"X-Vault-Token": token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
    except urllib.error.HTTPError as err:
        raise PluginError(f"the dev Vault refused its aws plugin: {err.code} {err.read().decode()}") from None


PROVIDER = TestProvider(
    "kubernetes",
    kinds={
        **{type_: object_kind(type_) for type_ in PATHS},
        "kubernetes:helm.sh/v3:Release": Kind(
            create_release,
            delete_release,
            update_release,
            replaces=frozenset({"name", "namespace"}),
            computed=frozenset({"status"}),
            read=read_release,
        ),
    },
    configure_with=configure,
)

if __name__ == "__main__":
    run(PROVIDER, VERSION)

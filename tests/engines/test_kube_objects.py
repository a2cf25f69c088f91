"""Every Kubernetes object the program declares itself (not through a Helm chart), created on a
real API server (tests/engines/kube.py: kube-apiserver on etcd) from the registered inputs, with
strict server-side field validation: the Vault namespace and service account of in-cluster-dev,
and the login check Job. Each stack config below uses its own namespaces, so each is created for
real on the one server."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.engines.kube import KubeApiServer
from tests.harness import (
    EXTERNAL_VAULT,
    HELM_RELEASE,
    LICENSE,
    TEST_VAULT_TOKEN,
    ProgramRun,
    Registered,
    dev_config,
    run_program,
    stack_config,
)
from tooling.offline import whole_numbers

pytestmark = pytest.mark.engines

STACKS: dict[str, dict[str, Any]] = {
    "dev": dev_config(),
    "every name changed": {
        **dev_config(),
        "glooNamespace": "edge",
        "vaultNamespace": "secrets",
        "vaultServiceAccount": "vault-server",
        "authMountPath": "aws-eks",
        "kvPath": "secret",
        "glooRootKey": "edge",
        "iamServerIdHeader": "vault.$(edge)'\"`x`.example.org",
        "region": "eu-west-1",
    },
    "external, check on": {
        **dev_config(),
        **EXTERNAL_VAULT,
        "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
        "glooNamespace": "gloo-ext",
        "loginCheck": True,
    },
    # Production's own Vault CA, handed to the check in an in-memory volume (Gloo's namespace `gloo-system`).
    "prod, check on": {**stack_config("prod"), "loginCheck": True},
}


def declared_objects(run: ProgramRun) -> list[Registered]:
    """The program's own Kubernetes objects: every `kubernetes:` resource but Helm releases."""
    return [r for r in run.resources if r.type.startswith("kubernetes:") and r.type != HELM_RELEASE]


def manifest(res: Registered) -> dict[str, Any]:
    """The object as pulumi-kubernetes sends it: the inputs (numbers as JSON integers where they
    are whole), auto-named `<name>-<8 hex>` when the program sets no name."""
    body: dict[str, Any] = whole_numbers(copy.deepcopy(res.inputs))
    body["metadata"].setdefault("name", f"{res.name}-{secrets.token_hex(4)}")
    return body


def collection(kube: KubeApiServer, body: dict[str, Any]) -> str:
    """The object's collection path, from the API server's own discovery of its kind."""
    group_version = body["apiVersion"]
    base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    status, listing, _ = kube.request("GET", base)
    assert status == 200, listing
    [resource] = [r for r in listing["resources"] if r["kind"] == body["kind"] and "/" not in r["name"]]
    if resource["namespaced"]:
        return f"{base}/namespaces/{body['metadata']['namespace']}/{resource['name']}"
    return f"{base}/{resource['name']}"


def create(kube: KubeApiServer, body: dict[str, Any]) -> tuple[int, Any, list[str]]:
    return kube.request("POST", collection(kube, body), body, {"fieldValidation": "Strict"})


def contains(stored: Any, sent: Any) -> bool:
    """Whether the stored object keeps every value sent (the server only adds defaults)."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(contains(stored.get(k), v) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(stored, list) and len(stored) == len(sent) and all(map(contains, stored, sent))
    return bool(stored == sent)


def release_namespaces(kube: KubeApiServer, run: ProgramRun) -> Iterator[str]:
    """The namespaces Helm creates for releases with `create_namespace` (Gloo's), made here as Helm
    would, with Pod Security's `restricted` profile as a warning: a pod template that breaks it
    makes the API server warn on create."""
    for release in run.of_type(HELM_RELEASE):
        if release.inputs.get("createNamespace"):
            namespace = release.inputs["namespace"]
            labels = {"pod-security.kubernetes.io/warn": "restricted"}
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}
            status, answer, _ = kube.request("POST", "/api/v1/namespaces", body)
            assert status in (201, 409), answer
            yield namespace


@pytest.mark.parametrize("stack", list(STACKS))
def test_the_api_server_accepts_every_object_the_program_declares(kube: KubeApiServer, stack: str) -> None:
    name = "prod" if stack.startswith("prod") else "dev"
    run = run_program(STACKS[stack], secrets={"vaultToken": TEST_VAULT_TOKEN, "glooLicenseKey": LICENSE}, stack=name)
    objects = declared_objects(run)
    kinds = {r.type for r in objects}
    in_cluster = STACKS[stack].get("vaultTopology") != "external"
    expected = {"kubernetes:batch/v1:Job"} | (
        {"kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount"} if in_cluster else set()
    )
    assert kinds == expected
    list(release_namespaces(kube, run))
    for res in objects:
        body = manifest(res)
        status, answer, warnings = create(kube, body)
        assert status == 201, (res.type, answer)
        assert warnings == [], (res.type, warnings)  # Gloo's namespace warns on a non-restricted pod
        stored_status, stored, _ = kube.request("GET", f"{collection(kube, body)}/{body['metadata']['name']}")
        assert stored_status == 200 and contains(stored, body), (res.type, stored)


def test_strict_validation_refuses_a_field_kubernetes_does_not_have(kube: KubeApiServer) -> None:
    """What the test above relies on: a misspelt field (snake_case, as Python would name it) is refused."""
    run = run_program({**STACKS["dev"], "glooNamespace": "strict"}, secrets={"vaultToken": TEST_VAULT_TOKEN})
    list(release_namespaces(kube, run))
    body = manifest(run.one("kubernetes:batch/v1:Job"))
    body["spec"]["backoff_limit"] = body["spec"].pop("backoffLimit")
    status, answer, _ = create(kube, body)
    assert status == 400, answer
    assert 'unknown field "spec.backoff_limit"' in answer["message"]


def test_pod_security_warns_on_a_job_that_breaks_the_restricted_profile(kube: KubeApiServer) -> None:
    """What the warnings check relies on: the namespace's `warn: restricted` label is in force."""
    run = run_program({**STACKS["dev"], "glooNamespace": "psa"}, secrets={"vaultToken": TEST_VAULT_TOKEN})
    list(release_namespaces(kube, run))
    body = manifest(run.one("kubernetes:batch/v1:Job"))
    del body["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    status, answer, warnings = create(kube, body)
    assert status == 201, answer
    assert any("restricted" in w and "runAsNonRoot" in w for w in warnings), warnings

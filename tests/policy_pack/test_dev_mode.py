"""`no-vault-dev-mode-in-production` however Vault is given: a Helm `Release` or
v4 `Chart` by its values (test_production.py), and any Kubernetes object whose container runs a
Vault dev server: raw, rendered by a `helm.v3.Chart` (run here as pulumi_kubernetes registers one),
or inline in a `yaml.ConfigGroup`. A Gloo chart given as a v3 or v4 `Chart` meets the pinning and
Gloo-values rules too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

import guardrails
from guardrails import StackContext, StackResource
from tests.harness import ROOT, GuideMocks, ProgramRun, run_program
from tests.policy_pack.engine import (
    DEV,
    Resources,
    only,
    pack_violations,
    props,
    provider_urn,
    replace,
    stack_resources,
    vault_source,
)

PRODUCTION = StackContext("prod", "production")
DEV_MODE = "no-vault-dev-mode-in-production: "
V3_CHART = "kubernetes:helm.sh/v3:Chart"
V4_CHART = "kubernetes:helm.sh/v4:Chart"
HELM_TEMPLATE = "kubernetes:helm:template"


def dev_container() -> dict[str, Any]:
    """The Vault container as the Vault chart renders it with `server.dev.enabled` (trimmed to
    what matters: hashicorp/vault-helm templates/server-statefulset.yaml, with _helpers.tpl's
    `vault.args` and `vault.envs` for mode `dev`)."""
    return {
        "name": "vault",
        "image": "hashicorp/vault:1.19.0",
        "command": ["/bin/sh", "-ec"],
        "args": ["/usr/local/bin/docker-entrypoint.sh vault server -dev \n"],
        "env": [
            {"name": "VAULT_DEV_ROOT_TOKEN_ID", "value": "root"},
            {"name": "VAULT_DEV_LISTEN_ADDRESS", "value": "[::]:8200"},
        ],
    }


def pod_spec(container: dict[str, Any]) -> dict[str, Any]:
    return {"serviceAccountName": "vault", "containers": [container]}


WORKLOADS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "apps/v1:StatefulSet": lambda c: {"spec": {"serviceName": "vault", "template": {"spec": pod_spec(c)}}},
    "apps/v1:Deployment": lambda c: {"spec": {"template": {"spec": pod_spec(c)}}},
    "apps/v1:DaemonSet": lambda c: {"spec": {"template": {"spec": pod_spec(c)}}},
    "apps/v1:ReplicaSet": lambda c: {"spec": {"template": {"spec": pod_spec(c)}}},
    "core/v1:Pod": lambda c: {"spec": pod_spec(c)},
    "batch/v1:Job": lambda c: {"spec": {"template": {"spec": pod_spec(c)}}},
    "batch/v1:CronJob": lambda c: {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec(c)}}}}},
    "apps/v1:StatefulSetPatch": lambda c: {"spec": {"template": {"spec": pod_spec(c)}}},
}


def workload(kind: str, container: dict[str, Any]) -> StackResource:
    """A `kubernetes:<group/version>:<Kind>` resource whose pod runs `container`."""
    group_version, name = kind.rsplit(":", 1)
    api_version = group_version.removeprefix("core/")
    body = {"apiVersion": api_version, "kind": name, "metadata": {"name": "vault", "namespace": "vault"}}
    return StackResource(f"kubernetes:{kind}", "vault", {**body, **WORKLOADS[kind](container)})


def as_init_container(container: dict[str, Any]) -> dict[str, Any]:
    """The dev server hidden as a pod's init container (a sidecar: `restartPolicy: Always`)."""
    return {"spec": {"initContainers": [{**container, "restartPolicy": "Always"}], "containers": []}}


@pytest.mark.parametrize("kind", WORKLOADS)
def test_a_workload_running_a_vault_dev_server_is_refused_in_production(kind: str) -> None:
    resource = workload(kind, dev_container())
    only(pack_violations([resource], PRODUCTION), f"{DEV_MODE}production stack 'prod': kubernetes:{kind} runs a")
    assert pack_violations([resource], DEV) == []


DEV_SERVERS: list[tuple[str, dict[str, Any], str]] = [
    (
        "env-only",
        {"image": "example.com/secrets:1", "env": [{"name": "VAULT_DEV_ROOT_TOKEN_ID", "value": "x"}]},
        "it sets VAULT_DEV_ROOT_TOKEN_ID",
    ),
    ("command-list", {"image": "hashicorp/vault:1.19.0", "command": ["vault", "server", "-dev"]}, "server -dev"),
    ("args-only", {"image": "hashicorp/vault:1.19.0", "args": ["server", "-dev"]}, "server -dev"),
    (
        "dev-flag-later",
        {"image": "x", "args": ["vault", "server", "-log-level=info", "-dev-listen-address=:8200"]},
        "server -dev",
    ),
    ("double-dash", {"image": "x", "command": ["sh", "-c", "exec vault server --dev"]}, "server -dev"),
    ("openbao", {"image": "openbao/openbao:2.2.0", "command": ["bao", "server", "-dev"]}, "server -dev"),
    ("image-default", {"image": "hashicorp/vault:1.19.0"}, "runs its default, `server -dev`"),
    ("image-default-digest", {"image": "docker.io/hashicorp/vault@sha256:0123"}, "runs its default"),
]


@pytest.mark.parametrize(("case", "container", "why"), DEV_SERVERS, ids=[c[0] for c in DEV_SERVERS])
def test_each_way_to_start_a_dev_server_is_seen(case: str, container: dict[str, Any], why: str) -> None:
    only(pack_violations([workload("apps/v1:Deployment", {"name": "v", **container})], PRODUCTION), why)


def test_an_init_container_running_a_dev_server_is_refused() -> None:
    resource = StackResource("kubernetes:core/v1:Pod", "vault", as_init_container(dev_container()))
    only(pack_violations([resource], PRODUCTION), "container 'vault'")


NOT_DEV: list[tuple[str, dict[str, Any]]] = [
    ("config-file", {"image": "hashicorp/vault:1.19.0", "args": ["server", "-config=/vault/config"]}),
    ("vault-agent", {"image": "hashicorp/vault:1.19.0", "args": ["agent", "-config=/etc/agent.hcl"]}),
    ("cli-login", {"image": "hashicorp/vault:1.19.0", "command": ["vault", "login", "-method=aws"]}),
    ("other-image-no-command", {"image": "nginx:1.27"}),
    ("development-word", {"image": "x", "command": ["sh", "-c", "server --development-logs"]}),
]


@pytest.mark.parametrize(("case", "container"), NOT_DEV, ids=[c[0] for c in NOT_DEV])
def test_a_vault_that_is_not_a_dev_server_passes(case: str, container: dict[str, Any]) -> None:
    assert pack_violations([workload("apps/v1:StatefulSet", {"name": "v", **container})], PRODUCTION) == []


@pytest.mark.parametrize("type_", ["kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml:ConfigGroup"])
def test_a_config_group_given_a_dev_server_inline_is_refused(type_: str) -> None:
    """A v2 ConfigGroup shows the pack its `yaml` and `objs` (a v1 one, none: its objects are checked
    as the children it registers)."""
    statefulset = workload("apps/v1:StatefulSet", dev_container()).props
    for inline in (
        {"yaml": yaml.safe_dump(statefulset)},
        {"yaml": [yaml.safe_dump(statefulset)]},
        {"objs": [statefulset]},
    ):
        only(pack_violations([StackResource(type_, "manifests", inline)], PRODUCTION), "runs a Vault dev server")


def test_a_dev_server_given_in_another_charts_values_is_refused(runs: dict[str, ProgramRun]) -> None:
    """A chart that takes extra containers in its values (`extraContainers`, `sidecars`…) given one."""
    sidecar = {"server": {"extraContainers": [dev_container()]}}
    resources = replace(stack_resources(runs["prod"]), guardrails.HELM_RELEASE, lambda p: p["values"].update(sidecar))
    only(pack_violations(resources, PRODUCTION), f"{DEV_MODE}production stack 'prod': {guardrails.HELM_RELEASE} runs a")


# ---------------------------------------------------------------- a helm.v3.Chart, as pulumi_kubernetes makes one


class RenderingMocks(GuideMocks):
    """The mocks, answering Helm's `template` with `objects` (what Helm would render)."""

    def __init__(self, preview: bool, objects: list[dict[str, Any]]) -> None:
        super().__init__(preview)
        self.objects = objects

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == HELM_TEMPLATE:
            self.invokes.append((args.token, dict(args.args), args.provider))
            return {"result": copy.deepcopy(self.objects)}, []
        return super().call(args)


def v3_chart(chart: str, version: str, values: dict[str, Any], objects: list[dict[str, Any]]) -> ProgramRun:
    """tests/policy_pack/programs/v3_chart: a helm.v3.Chart of `chart`, rendering `objects`."""
    return run_program(
        {"chart": chart, "version": version, "values": json.dumps(values)},
        secrets={},
        mocks=lambda preview: RenderingMocks(preview, objects),
        program=ROOT / "tests" / "policy_pack" / "programs" / "v3_chart" / "__main__.py",
        project="v3-chart",
    )


@pytest.fixture(scope="module")
def dev_vault_v3() -> ProgramRun:
    """The Vault chart with `server.dev.enabled`, given as a helm.v3.Chart."""
    statefulset = dict(workload("apps/v1:StatefulSet", dev_container()).props)
    return v3_chart("vault", "0.29.1", {"server": {"dev": {"enabled": True}}}, [statefulset])


def every_resource(run: ProgramRun) -> Resources:
    """Components too (a v3 Chart is one), as the engine hands them to the pack: inputs."""
    return [StackResource(r.type, r.name, props(r), provider_urn(r), r.urn, r.parent or None) for r in run.resources]


def test_a_v3_chart_shows_the_pack_its_objects_not_its_values(dev_vault_v3: ProgramRun) -> None:
    """What the pack can read of a helm.v3.Chart: a component with no inputs, and each rendered
    object a resource of its own, a child of the chart."""
    chart = dev_vault_v3.one(V3_CHART)
    assert not chart.custom and props(chart) == {}
    [statefulset] = dev_vault_v3.of_type("kubernetes:apps/v1:StatefulSet")
    assert statefulset.parent == chart.urn
    assert props(statefulset)["spec"]["template"]["spec"]["containers"][0]["args"] == dev_container()["args"]


def test_the_vault_chart_in_dev_mode_as_a_v3_chart_is_refused_in_production(dev_vault_v3: ProgramRun) -> None:
    found = pack_violations(every_resource(dev_vault_v3), PRODUCTION)
    only(found, f"{DEV_MODE}production stack 'prod': kubernetes:apps/v1:StatefulSet runs a Vault dev server")
    assert [v for v in pack_violations(every_resource(dev_vault_v3), DEV) if v.startswith(DEV_MODE)] == []


def test_a_v3_chart_whose_version_the_pack_cannot_read_is_refused(dev_vault_v3: ProgramRun) -> None:
    """Its version is not among the inputs the pack sees, so it cannot be shown pinned: refused,
    in any stack, saying why."""
    only(pack_violations(every_resource(dev_vault_v3), DEV), "helm-chart-version-pinned: a helm.v3.Chart shows")


# ---------------------------------------------------------------------------- Gloo given as a v3 or v4 Chart


def as_chart(type_: str) -> Callable[[Resources], Resources]:
    """The stack with the Gloo release given as a chart of `type_` (the same inputs)."""
    return lambda resources: [
        r._replace(type=type_) if r.type == guardrails.HELM_RELEASE and r.name == "gloo" else r for r in resources
    ]


@pytest.mark.parametrize("type_", [V3_CHART, V4_CHART])
def test_gloo_as_a_chart_meets_the_pinning_and_values_rules(runs: dict[str, ProgramRun], type_: str) -> None:
    resources = as_chart(type_)(stack_resources(runs["dev"]))
    assert pack_violations(resources, DEV) == []
    unpinned = replace(resources, type_, lambda p: p.update(version="^1.22"), name="gloo")
    only(pack_violations(unpinned, DEV), "helm-chart-version-pinned: Helm chart gloo: version '^1.22' is not exact")

    def other_role(p: dict[str, Any]) -> None:
        vault_source(p["values"])["aws"]["vaultRole"] = "someone-else"

    only(pack_violations(replace(resources, type_, other_role, name="gloo"), DEV), "gloo-vault-agreement: ")

    def plain_http(p: dict[str, Any]) -> None:
        vault_source(p["values"])["address"] = "http://vault.example.com:8200"

    prod = as_chart(type_)(stack_resources(runs["prod"]))
    only(pack_violations(replace(prod, type_, plain_http, name="gloo"), PRODUCTION), "gloo-vault-tls-in-production: ")


def test_gloo_as_a_v4_chart_is_held_to_its_irsa_subjects(runs: dict[str, ProgramRun]) -> None:
    """The stack rules read a v4 Chart's values as a Release's: Gloo's role trusting an account
    the chart does not annotate is refused."""
    resources = as_chart(V4_CHART)(stack_resources(runs["dev"]))

    def trust_default(p: dict[str, Any]) -> None:
        p["assumeRolePolicy"] = p["assumeRolePolicy"].replace("gloo-system:gloo", "gloo-system:default")

    only(
        pack_violations(replace(resources, guardrails.ROLE, trust_default, name="gloo"), DEV), "irsa-subjects-annotated"
    )

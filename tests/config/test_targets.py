"""components/config/targets.py: the `clusters` map: a bad entry stops the program naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.checks import ConfigError
from tests.harness import (
    EKS_STACK,
    FLEET,
    assert_names_key,
    fleet,
    run_program_failure,
)

SECRETS = {"vaultToken": "hvs.test"}


BAD_CLUSTERS: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("not-a-map", "clusters", ["edge-a"], {}),
    ("empty", "clusters", {}, {}),
    ("upper-case-name", "clusters", {"East": {"clusterName": "e"}}, {}),
    ("long-name", "clusters", {"a" * 21: {"clusterName": "e"}}, {}),
    ("entry-not-a-map", "clusters.a", {"a": "edge-a"}, {}),
    ("unknown-field", "clusters.a.kubeconfig", {"a": {"clusterName": "e", "kubeconfig": "x"}}, {}),
    ("both", "clusters.a", {"a": {"clusterName": "e", "clusterStackRef": EKS_STACK}}, {}),
    ("neither", "clusters.a", {"a": {"adoptOidcProvider": True}}, {}),
    ("bad-cluster-name", "clusters.a.clusterName", {"a": {"clusterName": "my cluster"}}, {}),
    ("bad-stack", "clusters.a.clusterStackRef", {"a": {"clusterStackRef": "a b"}}, {}),
    ("bad-flag", "clusters.a.adoptOidcProvider", {"a": {"clusterName": "e", "adoptOidcProvider": "yes"}}, {}),
    ("same-cluster-twice", "clusters", {"a": {"clusterName": "e"}, "b": {"clusterName": "e"}}, {}),
    ("same-stack-twice", "clusters", {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": EKS_STACK}}, {}),
    # YAML nulls (`clusterName:` with nothing after it) are no value at all, named where they stand.
    ("null-cluster-name", "clusters.a.clusterName", {"a": {"clusterName": None}}, {}),
    ("null-stack", "clusters.a.clusterStackRef", {"a": {"clusterStackRef": None}}, {}),
    ("null-flag", "clusters.a.adoptOidcProvider", {"a": {"clusterName": "e", "adoptOidcProvider": None}}, {}),
    ("null-entry", "clusters.a", {"a": None}, {}),
    # A stack named without its organisation or project is refused (Pulumi would read `eks/prod` as
    # organisation `eks`, stack `prod` of this project), so no stack can be spelt two ways.
    (
        "stack-org-omitted",
        "clusters.b.clusterStackRef",
        {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": "eks/prod"}},
        {},
    ),
    (
        "stack-name-only",
        "clusters.b.clusterStackRef",
        {"a": {"clusterStackRef": EKS_STACK}, "b": {"clusterStackRef": "prod"}},
        {},
    ),
    (
        "adopt-with-stack",
        "clusters.a.adoptOidcProvider",
        {"a": {"clusterStackRef": EKS_STACK, "adoptOidcProvider": True}},
        {},
    ),
    (
        "two-from-single",
        "clusters",
        {"a": {"clusterName": "e", "fromSingleCluster": True}, "b": {"clusterName": "f", "fromSingleCluster": True}},
        {},
    ),
    ("and-clusterName", "clusterName", FLEET, {"clusterName": "edge"}),
    ("and-clusterStackRef", "clusterStackRef", FLEET, {"clusterStackRef": EKS_STACK}),
    ("and-kubeconfig", "kubeconfig", FLEET, {"kubeconfig": "apiVersion: v1"}),
    ("and-kubeContext", "kubeContext", FLEET, {"kubeContext": "admin"}),
    ("and-adoptOidcProvider", "adoptOidcProvider", FLEET, {"adoptOidcProvider": True}),
    ("in-cluster-vault", "vaultTopology", FLEET, {"vaultTopology": "in-cluster-dev", "vaultAwsPrincipalArn": ""}),
    (
        "grant-over-iams-limit",
        "clusters",
        {f"cluster-{i:02d}": {"clusterName": f"edge-{i:02d}"} for i in range(40)},
        {"vaultAwsPrincipalArn": "arn:aws:iam::123456789012:user/vault-server"},
    ),
]


@pytest.mark.parametrize(("case", "key", "clusters", "overrides"), BAD_CLUSTERS, ids=[c[0] for c in BAD_CLUSTERS])
def test_bad_clusters_stop_the_program_before_any_resource_naming_the_key(
    case: str, key: str, clusters: Any, overrides: dict[str, Any]
) -> None:
    failed = run_program_failure(fleet(clusters, **overrides), secrets=SECRETS)
    assert_names_key(failed.error, key)
    assert isinstance(failed.error, ConfigError)
    assert [(r.type, r.name) for r in failed.resources] == [], case

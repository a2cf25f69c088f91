"""`clusters`: the map of short names to clusters, each entry checked into a `ClusterTarget`."""

from __future__ import annotations

from typing import Any

from components.config.checks import (
    DNS1123_LABEL,
    Check,
    ConfigError,
    boolean,
    cluster_name,
    config_text,
    json_object,
    stack_name,
)
from components.settings import ClusterTarget

# A cluster's short name in `clusters`: it prefixes its resources' names (an IAM role auto-named
# `<name>-gloo-<7 hex>` stays far below IAM's 64 characters) and keys the `clusters` output.
MAX_CLUSTER_KEY = 20
_CLUSTER_FIELDS = ("clusterName", "clusterStackRef", "adoptOidcProvider", "fromSingleCluster")


def cluster_map(key: str, value: str) -> tuple[ClusterTarget, ...]:
    """A JSON object of short names to `{clusterName | clusterStackRef, adoptOidcProvider?,
    fromSingleCluster?}` (how the CLI stores a map value), each cluster once."""
    expected = "a map of short names to clusters, such as {prod-a: {clusterName: edge-prod-a}}"
    entries = json_object(key, value, expected)
    if not entries:
        raise ConfigError(key, expected)
    parsed = tuple(_cluster_entry(key, name, entry) for name, entry in entries.items())
    for field_name in ("cluster_name", "stack_ref"):
        seen = [getattr(e, field_name) for e in parsed if getattr(e, field_name) is not None]
        twice = sorted({v for v in seen if seen.count(v) > 1})
        if twice:
            raise ConfigError(key, f"each cluster once (got {twice[0]!r} twice)")
    if sum(e.from_single_cluster for e in parsed) > 1:
        raise ConfigError(key, "fromSingleCluster on one cluster at most (the one this stack deployed before)")
    return parsed


def _cluster_entry(key: str, name: Any, entry: Any) -> ClusterTarget:
    """One `clusters` entry, checked; errors name it (`clusters.<name>.<field>`)."""
    if not isinstance(name, str) or len(name) > MAX_CLUSTER_KEY or not DNS1123_LABEL.match(name):
        raise ConfigError(key, f"short names that are DNS-1123 labels of at most {MAX_CLUSTER_KEY} (got {name!r})")
    where = f"{key}.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(where, "a map with clusterName or clusterStackRef")
    unknown = sorted(set(entry) - set(_CLUSTER_FIELDS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "no such field: one of " + ", ".join(_CLUSTER_FIELDS))
    # `clusterName:` with nothing after it is YAML's null: a field present without a value.
    empty = [field_name for field_name, field_value in entry.items() if field_value is None]
    if empty:
        raise ConfigError(f"{where}.{empty[0]}", "a value (got null: nothing after the colon)")
    if ("clusterName" in entry) == ("clusterStackRef" in entry):
        raise ConfigError(where, "exactly one of clusterName and clusterStackRef")
    flags = {f: boolean(f"{where}.{f}", config_text(entry.get(f, False))) for f in _CLUSTER_FIELDS[2:]}
    if flags["adoptOidcProvider"] and "clusterStackRef" in entry:
        raise ConfigError(f"{where}.adoptOidcProvider", "false with clusterStackRef (that stack gives the provider)")
    return ClusterTarget(
        key=name,
        cluster_name=_text_field(f"{where}.clusterName", entry.get("clusterName"), cluster_name),
        stack_ref=_text_field(f"{where}.clusterStackRef", entry.get("clusterStackRef"), stack_name),
        adopt_oidc_provider=flags["adoptOidcProvider"],
        from_single_cluster=flags["fromSingleCluster"],
    )


def _text_field(where: str, value: Any, check: Check) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(where, f"a string (got {value!r})")
    return check(where, value)

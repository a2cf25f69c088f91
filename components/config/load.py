"""Reading the stack's config: every key through its check, then the rules between keys. A
`ConfigError` (a `pulumi.RunError`, which Pulumi prints as one line without a stack trace) stops
the program before a single resource is registered, so bad input never leaves a half-applied
deployment.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config

from components.config.checks import ConfigError, config_text
from components.config.keys import KEYS, REPLACED_KEYS, Key
from components.config.rules import config_warnings, cross_key_rules, required_keys
from components.project import PROJECT
from components.settings import SECTIONS, ClusterTarget, Settings


def read_key(
    key: Key,
    get: Callable[[str], str | None],
    secret: Callable[[str], pulumi.Output[str] | None],
    env: Mapping[str, str],
) -> Any:
    """One key's typed value: its check applied to the set value, else to its default."""
    if key.secret:
        value = secret(key.name)
        if value is None and key.env and env.get(key.env):
            value = pulumi.Output.secret(env[key.env])
    else:
        raw = get(key.name)
        if raw is None or raw == "":  # Pulumi.yaml declares `default: ""` for optional keys
            raw = None if key.default is None else config_text(key.default)
        value = None if raw is None else key.check(key.name, raw)
    return value


def refuse_unknown_keys(given: Iterable[str]) -> None:
    """A key of this project's namespace that no row of `KEYS` names is a typo (`regoin`, `kvpath`)
    that would otherwise leave the key meant at its default: refused, naming the nearest known key.
    `given` is every config key the stack hands the program (`project:key`, other namespaces too)."""
    known = {key.name for key in KEYS}
    by_case = {name.lower(): name for name in known}
    for full in sorted(given):
        namespace, _, name = full.partition(":")
        if namespace != PROJECT or name in known:
            continue
        if name in REPLACED_KEYS:
            raise ConfigError(name, f"no such key: replaced by {REPLACED_KEYS[name]} (docs/configuration.md)")
        nearest = by_case.get(name.lower()) or next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.6)), None)
        hint = f"; did you mean {nearest}?" if nearest else ""
        raise ConfigError(name, f"no such key: not one of this program's keys (docs/configuration.md){hint}")


def parse_settings(
    get: Callable[[str], str | None],
    secret: Callable[[str], pulumi.Output[str] | None],
    env: Mapping[str, str],
    stack: str = "",
) -> Settings:
    """Validates every key, then the rules between keys; raises `ConfigError` on the first bad one."""
    values = {key.settings_field: read_key(key, get, secret, env) for key in KEYS}
    required_keys(values)
    cross_key_rules(values)
    return assemble(values, stack)


def assemble(values: Mapping[str, Any], stack: str = "") -> Settings:
    """The checked values into their sections (`Key.section`): the keys that name the clusters
    become `cluster.targets`, one code path for one cluster or many."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    for key in KEYS:
        if key.section_field != "targets":
            (sections[key.section] if key.section else top)[key.section_field] = values[key.settings_field]
    sections["cluster"]["targets"] = targets(values)
    sections["cluster"]["several"] = values["clusters"] is not None
    built = {name: SECTIONS[name](**fields) for name, fields in sections.items()}
    return Settings(**top, **built, stack=stack)


def targets(values: Mapping[str, Any]) -> tuple[ClusterTarget, ...]:
    """Every cluster the stack serves: the `clusters` entries, or the one its shorthand keys name
    (keyed None: its resources keep the names they had before `clusters` existed)."""
    if values["clusters"] is not None:
        return tuple(values["clusters"])
    single = ClusterTarget(
        key=None,
        cluster_name=values["cluster_name"],
        stack_ref=values["cluster_stack_ref"],
        adopt_oidc_provider=values["adopt_oidc_provider"],
        kubeconfig=values["kubeconfig"],
        kube_context=values["kube_context"],
    )
    return (single,)


def load_settings() -> Settings:
    """Reads the current stack's config (project namespace) and the process environment."""
    refuse_unknown_keys({*runtime_config.CONFIG.get(), *runtime_config.get_config_env()})
    config = pulumi.Config(PROJECT)
    settings = parse_settings(config.get, config.get_secret, os.environ, pulumi.get_stack())
    for warning in config_warnings(settings):
        pulumi.log.warn(warning)
    return settings

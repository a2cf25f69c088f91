"""`no-vault-dev-mode-in-production`, however the Vault server is given: a Helm chart's values
(`production.check_vault_dev_mode`, and a container given in any chart's values), and any
Kubernetes object whose pod spec runs a Vault dev server, raw (a `StatefulSet`, `Deployment`,
`Pod`, `Job`, `DaemonSet`, `CronJob`…) or inline in a `yaml.ConfigGroup`.

A chart or manifest given any way but a Helm `Release` or a v4 `Chart` shows the pack its objects
rather than its values: a `pulumi_kubernetes.helm.v3.Chart` and a v1 `yaml.ConfigFile` or
`ConfigGroup` are components that Python registers with no inputs at all (`__props__ = dict()` in
pulumi_kubernetes' helm/v3/helm.py and yaml/yaml.py; pulumi/pulumi-kubernetes#2144), and render
their objects as children, each one a resource the pack sees; a v2 `ConfigFile` names a file the
pack cannot read, and its provider registers the objects in it as children too. So the objects
are checked, wherever they come from.

A container runs a Vault dev server (in memory, unsealed, with a root token) when its command
line runs `server` with a `-dev` flag (the Vault chart in dev mode renders
`/usr/local/bin/docker-entrypoint.sh vault server -dev`: hashicorp/vault-helm, templates/_helpers.tpl
`vault.args`), when it sets `VAULT_DEV_ROOT_TOKEN_ID` (the chart's `vault.envs` in dev mode), or
when it runs a Vault image with neither command nor args: the image's default command is
`server -dev` (hashicorp/vault's Dockerfile: `CMD ["server", "-dev"]`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from .common import HELM_TYPES, YAML_TYPES, StackContext, as_list, is_unknown
from .production import check_vault_dev_mode

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_DEV_SERVER = re.compile(r"(?:^|\s)server(?:\s+[^\s;&|]+)*?\s+--?dev(?:[\s=-]|$)")
"""`server` followed, in the same command, by `-dev`, `--dev` or a `-dev-…` flag."""
_DEV_ENV = "VAULT_DEV_ROOT_TOKEN_ID"
_VAULT_IMAGES = frozenset({"vault", "vault-enterprise"})
"""The images (`hashicorp/vault`, `hashicorp/vault-enterprise`, Docker's former `vault`) whose
default command is `server -dev`."""


def check_vault_dev_mode_anywhere(resource_type: str, props: Mapping[str, Any], context: StackContext) -> list[str]:
    """In a production stack: no Vault chart in dev mode (`check_vault_dev_mode`), and no
    Kubernetes object, nor manifest given inline to a `yaml.ConfigGroup`, runs a Vault dev server."""
    if not context.production:
        return []
    if resource_type in HELM_TYPES:
        found = dev_servers(props.get("values"), in_values=True)
        violations = check_vault_dev_mode(resource_type, props, context)
    elif resource_type.startswith("kubernetes:"):
        objects: list[Any] = [props]
        if resource_type in YAML_TYPES:
            objects = [*as_list(props.get("objs")), *inline_manifests(props.get("yaml"))]
        found, violations = dev_servers(objects), []
    else:
        return []
    return violations + [
        f"production stack {context.stack!r}: {resource_type} runs a Vault dev server (container {name!r}: {why}); "
        "dev mode keeps secrets in memory and is unsealed with a root token: use vaultTopology: external (a "
        "production Vault) for this stack"
        for name, why in found
    ]


def inline_manifests(manifests: Any) -> list[Any]:
    """The objects of the YAML given inline (one string or several); unreadable YAML is left to
    the provider, which refuses it, and the objects it renders are checked one by one."""
    objects: list[Any] = []
    for text in as_list(manifests):
        if isinstance(text, str) and not is_unknown(text):
            try:
                objects += [doc for doc in yaml.safe_load_all(text) if doc is not None]
            except yaml.YAMLError:
                continue
    return objects


def dev_servers(value: Any, *, in_values: bool = False) -> list[tuple[str, str]]:
    """(container name, what makes it a dev server) for each container, anywhere in `value` (a
    pod spec, a workload's template, a CronJob's job template, a list of objects), that runs a
    Vault dev server. In a chart's values a container may sit under any key (`extraContainers`,
    `sidecars`…), so there every object is read as one (`in_values`)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        why = _dev_server(value) if in_values else None
        if why is not None:
            found.append((str(value.get("name") or "?"), why))
        for key, item in value.items():
            if key in _CONTAINER_LISTS and not in_values and isinstance(item, (list, tuple)):
                found += [
                    (str(c.get("name") or "?"), why)
                    for c in item
                    if isinstance(c, Mapping) and (why := _dev_server(c)) is not None
                ]
            else:
                found += dev_servers(item, in_values=in_values)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += dev_servers(item, in_values=in_values)
    return found


def _dev_server(container: Mapping[str, Any]) -> str | None:
    """What makes this container a Vault dev server; None when nothing known does."""
    env_names = [get_name(e) for e in as_list(container.get("env"))]
    if _DEV_ENV in env_names:
        return f"it sets {_DEV_ENV}"
    command, args = as_list(container.get("command")), as_list(container.get("args"))
    line = " ".join(part for part in (*command, *args) if isinstance(part, str) and not is_unknown(part))
    if _DEV_SERVER.search(" ".join(line.split())):
        return "its command runs `server -dev`"
    image = container.get("image")
    if not command and not args and isinstance(image, str) and _image_name(image) in _VAULT_IMAGES:
        return f"image {image!r} with no command nor args runs its default, `server -dev`"
    return None


def get_name(env: Any) -> Any:
    return env.get("name") if isinstance(env, Mapping) else None


def _image_name(image: str) -> str:
    """`registry/org/vault:1.2@sha256:…` → `vault`."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()

"""What every rule shares: the type tokens, how the engine marks unknown values, the stack's
context (is it production?) and small readers of resource properties and IAM documents.

Each rule takes properties as the engine sends them to a policy pack: camelCase names,
secrets unwrapped, values not known during preview replaced by `UNKNOWN` (or left as the
engine's sentinel strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

PROJECT = "gloo-vault-irsa"
PACK_NAME = "gloo-vault-irsa-guardrails"

ROLE = "aws:iam/role:Role"
IAM_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V3 = "kubernetes:helm.sh/v3:Chart"
"""A component in every SDK: Python registers it with no inputs at all (pulumi_kubernetes
helm/v3/helm.py, `__props__ = dict()`; pulumi/pulumi-kubernetes#2144), its rendered objects as
its children."""
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
HELM_TYPES = (HELM_RELEASE, HELM_CHART_V3, HELM_CHART_V4)
"""A chart however pulumi_kubernetes installs it: its `chart`, `version` and `values`, when shown."""
YAML_TYPES = (
    "kubernetes:yaml:ConfigFile",
    "kubernetes:yaml:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup",
)
"""Manifests as a component: a v2 ConfigGroup shows its inline `yaml` and `objs`; each object
becomes a child resource in every version."""
VAULT_PROVIDER = "pulumi:providers:vault"
VAULT_AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
VAULT_MOUNT = "vault:index/mount:Mount"
VAULT_AWS_CLIENT = "vault:aws/authBackendClient:AuthBackendClient"
VAULT_AWS_ROLE = "vault:aws/authBackendRole:AuthBackendRole"
K8S_PROVIDER = "pulumi:providers:kubernetes"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"

# The sentinels the engine sends for values not known during preview; the same strings as
# pulumi_policy.proxy's UNKNOWN_*_VALUE (the policy pack's tests keep them in step).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Unknown:
    """A value the engine does not know yet (the policy wrapper's stand-in for its sentinels)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return isinstance(value, _Unknown) or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def known(value: Any) -> bool:
    """Set and known: what a comparison needs on both sides."""
    return value is not None and not is_unknown(value)


# ---------------------------------------------------------------------------- the stack

_PRODUCTION_STACK = re.compile(r"(?:^|[-_./])(?:prod|prd|production|live)\d*(?:$|[-_./])", re.IGNORECASE)


@dataclass(frozen=True)
class StackContext:
    """What the policy knows about the stack: its name, its `environment` config key, and the
    project keys its stack file sets in plain text (`secrets.plaintext_keys`; none when the pack
    is not beside the project's files)."""

    stack: str = ""
    environment: str | None = None
    plaintext_keys: frozenset[str] = frozenset()

    @property
    def production(self) -> bool:
        return is_production(self.stack, self.environment)

    @property
    def stack_file(self) -> str:
        """The stack's config file: `Pulumi.<name>.yaml`, by the last part of `org/project/name`."""
        return f"Pulumi.{self.stack.rsplit('/', 1)[-1]}.yaml"


def is_production(stack: str, environment: str | None) -> bool:
    """A stack is production when `environment` is `production`, or a part of its name (split at
    `-`, `_`, `.`, `/`) is `prod`, `prd`, `production` or `live`, optionally followed by digits
    (`prod`, `eu-prd`, `prod2`, `live`, `production_2`; not `product`, `preprod`, `liveness`).
    Either one is enough: a stack named `prod` cannot opt out with `environment: development`."""
    return environment == "production" or bool(_PRODUCTION_STACK.search(stack))


class StackResource(NamedTuple):
    """One resource of the stack as a stack policy sees it."""

    type: str
    name: str
    props: Mapping[str, Any]
    provider: str | None = None
    """The URN of its provider: for a Kubernetes resource, the cluster it is in (None: not given)."""
    urn: str = ""
    parent: str | None = None
    """The URN of its parent (a component of the program), or None."""


ResourceCheck = Callable[[str, Mapping[str, Any], StackContext], list[str]]
StackCheck = Callable[[Sequence[StackResource], StackContext], list[str]]


@dataclass(frozen=True)
class ResourcePolicy:
    name: str
    description: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackPolicy:
    name: str
    description: str
    check: StackCheck


# ---------------------------------------------------------------------------- readers


def as_list(value: Any) -> list[Any]:
    """IAM and Helm accept one value or a list of them: always a list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def get(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def mount_path(value: Any) -> str | None:
    """A Vault path without its slashes (`aws/` and `aws` are one mount); None when unknown."""
    return value.strip("/") if isinstance(value, str) and not is_unknown(value) else None


def seconds(value: Any) -> int | None:
    """A duration as the Vault provider takes it (whole seconds), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


_FALSE_STRINGS = frozenset({"", "false", "f", "0", "no", "n", "off"})


def truthy(value: Any) -> bool:
    """A flag as a chart or provider may read it, failing closed: off only when it is None, False,
    0 or a string that says false (`enabled: 1` and `"True"` are on)."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_STRINGS
    return bool(value)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def document(value: Any, what: str) -> tuple[Mapping[str, Any] | None, list[str]]:
    """An IAM policy document given as a JSON string or an object; None when unknown or absent."""
    if value is None or is_unknown(value):
        return None, []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None, [f"{what} is not valid JSON: write it as a JSON policy document"]
    if not isinstance(value, Mapping):
        return None, [f"{what} is not a policy document object: give it a Version and Statement"]
    return value, []


def statements(doc: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, statement) for each statement object; the label is its Sid or its index."""
    for index, statement in enumerate(as_list(doc.get("Statement"))):
        if isinstance(statement, Mapping):
            sid = statement.get("Sid")
            yield (f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index}"), statement


def allows(statement: Mapping[str, Any]) -> bool:
    effect = statement.get("Effect")
    return isinstance(effect, str) and effect.lower() == "allow"

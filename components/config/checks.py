"""Validators for config values: each takes the key and its raw text and returns the typed value,
or raises `ConfigError` with one line naming the key and what is expected.

Plain Python (no engine), so every rule is tested on plain strings.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pulumi

from components.project import PROGRAM_TAG_KEYS, PROJECT
from components.settings import PrincipalArn

# Every AWS region (commercial, China, GovCloud) as of 2026; an unknown name is a typo, and a
# typo here would silently point STS verification at a region that does not exist.
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
        "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
        "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1",
        "us-gov-west-1", "us-west-1", "us-west-2",
    }
)  # fmt: skip

MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600
"""Gloo renews its token (1.15.19+), so a long max TTL buys nothing but a longer-lived leak; the
policy pack holds every stack to the same bound."""

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# re.ASCII: IAM names are ASCII; without it \w would accept any Unicode letter.
_IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}):(role|user)/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$", re.ASCII
)
_VAULT_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_EKS_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$", re.ASCII)
_VAULT_POLICY_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$")
# Vault's built-in policies: `root` cannot be written, and writing `default` would hand Gloo's
# rights to every token Vault issues.
_RESERVED_VAULT_POLICIES = ("root", "default")
# Vault refuses to mount below these (and `token` is the token auth method's own mount).
_RESERVED_MOUNTS = ("sys", "auth", "cubbyhole", "identity", "audit", "token")
_HELM_RELEASE_NAME_MAX = 53
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# IAM paths: `/` or `/a/b/`, at most 512 characters (IAM's limits, in the characters IAM names take).
_IAM_PATH = re.compile(r"^/(?:[A-Za-z0-9_+=,.@-]+/)*$", re.ASCII)
_IAM_PATH_MAX = 512
_MANAGED_POLICY_ARN = re.compile(
    r"^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}$", re.ASCII
)
# IAM's bounds on a role's maximum session duration.
MIN_SESSION_SECONDS, MAX_SESSION_SECONDS = 3600, 12 * 3600
# IAM takes 50 tags a resource; the program adds at most this many of its own to one resource.
MAX_TAGS, PROGRAM_TAGS = 50, len(PROGRAM_TAG_KEYS)
_TAG_KEY_MAX, _TAG_VALUE_MAX = 128, 256
# org/project/stack, each part as Pulumi allows it. Pulumi reads a shorter name as a stack of the
# current project (`eks/prod`: organisation `eks`, stack `prod`; httpstate and diy backends'
# ParseStackReference), which for this program is `gloo-vault-irsa`, never a cluster's stack.
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

Check = Callable[[str, str], Any]
"""A validator: (key, raw text) → the typed value, or `ConfigError`."""


class ConfigError(pulumi.RunError):
    """Bad stack config: one line naming the key and what is expected."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"{PROJECT}:{key}: expected {expected}")
        self.key = key


def parse_principal_arn(arn: str) -> PrincipalArn | None:
    m = _IAM_PRINCIPAL_ARN.match(arn)
    if not m:
        return None
    return PrincipalArn(arn=arn, partition=m.group(1), account=m.group(2), kind=m.group(3), name=m.group(5))


def parse_semver(version: str) -> tuple[int, int, int]:
    m = _SEMVER.match(version)
    if not m:
        raise ValueError(version)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def is_prerelease(version: str) -> bool:
    m = _SEMVER.match(version)
    return bool(m and m.group(4))


def parse_duration(text: str) -> int:
    """`24h`, `90m`, `1h30m`, `3600s` or plain seconds → seconds; Vault's own duration syntax."""
    if text.isdigit():
        return int(text)
    m = _DURATION.match(text)
    if not text or not m:
        raise ValueError(text)
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def text(key: str, value: str) -> str:
    """Any non-empty string (the reader already turned "" into the default)."""
    return value


def config_text(value: Any) -> str:
    """A value as the CLI hands it to the program (a default, or a stack file's): strings as they
    are, booleans as true/false, lists and maps as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def boolean(key: str, value: str) -> bool:
    """`true` or `false` in any case; the refusal shows the value, so a typo (`ture`) is seen at once."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, f"true or false (got {value!r})")


def one_of(*choices: str) -> Check:
    def check(key: str, value: str) -> str:
        if value not in choices:
            raise ConfigError(key, "one of " + ", ".join(choices) + f" (got {value!r})")
        return value

    return check


def dns_label(key: str, value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ConfigError(key, f"a DNS-1123 label (lowercase alphanumerics and '-', at most 63) (got {value!r})")
    return value


def dns_label_list(key: str, value: str) -> tuple[str, ...]:
    """A non-empty JSON list of distinct DNS-1123 labels (how the CLI stores a list value)."""
    try:
        items = json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError(key, "a list of strings") from None
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError(key, "a list of strings")
    if not items:
        raise ConfigError(key, "a non-empty list of service account names")
    for item in items:
        dns_label(key, item)
    if len(set(items)) != len(items):
        raise ConfigError(key, "service account names without duplicates")
    return tuple(items)


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to: ARNs of another partition cannot be used there."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def cluster_name(key: str, value: str) -> str:
    if not _EKS_CLUSTER_NAME.match(value):
        raise ConfigError(key, f"an EKS cluster name (letters, digits, '-', '_', at most 100) (got {value!r})")
    return value


def region(key: str, value: str) -> str:
    if value not in AWS_REGIONS:
        raise ConfigError(key, f"a known AWS region such as us-east-1 (got {value!r})")
    return value


def _word(value: str) -> bool:
    """Printable and without whitespace: what a header value, an output name or a path may hold."""
    return value.isprintable() and not any(c.isspace() for c in value)


def header_value(key: str, value: str) -> str:
    if not _word(value):
        raise ConfigError(key, f"a header value without whitespace (got {value!r})")
    return value


def vault_policy_name(key: str, value: str) -> str:
    if not _VAULT_POLICY_NAME.match(value) or value in _RESERVED_VAULT_POLICIES:
        raise ConfigError(
            key, f"a Vault policy name (lowercase alphanumerics and '_.-'), not root or default (got {value!r})"
        )
    return value


def helm_release_name(key: str, value: str) -> str:
    if len(value) > _HELM_RELEASE_NAME_MAX or not DNS1123_LABEL.match(value):
        raise ConfigError(key, f"a Helm release name (lowercase alphanumerics and '-', at most 53) (got {value!r})")
    return value


def url(key: str, value: str) -> str:
    """An http(s) address of Vault: scheme, DNS name or IP literal (`http://[::1]:8200`) and port, no
    credentials, and no path (but `/`), query or fragment: the Vault provider and Gloo put the API's
    `/v1/...` after the address, so `/ui` would send every call elsewhere and `?x=1#f` break it."""
    try:
        parts = urlsplit(value)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port, parts = "", None, urlsplit("")
    if parts.username is not None or parts.password is not None:
        shown = value.replace(f"{parts.netloc.rsplit('@', 1)[0]}@", "***@")
        raise ConfigError(key, f"an http(s) URL without credentials; give the token as vaultToken (got {shown!r})")
    if (
        parts.scheme not in ("http", "https")
        or not (_is_ip(host) or _HOSTNAME.match(host))
        or port == 0
        or any(c.isspace() for c in value)
    ):
        raise ConfigError(key, f"an http(s) URL such as http://vault.vault:8200 (got {value!r})")
    if parts.path not in ("", "/") or "?" in value or "#" in value:
        raise ConfigError(
            key,
            f"a Vault address without path, query or fragment, such as https://vault.example.com:8200 (got {value!r})",
        )
    return value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def principal_arn(key: str, value: str) -> PrincipalArn:
    parsed = parse_principal_arn(value)
    if parsed is None:
        raise ConfigError(key, f"an IAM role or user ARN, arn:aws:iam::<12 digits>:role/<name> (got {value!r})")
    return parsed


def vault_path(key: str, value: str) -> str:
    """A path below a mount: no empty, `.` or `..` part, which Vault would resolve elsewhere."""
    path = value.strip("/")
    if not _VAULT_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise ConfigError(
            key, f"a Vault path such as 'dev' (letters, digits, '_.-', '/' between parts) (got {value!r})"
        )
    return path


def mount_path(key: str, value: str) -> str:
    """A path Vault can mount an engine at: not below its own reserved paths."""
    path = vault_path(key, value)
    if path.split("/")[0] in _RESERVED_MOUNTS:
        reserved = ", ".join(_RESERVED_MOUNTS)
        raise ConfigError(key, f"a mount path outside Vault's reserved {reserved} (got {value!r})")
    return path


def duration_seconds(key: str, value: str) -> int:
    """A Vault duration from 1m to 168h, in seconds."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise ConfigError(key, f"a duration such as 24h, 90m or 3600s (got {value!r})") from None
    if not 60 <= seconds <= MAX_TOKEN_TTL_SECONDS:
        raise ConfigError(key, f"between 1m and 168h (got {value!r})")
    return seconds


def iam_path(key: str, value: str) -> str:
    """An IAM path: `/`, or `/` then parts each ending in `/` (`/platform/gloo/`)."""
    if len(value) > _IAM_PATH_MAX or not _IAM_PATH.match(value):
        raise ConfigError(key, f"an IAM path such as / or /platform/gloo/ (starts and ends with /) (got {value!r})")
    return value


def managed_policy_arn(key: str, value: str) -> str:
    """A managed policy's ARN (customer or AWS-managed), as a permissions boundary takes it."""
    if not _MANAGED_POLICY_ARN.match(value):
        raise ConfigError(
            key, f"a managed policy ARN such as arn:aws:iam::123456789012:policy/boundary (got {value!r})"
        )
    return value


def policy_partition(arn: str) -> str:
    """The partition of an ARN that `managed_policy_arn` accepted."""
    return arn.split(":")[1]


def session_seconds(key: str, value: str) -> int:
    """A role's maximum session duration, 1h to 12h (IAM's bounds), in seconds."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise ConfigError(key, f"a duration such as 1h, 12h or 7200 (got {value!r})") from None
    if not MIN_SESSION_SECONDS <= seconds <= MAX_SESSION_SECONDS:
        raise ConfigError(key, f"between 1h and 12h, IAM's bounds (got {value!r})")
    return seconds


def _tag_problem(name: Any, value: Any) -> str | None:
    """What IAM would refuse in one tag, if anything."""
    if not isinstance(name, str) or not isinstance(value, str):
        return "string keys and values"
    if not 1 <= len(name) <= _TAG_KEY_MAX or len(value) > _TAG_VALUE_MAX:
        return f"keys of 1 to {_TAG_KEY_MAX} characters and values of at most {_TAG_VALUE_MAX} (got {name!r})"
    if not all(c.isalnum() or c.isspace() or c in "_.:/=+-@" for c in name + value):
        return f"letters, digits, spaces and _.:/=+-@ only (got {name!r}: {value!r})"
    if name.lower().startswith("aws:"):
        return f"no key starting with aws:, which AWS reserves (got {name!r})"
    return None


def json_object(key: str, value: str, expected: str) -> dict[str, Any]:
    """A map value as the CLI stores it (a JSON object), or the ConfigError saying what is `expected`."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(key, expected)
    return parsed


def tag_map(key: str, value: str) -> dict[str, str]:
    """A JSON object of AWS tags (how the CLI stores a map value), within IAM's limits."""
    tags = json_object(key, value, 'a map of tag names to values, such as {team: edge, cost-center: "42"}')
    if len(tags) > MAX_TAGS - PROGRAM_TAGS:
        raise ConfigError(
            key, f"at most {MAX_TAGS - PROGRAM_TAGS} tags (IAM takes {MAX_TAGS}, the program adds its own)"
        )
    for name, tag in tags.items():
        problem = _tag_problem(name, tag)
        if problem:
            raise ConfigError(key, f"AWS tags with {problem}")
    return dict(tags)


def stack_name(key: str, value: str) -> str:
    """Another project's stack, fully qualified (`org/project/stack`; `organization/...` for a DIY
    backend): one spelling a stack, so that `clusters` can tell the same stack given twice."""
    if not _STACK_NAME.match(value):
        raise ConfigError(
            key,
            "a fully qualified stack name org/project/stack such as acme/eks/prod (Pulumi reads a shorter name "
            f"as a stack of this project, {PROJECT}) (got {value!r})",
        )
    return value


def output_name(key: str, value: str) -> str:
    """The name of another stack's output (any name `pulumi.export` takes, without whitespace)."""
    if not _word(value):
        raise ConfigError(key, f"a stack output name such as kubeconfig (got {value!r})")
    return value


def output_map(fields: tuple[str, ...]) -> Check:
    """A JSON object of some of `fields` to another stack's output names (how the CLI stores a map
    value); each field left out keeps its own name (`{kubeconfig: kubeconfigJson}`)."""

    def check(key: str, value: str) -> dict[str, str]:
        example = "{kubeconfig: kubeconfigJson}"
        given = json_object(key, value, f"a map of {', '.join(fields)} to output names, such as {example}")
        for field, name in given.items():
            if field not in fields:
                raise ConfigError(f"{key}.{field}", "no such field: one of " + ", ".join(fields))
            if not isinstance(name, str):
                raise ConfigError(f"{key}.{field}", f"a stack output name (got {name!r})")
            output_name(f"{key}.{field}", name)
        return {field: given.get(field, field) for field in fields}

    return check


def ca_bundle(key: str, value: str) -> str:
    """One or more PEM certificates that TLS can verify a server with (public: not a secret)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cadata=value)
        loaded = bool(context.get_ca_certs())
    except (ssl.SSLError, ValueError):
        loaded = False
    if not loaded or "-----BEGIN CERTIFICATE-----" not in value:
        raise ConfigError(
            key, "PEM CA certificates (-----BEGIN CERTIFICATE----- ...), e.g. set from a file with < ca.pem"
        )
    return value


def file_path(key: str, value: str) -> str:
    """An absolute file path without whitespace."""
    if not value.startswith("/") or not _word(value):
        raise ConfigError(key, f"an absolute file path such as /etc/vault-ca/ca.crt (got {value!r})")
    return value


def chart_version(example: str, minimum: tuple[int, int, int] | None = None, why: str = "") -> Check:
    """An exact semver; with `minimum`, no earlier version and no pre-release of the minimum itself."""

    def check(key: str, value: str) -> str:
        try:
            parsed = parse_semver(value)
        except ValueError:
            raise ConfigError(key, f"an exact semver chart version such as {example} (got {value!r})") from None
        # A pre-release of the minimum (1.15.3-beta1) precedes it in semver order, so it is too old too.
        if minimum and (parsed < minimum or (parsed == minimum and is_prerelease(value))):
            floor = ".".join(map(str, minimum))
            raise ConfigError(key, f"{floor} or later: {why} (got {value!r})")
        return value.lstrip("v")

    return check

"""Runs the real program under Pulumi's mock runtime, with no cloud credentials, and records the graph.

Every registration is captured as the engine would see it: type, name, parent, provider,
inputs (with which ones are secret), options, and the resource and property dependencies the
SDK computed from outputs. AWS's answers (the cluster, its OIDC issuer, the caller) are
placeholders (`GuideMocks`): account 123456789012, an example issuer; a `StackReference` reads
the outputs of another stack the mocks know (`OtherStack`, `OTHER_STACKS`). `execute` drives the
program (or another one, such as an example) with a stack config in update or preview mode; the
offline review
(`tooling/review.py`) and the tests (`tests/harness.py`) both run it through here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import runpy
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from components.config.checks import config_text
from components.config.vault_versions import OFFLINE_ENV
from components.project import PROJECT

ROOT = Path(__file__).resolve().parent.parent

ACCOUNT_ID = "123456789012"
ISSUER_URL = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
GUIDE_CLUSTER = "gloo-ee-vault-integration"
ENDPOINT = "https://EXAMPLE0123456789.gr7.us-east-1.eks.amazonaws.com"
CA_PEM = b"-----BEGIN CERTIFICATE-----\nTUlJQ0V4YW1wbGU=\n-----END CERTIFICATE-----\n"
CA_DATA = base64.b64encode(CA_PEM).decode()
EKS_TOKEN = "k8s-aws-v1.mock-eks-token"

# Type tokens the tests look resources and invokes up by, named once.
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
JOB = "kubernetes:batch/v1:Job"
VAULT_PROVIDER = "pulumi:providers:vault"
VAULT_AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
VAULT_MOUNT = "vault:index/mount:Mount"
VAULT_POLICY = "vault:index/policy:Policy"
VAULT_AWS_CLIENT = "vault:aws/authBackendClient:AuthBackendClient"
VAULT_AWS_ROLE = "vault:aws/authBackendRole:AuthBackendRole"
VAULT_STS_ROLE = "vault:aws/authBackendStsRole:AuthBackendStsRole"
GET_CLUSTER = "aws:eks/getCluster:getCluster"
GET_CLUSTER_AUTH = "aws:eks/getClusterAuth:getClusterAuth"
GET_OIDC_PROVIDER = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
GET_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """Removes secret wrappers, recursively: assertions look at plain values."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def whole_numbers(value: Any) -> Any:
    """`value` with every whole float as an int, recursively: the runtime hands every number over
    as a float (`backoffLimit: 1` arrives as 1.0), which Kubernetes' integer fields refuse and a
    reader would not have written."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent: str
    provider: str
    custom: bool
    raw_inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options as the engine gets them: protect, retainOnDelete, deleteBeforeReplace,
    replacementTrigger (resolved value) and onError (the error hooks' names)."""

    @property
    def inputs(self) -> dict[str, Any]:
        inputs: dict[str, Any] = unwrap(self.raw_inputs)
        return inputs

    def secret(self, key: str) -> bool:
        return contains_secret(self.raw_inputs.get(key))


ErrorHookCallback = Callable[[bytes], Coroutine[Any, Any, Any]]
"""An error hook as the engine calls it: a serialized ErrorHookRequest in, an ErrorHookResponse out."""


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    invokes: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    error_hooks: dict[str, ErrorHookCallback] = field(default_factory=dict)
    reads: list[Registered] = field(default_factory=list)
    """Resources read, not managed (a `StackReference`): kept apart, as they belong to no layer."""

    def on_error(self, res: Registered, errors: list[str]) -> bool:
        """Runs `res`'s error hooks as the engine does after a failed create (`errors` newest
        first); True when one asks for a retry."""
        request = resource_pb2.ErrorHookRequest(
            urn=res.urn, id="", name=res.name, type=res.type, failed_operation="create", errors=errors
        )
        retry = False
        loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop Pulumi's runtime uses
        try:
            for name in res.options.get("onError", []):
                response: Any = loop.run_until_complete(self.error_hooks[name](request.SerializeToString()))
                retry = retry or bool(response.retry)
        finally:
            loop.close()
        return retry

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def ancestors(self, res: Registered) -> Iterator[Registered]:
        while res.parent:
            parent = [r for r in self.resources if r.urn == res.parent]
            if not parent:
                return
            res = parent[0]
            yield res

    def depends_on(self, res: Registered, target: Registered) -> bool:
        """Whether `res` waits for `target`, directly or through any property."""
        urns = set(res.dependencies)
        for deps in res.property_dependencies.values():
            urns.update(deps)
        return target.urn in urns

    def provider_of(self, res: Registered) -> Registered:
        urn = res.provider.split("::" + res.provider.rsplit("::", 1)[-1])[0] if res.provider else ""
        return self.by_urn(urn)


def mock_physical_name(name: str) -> str:
    """The auto-name the mocks give a resource that sets no `name`, as AWS's auto-naming would."""
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:7]}"


def mock_role_arn(resource_name: str, path: str = "/") -> str:
    """The ARN the mocks give an auto-named `aws.iam.Role` registered as `resource_name` (IAM puts
    the role's path between `role` and its name)."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role{path}{mock_physical_name(resource_name)}"


def mock_role_unique_id(resource_name: str) -> str:
    """The unique ID the mocks give an `aws.iam.Role` registered as `resource_name`."""
    return "AROA" + hashlib.sha256(resource_name.encode()).hexdigest()[:7].upper()


def cluster_issuer_url(cluster_name: str, like: str = ISSUER_URL) -> str:
    """The OIDC issuer EKS gives a cluster: the example issuer for the guide's cluster, an issuer of
    its own for any other (each cluster has its own, so trust policies must not mix them up), in
    the region of the issuer it is `like`."""
    if cluster_name == GUIDE_CLUSTER:
        return ISSUER_URL
    return f"{like.rsplit('/', 1)[0]}/{hashlib.sha256(cluster_name.encode()).hexdigest()[:32].upper()}"


def oidc_provider_arn(issuer_url: str = ISSUER_URL, account_id: str = ACCOUNT_ID) -> str:
    """An IAM OIDC provider's ARN, as IAM forms it from the issuer."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{issuer_url.removeprefix('https://')}"


@dataclass(frozen=True)
class OtherStack:
    """Another stack as a `StackReference` reads it: its outputs, and which of them are secret."""

    outputs: Mapping[str, Any]
    """Its outputs by name."""
    secret: frozenset[str] = frozenset()
    """The names of those that are secret (the engine's `secretOutputNames`)."""


# The stack that owns production's EKS cluster (`clusterStackRef` in Pulumi.prod.yaml), as
# pulumi-eks exports one: its kubeconfig an object, and a secret. Placeholders, as AWS's answers are.
EKS_STACK = "acme/eks/prod"
EKS_CLUSTER = "edge-prod"
EKS_ISSUER_URL = "https://oidc.eks.eu-west-1.amazonaws.com/id/PROD0123456789ABCDEF0123456789AB"
EKS_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": EKS_CLUSTER, "cluster": {"server": "https://PROD.gr7.eu-west-1.eks.amazonaws.com"}}],
    "contexts": [{"name": "admin@edge-prod", "context": {"cluster": EKS_CLUSTER, "user": "admin"}}],
    "current-context": "admin@edge-prod",
    "users": [{"name": "admin", "user": {"token": "eks-stack-secret"}}],
}
EKS_OUTPUTS = {
    "clusterName": EKS_CLUSTER,
    "oidcIssuerUrl": EKS_ISSUER_URL,
    "oidcProviderArn": oidc_provider_arn(EKS_ISSUER_URL),
    "kubeconfig": EKS_KUBECONFIG,
}
OTHER_STACKS = {EKS_STACK: OtherStack(EKS_OUTPUTS, frozenset({"kubeconfig"}))}
"""The other stacks the default mocks know, by fully qualified name."""


def eks_stack(cluster: str) -> OtherStack:
    """An EKS stack like production's (`EKS_OUTPUTS`) for `cluster`: its own OIDC issuer and
    provider and its own kubeconfig (a secret object, as pulumi-eks exports it), so that no
    two clusters' trust policies or Kubernetes providers could be mixed up unnoticed."""
    issuer = cluster_issuer_url(cluster, like=EKS_ISSUER_URL)
    server = f"https://{cluster.upper()}.gr7.eu-west-1.eks.amazonaws.com"
    kubeconfig = {
        **EKS_KUBECONFIG,
        "clusters": [{"name": cluster, "cluster": {"server": server}}],
        "contexts": [{"name": f"admin@{cluster}", "context": {"cluster": cluster, "user": "admin"}}],
        "current-context": f"admin@{cluster}",
    }
    outputs = {
        "clusterName": cluster,
        "oidcIssuerUrl": issuer,
        "oidcProviderArn": oidc_provider_arn(issuer),
        "kubeconfig": kubeconfig,
    }
    return OtherStack(outputs, frozenset({"kubeconfig"}))


class GuideMocks(pulumi.runtime.Mocks):
    """Answers like AWS would for the guide's cluster; in preview, computed outputs stay unknown.

    `stacks` are the other stacks a `StackReference` may name (by fully qualified name); the
    engine reads their outputs in a preview as in an update, and so do these mocks.
    """

    def __init__(self, preview: bool, stacks: Mapping[str, OtherStack] = OTHER_STACKS) -> None:
        self.preview = preview
        self.invokes: list[tuple[str, dict[str, Any], str]] = []
        self.stacks = dict(stacks)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            other = self.stacks.get(state["name"])
            if other is None:
                raise AssertionError(f"no stack {state['name']!r} in these mocks")
            return state["name"], {
                "name": state["name"],
                "outputs": dict(other.outputs),
                "secretOutputNames": sorted(other.secret),
            }
        if self.preview:
            return None, state
        if args.typ == IAM_ROLE:
            name = state.get("name") or mock_physical_name(args.name)
            path = state.get("path") or "/"
            state.update(
                name=name, arn=f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}", uniqueId=mock_role_unique_id(args.name)
            )
        elif args.typ == OIDC_PROVIDER:
            state["arn"] = oidc_provider_arn(state["url"])
        elif args.typ in (IAM_ROLE_POLICY, IAM_USER_POLICY):
            state.setdefault("name", mock_physical_name(args.name))
        elif args.typ == HELM_RELEASE:
            state["status"] = {
                "name": state.get("name"),
                "namespace": state.get("namespace"),
                "version": state.get("version"),
                "status": "deployed",
                "revision": 1,
            }
        elif args.typ == JOB:
            # As pulumi-kubernetes answers once it has awaited the Job: auto-named, complete.
            metadata = state.setdefault("metadata", {})
            metadata.setdefault("name", mock_physical_name(args.name))
            state["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.invokes.append((args.token, dict(args.args), args.provider))
        if args.token == GET_CLUSTER:
            return {
                "name": args.args["name"],
                "arn": f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/{args.args['name']}",
                "endpoint": ENDPOINT,
                "certificateAuthorities": [{"data": CA_DATA}],
                "identities": [{"oidcs": [{"issuer": cluster_issuer_url(args.args["name"])}]}],
            }, []
        if args.token == GET_OIDC_PROVIDER:
            host = args.args["url"].removeprefix("https://")
            return {
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}",
                "url": host,
                "clientIdLists": ["sts.amazonaws.com"],
            }, []
        if args.token == GET_CLUSTER_AUTH:
            return {"name": args.args["name"], "token": EKS_TOKEN}, []
        if args.token == GET_CALLER_IDENTITY:
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLEDEPLOYER",
                "id": ACCOUNT_ID,
            }, []
        raise AssertionError(f"unexpected invoke {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: GuideMocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.reads: list[Registered] = []
        self.error_hooks: dict[str, ErrorHookCallback] = {}

    def ReadResource(self, request: Any) -> Any:
        """Records a read (a `StackReference`) as the engine sees it, then answers as the mocks do."""
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self.reads.append(_recorded(request, response.urn, request.properties, custom=True, property_deps={}))
        return response

    def RegisterErrorHook(self, request: Any) -> Any:
        """Keeps the program's own callback, which the engine would call when an operation fails."""
        for servicer in _CallbackServicer._servicers:
            if request.callback.token in servicer._callbacks:
                self.error_hooks[request.name] = servicer._callbacks[request.callback.token]  # type: ignore[assignment]
        return super().RegisterErrorHook(request)  # type: ignore[no-untyped-call]

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            property_deps = {k: list(v.urns) for k, v in request.propertyDependencies.items()}
            registered = _recorded(
                request, response.urn, request.object, custom=request.custom, property_deps=property_deps
            )
            registered.options = _options(request)
            self.registered.append(registered)
        return response


def _recorded(
    request: Any, urn: str, properties: Any, *, custom: bool, property_deps: dict[str, list[str]]
) -> Registered:
    """A registration or read request as the test sees it."""
    return Registered(
        type=request.type,
        name=request.name,
        urn=urn,
        parent=request.parent,
        provider=request.provider,
        custom=custom,
        raw_inputs=rpc.deserialize_properties(properties, keep_unknowns=True),
        dependencies=list(request.dependencies),
        property_dependencies=property_deps,
    )


def _options(request: Any) -> dict[str, Any]:
    """The options a test may assert on, read from a RegisterResourceRequest."""
    options: dict[str, Any] = {
        "protect": request.protect if request.HasField("protect") else None,
        "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else None,
        "deleteBeforeReplace": request.deleteBeforeReplace,
        "onError": list(request.hooks.on_error) if request.HasField("hooks") else [],
        # Alias specs as the engine receives them (`name`, `parentUrn`/`noParent`, ...), or alias URNs.
        "aliases": [json_format.MessageToDict(a) for a in request.aliases] + list(request.aliasURNs),
    }
    if request.HasField("replacement_trigger"):
        options["replacementTrigger"] = rpc.deserialize_property(
            json_format.MessageToDict(request.replacement_trigger), keep_unknowns=True
        )
    return options


@contextlib.contextmanager
def patched_environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Sets (None: removes) environment variables for the block, then puts back what was there."""
    saved = {key: os.environ.get(key) for key in changes}
    for key, value in changes.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_REPORTED_ERRORS: list[BaseException] = []


def _quiet_about(error: BaseException) -> None:
    """A failed run's error also sits in every output future that depended on it; when those are
    garbage-collected asyncio would print each one as 'Future exception was never retrieved'.
    The error was handed to the caller, so those reports (of that error only) are dropped."""
    _REPORTED_ERRORS.append(error)
    loop = asyncio.get_event_loop()
    default = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if any(context.get("exception") is e for e in _REPORTED_ERRORS):
            return
        if default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    if default is None or getattr(default, "__name__", "") != "handler":
        loop.set_exception_handler(handler)


_PROGRAM_TEMPDIR: list[str] = []


@contextlib.contextmanager
def program_tempdir() -> Iterator[str]:
    """Points the program's temp files (the cluster CA) at one directory for the test session,
    which `remove_program_tempdir` deletes at its end: test runs leave nothing in /tmp."""
    if not _PROGRAM_TEMPDIR:
        _PROGRAM_TEMPDIR.append(tempfile.mkdtemp(prefix="gloo-vault-irsa-tests-"))
    saved, tempfile.tempdir = tempfile.tempdir, _PROGRAM_TEMPDIR[0]
    try:
        yield _PROGRAM_TEMPDIR[0]
    finally:
        tempfile.tempdir = saved


def remove_program_tempdir() -> None:
    while _PROGRAM_TEMPDIR:
        shutil.rmtree(_PROGRAM_TEMPDIR.pop(), ignore_errors=True)


class StackFileError(Exception):
    """A stack file that is missing or not a stack file: one line naming it, and where and what."""


def stack_file_config(stack: str) -> dict[str, Any]:
    """`Pulumi.<stack>.yaml`'s `config` block as written (beside `Pulumi.yaml`), or `StackFileError`
    with the file, the line and column, and what YAML could not read there."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    try:
        text = path.read_text()
    except FileNotFoundError:
        stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name} in {ROOT} (stacks: {', '.join(stacks) or 'none'})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise StackFileError(f"{path.name}{where}: {bad.problem or bad.context}") from None
    except yaml.YAMLError as bad:
        raise StackFileError(f"{path.name}: {' '.join(str(bad).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise StackFileError(f"{path.name}: expected a map with a config: block of key: value lines")
    return data.get("config") or {}


def stack_config(stack: str) -> dict[str, str]:
    """The real `Pulumi.<stack>.yaml`'s plain project keys, without the project prefix, as the CLI
    hands them to the program (`config_text`; a key with nothing after its colon, YAML's null, as
    the empty string, which the program reads as unset). Other namespaces' keys and the
    `environment` imports are not the program's; secure values, which only the stack's secrets
    provider can read, are left out."""
    return {
        k.split(":", 1)[1]: "" if v is None else config_text(v)
        for k, v in stack_file_config(stack).items()
        if k.startswith(f"{PROJECT}:") and not (isinstance(v, dict) and "secure" in v)
    }


def execute(
    config: Mapping[str, Any],
    *,
    secrets: Mapping[str, str],
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    stack: str = "dev",
    mocks: Callable[[bool], GuideMocks] = GuideMocks,
    program: Path = ROOT / "__main__.py",
    project: str = PROJECT,
) -> tuple[ProgramRun, BaseException | None]:
    """Runs `__main__.py` as `pulumi up` (or `preview`) would with `config` (values as the CLI
    hands them over: `config_text`) and `secrets`; returns what it registered and the error it
    raised, if any. `mocks` builds the mocks (given `preview`); `program` and `project` run
    another program (an example) the same way."""
    all_config = {f"{project}:{k}": config_text(v) for k, v in config.items()}
    all_config.update({f"{project}:{k}": v for k, v in secrets.items()})

    guide_mocks = mocks(preview)
    monitor = RecordingMonitor(guide_mocks)
    pulumi_settings.reset_options()
    pulumi.runtime.set_mocks(guide_mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(all_config, [f"{project}:{k}" for k in secrets])

    exported: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    secret_outputs: set[str] = set()
    error: BaseException | None = None
    # A VAULT_TOKEN in the shell must not stand in for the config given.
    # Nor does the program read an external Vault's version (components/config/vault_versions.py) offline.
    with patched_environ({"VAULT_TOKEN": None, OFFLINE_ENV: "1", **(env or {})}), program_tempdir():
        try:
            root = pulumi_settings.get_root_resource()

            def evaluate() -> pulumi.Output[Any]:
                runpy.run_path(str(program), run_name="__main__")
                outputs = dict(getattr(root, "outputs", {}))
                exported.update(outputs)
                return pulumi.Output.all(*[pulumi.Output.from_input(v) for v in outputs.values()])

            pulumi.runtime.test(evaluate)()  # type: ignore[no-untyped-call]
            for name, value in exported.items():
                out = pulumi.Output.from_input(value)
                resolved[name] = _sync_await(out.future(with_unknowns=True))
                if _sync_await(out.is_secret()):
                    secret_outputs.add(name)
                if type(resolved[name]).__name__ == "Unknown":
                    resolved[name] = None
        except Exception as exc:  # handed to the caller, who decides
            error = exc
            _quiet_about(exc)
    run = ProgramRun(
        monitor.registered, resolved, secret_outputs, guide_mocks.invokes, monitor.error_hooks, monitor.reads
    )
    return run, error

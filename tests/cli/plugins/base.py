"""What the three test provider plugins share: a `Provider` (pulumi.provider.experimental) whose
resource types are each a `Kind` backed by a real local server, and the engine-facing rules the
real bridged providers follow for the fields this program sets.

- Check fills in auto-names as the real providers do (`<name>-<7 hex>`, kept across updates).
- Diff compares the new inputs with the inputs stored at the last create/update (`__inputs` in the
  state, as pulumi-kubernetes keeps them) and reports a replacement for the fields the real
  provider marks ForceNew (`Kind.replaces`), an in-place update for any other change.
- Create/Update/Delete call the Kind, which talks to its server; a preview never does.
- Read reads the resource back from its server where the Kind can (`Kind.read`: the inputs the
  program would set, as the real provider's Read returns them for `pulumi import` and `refresh`),
  else returns the stored state (a refresh then sees no drift).
- Diff treats values the real provider's diff suppresses as equal (`Kind.same`: equivalent policy
  JSON, a default the server fills in).

An error from a Kind reaches the engine as the provider's error, one line, as a real provider's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.provider.experimental.server import main as serve
from pulumi.runtime import rpc

INPUTS = "__inputs"
"""The state key holding the inputs of the last create/update, which Diff compares against."""

HOLD_CREATES = "GVI_HOLD_CREATES"
"""Test-only: JSON `{"folder": <path>, "creates": ["<type>::<name>", ...]}`. A listed resource's create
is made on its server, then its URN and ID are written to a file in `folder` and the create never
answers the engine: a create in flight, which the engine records as a pending operation, while a
test kills `pulumi up` (tests/engines/test_cli_interrupted_up.py)."""


class Unknown:
    """An input the engine does not know yet (a preview before its dependency exists)."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


def plain(value: PropertyValue) -> Any:
    """The Python value of a property (secrets unwrapped, unknowns as `Unknown`)."""
    inner = value.value
    if isinstance(inner, Computed) or inner == rpc.UNKNOWN:
        return Unknown()
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [plain(v) for v in inner]
    return inner


def plain_map(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: plain(v) for k, v in properties.items()}


def wrap(value: Any, secret: bool = False) -> PropertyValue:
    """A property from a JSON-like Python value (integers become the engine's numbers)."""
    if isinstance(value, Unknown):
        # The wire's unknown (the experimental SDK cannot marshal its own `Computed` in 3.272).
        return PropertyValue(rpc.UNKNOWN)
    if isinstance(value, Mapping):
        return PropertyValue({k: wrap(v) for k, v in value.items()}, is_secret=secret)
    if isinstance(value, (list, tuple)):
        return PropertyValue([wrap(v) for v in value], is_secret=secret)
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return PropertyValue(value, is_secret=secret)


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def auto_name(urn: str) -> str:
    """A physical name as the bridged providers make one: the resource name and 7 random hex digits."""
    return f"{urn_name(urn)}-{secrets.token_hex(4)[:7]}"


class PluginError(Exception):
    """A refusal from the server behind a Kind; its message is the one line the engine shows."""


Created = tuple[str, dict[str, Any]]
"""A created resource's ID and the outputs it has besides its inputs."""

Found = tuple[dict[str, Any], dict[str, Any]] | None
"""A resource read back: its inputs as the program would set them, and its other outputs; None: gone."""


def same_json(old: Any, new: Any) -> bool:
    """Two JSON documents that say the same thing (pulumi-aws suppresses a policy diff of equivalent
    JSON: `verify.SuppressEquivalentPolicyDiffs`)."""
    if old == new:
        return True
    try:
        return bool(json.loads(old) == json.loads(new))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Kind:
    """One resource type: how its server creates, updates and deletes it, and which inputs replace it."""

    create: Callable[[Any, str, dict[str, Any]], Created]
    """(provider config, urn, inputs) -> (id, outputs besides the inputs)."""
    delete: Callable[[Any, str, dict[str, Any]], None]
    """(provider config, id, inputs as last applied)."""
    update: Callable[[Any, str, dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    """(provider config, id, old inputs, new inputs) -> outputs besides the inputs; None: create again."""
    replaces: frozenset[str] = frozenset()
    """Inputs whose change replaces the resource (the real provider's ForceNew fields)."""
    computed: frozenset[str] = frozenset()
    """Outputs that are not inputs: unknown in a preview of a create."""
    auto_named: str | None = None
    """The input Check fills with an auto-name when the program gives none (`name`)."""
    delete_before_replace: bool = False
    read: Callable[[Any, str, dict[str, Any] | None], Found] | None = None
    """(provider config, id, inputs as last applied or None on import) -> what the server has; None:
    Read returns the stored state."""
    same: Mapping[str, Callable[[Any, Any], bool]] = field(default_factory=dict)
    """Per input, (old, new) -> whether the real provider's diff suppresses the difference."""

    def differs(self, key: str, old: Any, new: Any) -> bool:
        equal = self.same.get(key)
        return not (equal(old, new) if equal is not None else old == new)


@dataclass
class TestProvider(Provider):
    """A provider plugin whose resource types and functions are the `kinds` and `functions` given."""

    name: str
    kinds: Mapping[str, Kind]
    functions: Mapping[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    config: Any = None
    configure_with: Callable[[dict[str, Any]], Any] = dict
    """Turns the provider's inputs into the config object every Kind and function gets."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=json.dumps({"name": self.name}))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        old, new = plain_map(request.old_state), plain_map(request.new_inputs)
        changed = sorted(k for k in set(old) | set(new) if k != "version" and old.get(k) != new.get(k))
        return DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        self.config = self.configure_with(plain_map(request.args))
        return ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=True)

    def _kind(self, urn: str) -> Kind:
        type_ = urn.split("::")[-2].split("$")[-1]
        if type_ not in self.kinds:
            raise PluginError(f"the test plugin {self.name} does not know {type_}")
        return self.kinds[type_]

    async def check(self, request: CheckRequest) -> CheckResponse:
        kind = self._kind(request.urn)
        inputs = dict(request.new_inputs)
        if kind.auto_named == "metadata.name":  # pulumi-kubernetes names objects inside their metadata
            given = inputs["metadata"].value if "metadata" in inputs else None
            metadata = dict(given) if isinstance(given, Mapping) else {}
            if "name" not in metadata:
                old = plain(request.old_inputs["metadata"]).get("name") if "metadata" in request.old_inputs else None
                metadata["name"] = wrap(old or f"{urn_name(request.urn)}-{secrets.token_hex(4)}")
                inputs["metadata"] = PropertyValue(metadata, is_secret=inputs.get("metadata", wrap({})).is_secret)
        elif kind.auto_named and kind.auto_named not in inputs:
            old = request.old_inputs.get(kind.auto_named)
            inputs[kind.auto_named] = old if old is not None else wrap(auto_name(request.urn))
        return CheckResponse(inputs=inputs)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = self._kind(request.urn)
        stored = request.old_state.get(INPUTS)
        old = plain(stored) if stored is not None else {}
        new = plain_map(request.new_inputs)
        changed = sorted(
            k
            for k in set(old) | set(new)
            if k not in request.ignore_changes and kind.differs(k, old.get(k), new.get(k))
        )
        replaces = [k for k in changed if k in kind.replaces or kind.update is None]
        return DiffResponse(
            changes=bool(changed),
            replaces=replaces,
            diffs=changed,
            delete_before_replace=kind.delete_before_replace,
        )

    def _outputs(self, inputs: Mapping[str, PropertyValue], extra: Mapping[str, Any]) -> dict[str, PropertyValue]:
        secret_inputs = {k for k, v in inputs.items() if v.contains_secret()}
        outputs = {**inputs, **{k: wrap(v, secret=k in secret_inputs) for k, v in extra.items()}}
        outputs[INPUTS] = PropertyValue(dict(inputs))
        return outputs

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = self._kind(request.urn)
        inputs = plain_map(request.properties)
        if request.preview:
            return CreateResponse(None, self._outputs(request.properties, {k: Unknown() for k in kind.computed}))
        id_, extra = await self._call(kind.create, self.config, request.urn, inputs)
        await hold_if_asked(request.urn, id_)
        return CreateResponse(id_, self._outputs(request.properties, extra))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = self._kind(request.urn)
        assert kind.update is not None  # Diff replaces whatever has no update
        stored = request.olds.get(INPUTS)
        olds = plain(stored) if stored is not None else plain_map(request.olds)
        kept = {k: v for k, v in plain_map(request.olds).items() if k in kind.computed}
        if request.preview:
            return UpdateResponse(self._outputs(request.news, kept))
        extra = await self._call(kind.update, self.config, request.resource_id, olds, plain_map(request.news))
        return UpdateResponse(self._outputs(request.news, {**kept, **extra}))

    async def delete(self, request: DeleteRequest) -> None:
        kind = self._kind(request.urn)
        stored = request.properties.get(INPUTS)
        inputs = plain(stored) if stored is not None else plain_map(request.properties)
        await self._call(kind.delete, self.config, request.resource_id, inputs)

    async def read(self, request: ReadRequest) -> ReadResponse:
        """The resource as its server has it (`pulumi import`, `refresh`); an empty ID when it is gone,
        which the engine takes as deleted."""
        kind = self._kind(request.urn)
        if kind.read is None:
            return ReadResponse(request.resource_id, request.properties, request.inputs)
        stored = request.properties.get(INPUTS)
        applied = plain(stored) if stored is not None else None
        found = await self._call(kind.read, self.config, request.resource_id, applied)
        if found is None:
            return ReadResponse("", {}, {})
        inputs, extra = found
        applied_values = stored.value if stored is not None and isinstance(stored.value, Mapping) else {}
        secret = {k for k, v in applied_values.items() if v.contains_secret()}
        wrapped = {k: wrap(v, secret=k in secret) for k, v in inputs.items()}
        return ReadResponse(request.resource_id, self._outputs(wrapped, extra), wrapped)

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        function = self.functions.get(request.tok)
        if function is None:
            raise PluginError(f"the test plugin {self.name} does not know the function {request.tok}")
        result = await self._call(function, self.config, plain_map(request.args))
        return InvokeResponse(return_value={k: wrap(v) for k, v in result.items()})

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Runs a Kind's blocking server call off the event loop, one at a time per plugin (the
        servers' calls are short; the engine's parallelism is across plugins)."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


async def hold_if_asked(urn: str, id_: str) -> None:
    """Never returns for a create `HOLD_CREATES` lists (after telling its folder it was made)."""
    asked = json.loads(os.environ.get(HOLD_CREATES) or "{}")
    type_and_name = f"{urn.split('::')[-2].rsplit('$', 1)[-1]}::{urn_name(urn)}"
    if type_and_name not in asked.get("creates", ()):
        return
    made = Path(asked["folder"]) / f"{secrets.token_hex(8)}.json"
    made.with_suffix(".tmp").write_text(json.dumps({"urn": urn, "id": id_}))
    made.with_suffix(".tmp").rename(made)
    await asyncio.Event().wait()


def run(provider: TestProvider, version: str) -> None:
    """The plugin's main: serve `provider` to the engine that started this process."""
    serve(sys.argv[1:], version, provider)

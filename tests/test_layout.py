"""The direction of imports (CONTRIBUTING.md, "Layout"): tooling → stack → config → values;
layers → values. A layer takes its Args and never reads config; the program never imports its
tooling; no private Pulumi module is imported outside the tooling."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import ROOT

# Modules every part may import: plain values and pure builders, no Pulumi resource, no config.
VALUES = ("components.project", "components.settings", "components.documents", "components.gloo_vault_irsa_args")
# The layers: ComponentResources (and the provider helper) that take their Args.
LAYERS = (
    "components.cluster",
    "components.iam",
    "components.vault_auth",
    "components.vault_provider",
    "components.in_cluster_vault",
    "components.gloo",
    "components.verification",
    "components.destroy_guard",
)
# A layer built on another one, and why: nothing else crosses between layers.
LAYER_ON_LAYER = {
    (
        "components.in_cluster_vault",
        "components.cluster",
    ): "its provider reaches Vault through the API server",
    ("components.in_cluster_vault", "components.vault_provider"): "it makes the Vault provider of its own Vault",
}
# The graph: the program's (`stack`) and the package component's that builds it (`gloo_vault_irsa`).
GRAPH = ("components.stack", "components.gloo_vault_irsa", "components.package_provider")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "venv" not in p.parts)


def imported(source: str) -> Iterator[str]:
    """Every module `source` imports (`from a import b` as `a` and as `a.b`, for packages' modules)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def project_imports(source: str) -> set[str]:
    """The modules of this repository `source` imports, each by its most specific name."""
    found = {m for m in imported(source) if within(m, ("components", "tooling")) and module_exists(m)}
    return {m for m in found if not any(other.startswith(m + ".") for other in found)}


def module_exists(name: str) -> bool:
    base = ROOT / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def violations(me: str, source: str) -> list[str]:
    """The imports of module `me` (its `source`) against the direction."""
    found = []
    for target in sorted(project_imports(source)):
        if within(target, "tooling") and not within(me, "tooling"):
            found.append(f"{me} imports {target}: the program never imports its tooling")
        elif within(me, VALUES) and not within(target, VALUES):
            found.append(f"{me} imports {target}: values and documents import only values and documents")
        elif within(me, "components.config") and not within(target, ("components.config", *VALUES)):
            found.append(f"{me} imports {target}: config reads values, never a layer or the graph")
        elif within(me, LAYERS) and not within(target, VALUES) and target not in ("components",):
            if within(target, LAYERS) and (me, target) in LAYER_ON_LAYER:
                continue
            found.append(f"{me} imports {target}: a layer takes its Args, never config or another layer")
    return found


PROGRAM_FILES = [ROOT / "__main__.py", *python_files("components")]


@pytest.mark.parametrize("path", PROGRAM_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_one_way(path: Path) -> None:
    assert violations(module_name(path), path.read_text()) == []


def test_the_rule_catches_an_import_against_the_direction() -> None:
    """The check itself: a layer that reads config, config that builds a layer, and the program
    importing the tooling are each named."""
    cases = {
        "components/gloo.py": "from components.config.keys import KEYS\n",
        "components/config/rules.py": "from components.gloo import GlooRelease\n",
        "components/stack.py": "from tooling.offline import execute\n",
        "components/documents/gloo.py": "from components.config import checks\n",
        "components/iam.py": "from components.vault_auth import VaultAwsAuth\n",
    }
    for relative, line in cases.items():
        path = ROOT / relative
        assert len(violations(module_name(path), path.read_text() + line)) == 1, relative


def test_every_layer_is_listed() -> None:
    """A new module of components/ is placed: a layer, a values module, config, or the graph."""
    placed = (*LAYERS, *VALUES, "components.config", *GRAPH, "components")
    assert [m for m in map(module_name, python_files("components")) if not within(m, placed)] == []


def private_pulumi_imports(path: Path) -> list[str]:
    """Imports of Pulumi's private modules or names (a leading underscore): not a stable API."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pulumi":
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            found += [n for n in names if any(part.startswith("_") for part in n.split("."))]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("pulumi.") and "._" in a.name]
    return found


@pytest.mark.parametrize(
    "path",
    [ROOT / "__main__.py", *python_files("components", "policy-pack", "scripts", "examples")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_private_pulumi_module_outside_the_tooling(path: Path) -> None:
    assert private_pulumi_imports(path) == []


def test_the_tooling_is_where_the_private_modules_are() -> None:
    """The check finds the offline runtime's private imports, so it would find them elsewhere."""
    assert private_pulumi_imports(ROOT / "tooling" / "offline.py") != []

"""The shape the code is held to (CONTRIBUTING.md, "Code shape"): short functions, named Output.all inputs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.harness import ROOT

MAX_FUNCTION_LINES = 60
SOURCES = [
    p
    for p in sorted(
        [
            ROOT / "__main__.py",
            *(ROOT / "components").rglob("*.py"),
            *(ROOT / "tooling").rglob("*.py"),
            *(ROOT / "policy-pack").rglob("*.py"),
        ]
    )
    if "venv" not in p.parts
]


def long_functions(source: str) -> list[str]:
    """Functions longer than a screen, as `name (N lines)`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name} ({length} lines)")
    return found


def positional_output_all(source: str) -> list[int]:
    """Lines of `Output.all` calls given several inputs by position (a lone `*items` is one list)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "all":
            target = node.func.value
            named_output = isinstance(target, ast.Attribute) and target.attr == "Output"
            if (named_output or (isinstance(target, ast.Name) and target.id == "Output")) and (
                len(node.args) > 1 or (node.args and node.keywords)
            ):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_functions_fit_on_a_screen(path: Path) -> None:
    assert long_functions(path.read_text()) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_output_all_names_its_inputs(path: Path) -> None:
    """`Output.all(a, b)` indexes values by position; one added input would shift the others."""
    assert positional_output_all(path.read_text()) == []


def test_the_shape_checks_find_what_they_look_for() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}\n") == [f"f ({MAX_FUNCTION_LINES + 1} lines)"]
    assert long_functions("def g():\n    return 1\n") == []
    assert positional_output_all("pulumi.Output.all(a, b).apply(lambda v: v[0])") == [1]
    assert positional_output_all("Output.all(a, b=b)") == [1]
    assert positional_output_all("pulumi.Output.all(a=a, b=b)\npulumi.Output.all(*arns)") == []

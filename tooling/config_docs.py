"""`Pulumi.yaml`'s config block and the README's config table, generated from `KEYS`.

Both are written from the one table so they cannot drift from what the program validates;
`tests/test_config.py` fails when either file differs from what this module renders.
Rewrite both after changing `KEYS`:

    .venv/bin/python -m tooling.config_docs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.config.keys import KEYS, Key

ROOT = Path(__file__).resolve().parent.parent
README_TABLE_HEADER = "| key | default | meaning |\n| --- | --- | --- |\n"


def pulumi_yaml_entry(key: Key) -> dict[str, Any]:
    """A key as `Pulumi.yaml` declares it (`Key.declared`): a string key without a default of its own,
    required or not, defaults to "" (read as unset), so the CLI never demands it; the program says
    when it is required (`clusterName` is, unless `clusterStackRef` or `clusters` names the cluster)."""
    if key.default is None:
        return {"type": "string", "description": key.description, "default": ""}
    entry: dict[str, Any] = {"type": key.value_type}
    if key.value_type == "array":
        entry["items"] = {"type": "string"}
    entry["description"] = key.description
    entry["default"] = key.default
    return entry


def pulumi_yaml_config() -> dict[str, dict[str, Any]]:
    """Every declared key: not a secret (it cannot have a default there, nor a value in plain text),
    nor a map (a project's config types have none)."""
    return {k.name: pulumi_yaml_entry(k) for k in KEYS if k.declared}


def render_pulumi_yaml_config() -> str:
    lines = ["config:"]
    for name, entry in pulumi_yaml_config().items():
        lines.append(f"  {name}:")
        for field, value in entry.items():
            if field == "items":
                lines += ["    items:", f"      type: {value['type']}"]
            elif field == "type":
                lines.append(f"    type: {value}")
            else:
                lines.append(f"    {field}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _default_cell(key: Key) -> str:
    if key.default is None:
        if key.secret:
            return "— (secret)"
        if key.required:
            return f"— (required unless `{key.unless}`)" if key.unless else "— (required)"
        return "—"
    if isinstance(key.default, bool):
        return f"`{str(key.default).lower()}`"
    if isinstance(key.default, list):
        return f"`{json.dumps(key.default)}`"
    return f"`{key.default}`"


def render_readme_table() -> str:
    rows = [f"| `{k.name}` | {_default_cell(k)} | {k.description} |" for k in KEYS]
    return README_TABLE_HEADER + "\n".join(rows) + "\n"


def readme_table(readme: str) -> str:
    """The config table as the README has it: from its header to the first blank line."""
    start = readme.index(README_TABLE_HEADER)
    end = readme.index("\n\n", start)
    return readme[start : end + 1]


def write() -> None:
    """Rewrites both files in place from `KEYS`."""
    pulumi_yaml = ROOT / "Pulumi.yaml"
    text = pulumi_yaml.read_text()
    pulumi_yaml.write_text(text[: text.index("\nconfig:\n") + 1] + render_pulumi_yaml_config())
    readme_path = ROOT / "docs" / "configuration.md"
    readme = readme_path.read_text()
    readme_path.write_text(readme.replace(readme_table(readme), render_readme_table()))


if __name__ == "__main__":
    write()

"""What deploy.sh's preflight needs from the project's YAML files, read with a YAML parser (a line
reader misread them: mawk, Debian's awk, has no regex intervals, so a block after `clusters` was
read as a cluster). Standard library and PyYAML only: it runs before the virtualenv is set up.

    python scripts/stack_config.py PROJECT_FILE STACK_FILE CREDENTIALS_FILE

prints `name<TAB>value` lines for the shell: `region`, `edition`, `clusterName`, `clusterStackRef`,
`cluster` (each EKS name in `clusters`), `set` (each key the stack file gives a value, secret or
not), `esc` (the stack imports a Pulumi ESC environment), `secretsprovider`, `backend` (the project
file's `backend.url`), `login` (the CLI's current login). A file that is not YAML, or not a
mapping, gives one line `error<TAB>file line N: what is wrong` and exit 1. A missing stack file
reads as empty (a stack created with `--new-stack`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

PROJECT = "gloo-vault-irsa"


class FileError(Exception):
    """A file the preflight cannot read, as one line: file, line, what is wrong."""


def load_mapping(path: Path, *, missing_ok: bool) -> dict[str, Any]:
    """The file's top-level mapping; `{}` when it is absent and that is allowed."""
    if missing_ok and not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise FileError(f"{path.name}{line}: {error.problem or error.context}") from None
    except (OSError, yaml.YAMLError) as error:
        raise FileError(f"{path.name}: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FileError(f"{path.name} line 1: expected a mapping of keys, got {type(data).__name__}")
    return data


def project_default(project: dict[str, Any], key: str) -> Any:
    """Pulumi.yaml's default for a project key (`key: {default: ...}` or the short `key: value`)."""
    declared = (project.get("config") or {}).get(key)
    return declared.get("default") if isinstance(declared, dict) else declared


def cluster_names(clusters: Any) -> Iterator[str]:
    """The EKS names in a `clusters` map (given as YAML, or as the JSON text `pulumi config set` keeps);
    entries from a stack (`clusterStackRef`) have none. Other shapes are the program's to refuse."""
    if isinstance(clusters, str):
        try:
            clusters = json.loads(clusters)
        except ValueError:
            return
    if not isinstance(clusters, dict):
        return
    for entry in clusters.values():
        if isinstance(entry, dict) and isinstance(entry.get("clusterName"), str) and entry["clusterName"]:
            yield entry["clusterName"]


def current_login(credentials: Path) -> str:
    """The backend `pulumi login` chose last (`current` in credentials.json), or ""."""
    try:
        current = json.loads(credentials.read_text()).get("current")
    except (OSError, ValueError, AttributeError):
        return ""
    return current if isinstance(current, str) else ""


def facts(project: dict[str, Any], stack: dict[str, Any], credentials: Path) -> Iterator[tuple[str, str]]:
    """The preflight's facts, in the order deploy.sh reads them."""
    config = {
        key.removeprefix(f"{PROJECT}:"): value
        for key, value in (stack.get("config") or {}).items()
        if isinstance(key, str) and key.startswith(f"{PROJECT}:")
    }
    for key, value in config.items():
        if value is not None and value != "":
            yield "set", key
    for key in ("region", "glooEdition"):
        value = config.get(key, project_default(project, key))
        if value is not None:
            yield ("edition" if key == "glooEdition" else key), str(value)
    for key in ("clusterName", "clusterStackRef"):
        if isinstance(config.get(key), str):
            yield key, config[key]
    for name in cluster_names(config.get("clusters")):
        yield "cluster", name
    if stack.get("environment"):
        yield "esc", "1"
    if stack.get("secretsprovider"):
        yield "secretsprovider", str(stack["secretsprovider"])
    backend = project.get("backend")
    if isinstance(backend, dict) and backend.get("url"):
        yield "backend", str(backend["url"])
    yield "login", current_login(credentials)


def main(argv: list[str]) -> int:
    project_file, stack_file, credentials = (Path(arg) for arg in argv[1:4])
    try:
        project = load_mapping(project_file, missing_ok=False)
        stack = load_mapping(stack_file, missing_ok=True)
    except FileError as error:
        print(f"error\t{error}")
        return 1
    for name, value in facts(project, stack, credentials):
        print(f"{name}\t{' '.join(value.split())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The gloo-vault-irsa component package: serves `GlooVaultIrsa` to programs in any Pulumi
language (docs/package.md), as `component_provider_host` would, with config errors reported as
the bad input's one line (components/package_provider.py). Its schema is inferred from the
component's annotations and docstrings; its version is the repository's release tag
(`v1.2.0` → `1.2.0`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = "gloo-vault-irsa"
UNRELEASED = "0.0.0"
"""The version of a checkout that is not at a release tag."""


def package_version(repository: Path = REPOSITORY) -> str:
    """The release tag the checkout is at (`vX.Y.Z`, as `pulumi package add <git URL>@vX.Y.Z` fetches
    it), without its `v`; `UNRELEASED` elsewhere."""
    found = subprocess.run(
        ["git", "-C", str(repository), "describe", "--tags", "--exact-match", "--match", "v[0-9]*.[0-9]*.[0-9]*"],
        capture_output=True,
        text=True,
        check=False,
    )
    tag = found.stdout.strip()
    return tag.removeprefix("v") if found.returncode == 0 and tag else UNRELEASED


def main() -> None:
    # The package is a folder of the repository: the program's modules are beside it.
    sys.path.insert(0, str(REPOSITORY))
    from pulumi.provider import main as serve

    from components.package_provider import GlooVaultIrsaProvider

    serve(GlooVaultIrsaProvider(PACKAGE, package_version()), sys.argv[1:])


if __name__ == "__main__":
    main()

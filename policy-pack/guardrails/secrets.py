"""`stack-secrets-encrypted` (a stack policy): the stack file sets no secret key in plain text.

A `vaultToken` written as `gloo-vault-irsa:vaultToken: hvs.…` (not `pulumi config set --secret`,
which writes `secure: v1:…`) is committed to git with the stack file, readable by anyone who can
read the repository, while the program still treats it as a secret.

Only the stack file shows it: the CLI hands the policy process every config value decrypted, with
no list of which were secrets (pulumi/pulumi analyzer_plugin.go, `constructEnv`), and the program
reads the key with `get_secret`, so the provider's input is a secret however it was given. The
pack (`pack.stack_context`) reads the file of the project it ships in; `plaintext_keys` is what
it finds there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from .common import PROJECT, StackContext, StackResource

SECRET_KEYS = ("vaultToken", "glooLicenseKey", "kubeconfig")
"""The program's secret config keys (components/config/keys.py `KEYS`, `secret=True`; the pack cannot
import the program, and a test keeps the two in step)."""


def plaintext_keys(stack_file: str) -> frozenset[str]:
    """The project's config keys a stack file (`Pulumi.<stack>.yaml`) sets in plain text, without
    the project prefix: keys of this project (`gloo-vault-irsa:<key>`, or a bare `<key>`, which
    Pulumi reads as the project's) whose value is not `{secure: …}`. Unreadable YAML: none (the
    CLI refuses that file before the pack runs)."""
    try:
        document = yaml.safe_load(stack_file)
    except yaml.YAMLError:
        return frozenset()
    config = document.get("config") if isinstance(document, Mapping) else None
    found: set[str] = set()
    for key, value in config.items() if isinstance(config, Mapping) else ():
        namespace, _, name = str(key).rpartition(":")
        if namespace in ("", PROJECT) and not _secure(value):
            found.add(name)
    return frozenset(found)


def _secure(value: Any) -> bool:
    return isinstance(value, Mapping) and "secure" in value


def check_secrets_encrypted(resources: Sequence[StackResource], context: StackContext) -> list[str]:
    """No secret key of the program is set in plain text in the stack's file."""
    return [
        f"{context.stack_file} sets {key} in plain text, so it is committed with the file; set it with "
        f"`pulumi config set --secret {key} …` (or import it from a Pulumi ESC environment), and revoke the "
        "value that was committed"
        for key in SECRET_KEYS
        if key in context.plaintext_keys
    ]

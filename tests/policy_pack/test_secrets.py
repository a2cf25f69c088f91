"""`stack-secrets-encrypted` (guardrails/secrets.py): a secret key set in plain text
in the stack file is refused.

What the pack can see of it: under the real CLI the policy process gets the stack's config in
PULUMI_CONFIG with every value decrypted and no PULUMI_CONFIG_SECRET_KEYS (pulumi/pulumi,
sdk/go/common/resource/plugin/analyzer_plugin.go, `constructEnv`); the config the CLI sends with
ConfigureStack marks secrets, but pulumi_policy's servicer reads only the stack's tags from it; and
a resource's inputs cannot tell either: the program reads `vaultToken` with `get_secret`, so the
Vault provider's `token` is a secret however the stack file gives it (shown below under the mocks),
and pulumi_policy unwraps secrets before a policy sees them. The stack file is what shows it: the
pack reads `Pulumi.<stack>.yaml` in the project it ships in (the folder above `policy-pack/`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import guardrails
import pack
from components.config.keys import KEYS
from guardrails import StackContext
from guardrails.secrets import SECRET_KEYS, plaintext_keys
from tests.harness import ROOT, VARIANTS, ProgramRun, dev_config, run_program, stack_config
from tests.policy_pack.engine import DEV, only, pack_violations, props, stack_resources
from tests.policy_pack.test_pack import analyze, pack_call, policy_process

__all__ = ["pack_call", "policy_process"]  # fixtures these tests share with test_pack.py

POLICY = "stack-secrets-encrypted: "
PLAIN_TOKEN = "hvs.committed-in-git"
STACK_FILE = f"""config:
  gloo-vault-irsa:environment: production
  gloo-vault-irsa:vaultToken: {PLAIN_TOKEN}
  gloo-vault-irsa:glooLicenseKey:
    secure: v1:AAAABBBBCCCC
  aws:region: eu-west-1
"""


def test_the_pack_knows_every_secret_key() -> None:
    """The pack cannot import the program (its own virtualenv): its list follows config.KEYS."""
    assert set(SECRET_KEYS) == {key.name for key in KEYS if key.secret}


def test_a_plaintext_token_reaches_the_vault_provider_as_a_secret_anyway() -> None:
    """The resource side cannot tell: given in plain text, the token is still a secret input."""
    run = run_program({**dev_config(), "vaultToken": PLAIN_TOKEN}, secrets={})
    provider = run.one(guardrails.VAULT_PROVIDER)
    assert provider.secret("token") and props(provider)["token"] == PLAIN_TOKEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (STACK_FILE, {"environment", "vaultToken"}),
        ("config:\n  vaultToken: hvs.x\n  kubeconfig: {secure: v1:x}\n", {"vaultToken"}),  # no namespace: the project's
        ("config:\n  gloo-vault-irsa:kubeconfig: /home/me/.kube/config\n", {"kubeconfig"}),
        ("config:\n  other-project:vaultToken: hvs.x\n", set()),
        ("config:\n  gloo-vault-irsa:vaultToken:\n    secure: v1:x\n", set()),
        ("environment:\n  - gloo-vault-irsa/prod\n", set()),
        ("", set()),
    ],
    ids=["namespaced", "bare-key", "kubeconfig-path", "other-namespace", "secure", "esc-only", "empty"],
)
def test_plaintext_keys_are_read_from_the_stack_file(text: str, expected: set[str]) -> None:
    assert plaintext_keys(text) == expected


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_a_plaintext_secret_is_refused(runs: dict[str, ProgramRun], variant: str) -> None:
    resources = stack_resources(runs[variant])
    context = StackContext(variant, None, frozenset({"vaultToken"}))
    only(pack_violations(resources, context), f"{POLICY}Pulumi.{variant}.yaml sets vaultToken in plain text")
    assert pack_violations(resources, StackContext(variant, None, frozenset({"region"}))) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_real_stack_files_keep_their_secrets_encrypted(stack: str) -> None:
    assert plaintext_keys((ROOT / f"Pulumi.{stack}.yaml").read_text()) & set(SECRET_KEYS) == set()


def project(tmp_path: Path, stack_file: str, name: str = "gloo-vault-irsa") -> Path:
    """A project folder with `Pulumi.yaml` and `Pulumi.prod.yaml`."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(stack_file)
    return tmp_path


Analysis = Callable[[Path, dict[str, str]], list[tuple[str, str]]]


@pytest.fixture
def prod_beside(
    pack_call: dict[str, Any],
    runs: dict[str, ProgramRun],
    policy_process: Callable[[str, dict[str, str]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> Analysis:
    """The pack on the prod graph as the CLI runs it, given the stack's config (PULUMI_CONFIG holds
    each value decrypted) and shipped in the project folder given."""

    def run(folder: Path, config: dict[str, str]) -> list[tuple[str, str]]:
        policy_process("prod", {f"gloo-vault-irsa:{k}": v for k, v in {**stack_config("prod"), **config}.items()})
        monkeypatch.setattr(pack, "PROJECT_DIR", folder, raising=False)
        return analyze(pack_call, runs["prod"])

    return run


def test_the_pack_refuses_a_token_committed_in_the_stack_file(prod_beside: Analysis, tmp_path: Path) -> None:
    """As the CLI runs the pack: PULUMI_CONFIG holds the token either way; the stack file beside
    the pack's project shows it in plain text."""
    found = prod_beside(project(tmp_path, STACK_FILE), {"vaultToken": PLAIN_TOKEN})
    assert [name for name, _ in found] == ["stack-secrets-encrypted"], found
    assert "Pulumi.prod.yaml sets vaultToken in plain text" in found[0][1]
    assert PLAIN_TOKEN not in found[0][1]


@pytest.mark.parametrize("name", ["someone-else", None])
def test_the_pack_reads_only_its_own_projects_stack_file(
    prod_beside: Analysis, tmp_path: Path, name: str | None
) -> None:
    """Published and run as an organisation's pack, the folder above it is not this project."""
    folder = project(tmp_path, STACK_FILE, name or "gloo-vault-irsa")
    if name is None:
        (folder / "Pulumi.yaml").unlink()
    assert prod_beside(folder, {"vaultToken": PLAIN_TOKEN}) == []


def test_the_variants_pass(runs: dict[str, ProgramRun]) -> None:
    assert all(pack_violations(stack_resources(runs[v]), DEV) == [] for v in VARIANTS)

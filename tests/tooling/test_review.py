"""The offline review (tooling/review.py): what it writes, what it hides, and README's diagram."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

from tests.harness import (
    EKS_OUTPUTS,
    EKS_STACK,
    FLEET,
    FLEET_CONFIG,
    HELM_RELEASE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    LICENSE,
    OTHER_STACKS,
    ROOT,
    STACK_REFERENCE,
    TEST_VAULT_TOKEN,
    VARIANTS,
    VAULT_AWS_ROLE,
    VAULT_PROVIDER,
    ProgramRun,
    run_program,
    unwrap,
)
from tooling import offline, review


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return review.run_offline("dev")


def _secret(value: object) -> dict[str, object]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def test_readmes_diagram_is_the_reviews(dev: ProgramRun) -> None:
    readme = (ROOT / "README.md").read_text()
    assert review.readme_with_graph(readme, review.mermaid(dev)) == readme, (
        "README's architecture diagram differs from the program's graph: run "
        "`.venv/bin/python -m tooling.review --readme`"
    )


def test_the_graph_shows_what_waits_for_what(dev: ProgramRun) -> None:
    """Edges are dependencies, reduced: the Vault role waits for Vault's grant, the Vault
    resources for the provider that waits for the dev Vault's release, Gloo for the Vault role."""
    urn = {(r.type, r.name): r.urn for r in dev.resources}
    edges = review.dependency_edges(dev)
    grant, vault_role = urn[(IAM_ROLE_POLICY, "vault-identity")], urn[(VAULT_AWS_ROLE, "gloo")]
    assert (grant, vault_role) in edges
    assert (urn[(HELM_RELEASE, "vault")], urn[(VAULT_PROVIDER, "vault")]) in edges
    assert (vault_role, urn[(HELM_RELEASE, "gloo")]) in edges
    assert (urn[(IAM_ROLE, "gloo")], vault_role) not in edges  # implied through the grant
    text = review.mermaid(dev)
    assert text.startswith("flowchart LR\n")
    assert 'subgraph c_VaultAwsAuth_gloo["VaultAwsAuth gloo"]' in text


def test_the_review_writes_every_document(tmp_path: Path, dev: ProgramRun) -> None:
    written = review.write_review(dev, tmp_path, review.review_secrets("dev").values(), "dev")
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == [
        "README.md",
        "graph.mmd",
        "helm/gloo.values.yaml",
        "helm/vault.values.yaml",
        "iam/gloo.trust-policy.json",
        "iam/vault-identity.policy.json",
        "iam/vault-identity.trust-policy.json",
        "k8s/gloo-login-check.job.yaml",
        "vault/dev.hcl",
    ]
    trust = json.loads((tmp_path / "iam/gloo.trust-policy.json").read_text())
    assert trust["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    grant = json.loads((tmp_path / "iam/vault-identity.policy.json").read_text())
    assert grant["Statement"][0]["Action"] == "iam:GetRole"
    assert 'path "dev/metadata/gloo/*"' in (tmp_path / "vault/dev.hcl").read_text()
    values = yaml.safe_load((tmp_path / "helm/gloo.values.yaml").read_text())
    assert values["settings"]["secretOptions"]["sources"][0]["vault"]["pathPrefix"] == "dev"
    job = yaml.safe_load((tmp_path / "k8s/gloo-login-check.job.yaml").read_text())
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "gloo"
    vault_values = yaml.safe_load((tmp_path / "helm/vault.values.yaml").read_text())
    assert vault_values["server"]["dev"]["devRootToken"] == review.REDACTED
    index = (tmp_path / "README.md").read_text()
    assert all(f"`{name}`" in index for name in names if name != "README.md")


def test_no_secret_reaches_the_review(tmp_path: Path) -> None:
    """Enterprise: the license key and the Vault token are redacted wherever they flow."""
    config, _ = VARIANTS["enterprise"]
    placeholders = {"vaultToken": review.placeholder("vaultToken"), "glooLicenseKey": review.placeholder("x")}
    run = run_program(config, secrets=placeholders)
    review.write_review(run, tmp_path, placeholders.values(), "enterprise")
    text = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "REVIEW-PLACEHOLDER" not in text and LICENSE not in text and TEST_VAULT_TOKEN not in text
    values = yaml.safe_load((tmp_path / "helm/gloo.values.yaml").read_text())
    assert values["license_key"] == review.REDACTED
    assert values["gloo"]["settings"]["secretOptions"]["sources"][0]["vault"]["aws"]["region"] == "us-east-1"


def test_redaction_rules() -> None:
    marks = ["REVIEW-PLACEHOLDER-vaultToken"]
    value = {
        "a": _secret("s3cret"),  # secret on its own
        "b": _secret({"token": "REVIEW-PLACEHOLDER-vaultToken", "kept": 1}),  # a secret map is walked
        "c": ["x", "Bearer REVIEW-PLACEHOLDER-vaultToken"],
    }
    assert review.redact(value, marks) == {
        "a": review.REDACTED,
        "b": {"token": review.REDACTED, "kept": 1},
        "c": ["x", review.REDACTED],
    }


def test_secret_placeholders_are_the_stacks_secret_keys() -> None:
    assert review.review_secrets("dev") == {"vaultToken": review.placeholder("vaultToken")}


def test_the_production_stack_is_reviewed_against_placeholders(tmp_path: Path) -> None:
    """Pulumi.prod.yaml: its license key comes from elsewhere and its cluster from another stack
    (`clusterStackRef`); the review supplies placeholders for both and leaks neither."""
    assert set(review.review_secrets("prod")) == {"vaultToken", "glooLicenseKey"}
    run = review.run_offline("prod")
    assert [(r.type, unwrap(r.raw_inputs)["name"]) for r in run.reads] == [(STACK_REFERENCE, EKS_STACK)]
    review.write_review(run, tmp_path, review.review_secrets("prod").values(), "prod")
    text = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "REVIEW-PLACEHOLDER" not in text and "eks-stack-secret" not in text
    values = yaml.safe_load((tmp_path / "helm/gloo.values.yaml").read_text())
    assert values["license_key"] == review.REDACTED


def test_any_cluster_stack_is_a_placeholder_with_the_output_names_configured() -> None:
    stacks = review.review_stacks({"clusterStackRef": "other/eks/qa", "clusterStackOutputs": '{"kubeconfig": "kc"}'})
    assert stacks["other/eks/qa"].secret == frozenset({"kc"})
    assert stacks["other/eks/qa"].outputs["clusterName"] == "qa"
    assert set(stacks["other/eks/qa"].outputs) == (set(EKS_OUTPUTS) - {"kubeconfig"}) | {"kc"}
    assert stacks[EKS_STACK] == OTHER_STACKS[EKS_STACK]


def test_each_cluster_stack_in_clusters_is_a_placeholder_of_its_own() -> None:
    clusters = {"a": {"clusterStackRef": "o/eks/a"}, "b": {"clusterStackRef": "o/eks/b"}, "c": {"clusterName": "x"}}
    stacks = review.review_stacks({"clusters": json.dumps(clusters)})
    a, b = stacks["o/eks/a"].outputs, stacks["o/eks/b"].outputs
    assert (a["clusterName"], b["clusterName"]) == ("a", "b")
    assert a["oidcIssuerUrl"] != b["oidcIssuerUrl"] and a["oidcProviderArn"] != b["oidcProviderArn"]


def test_a_review_of_several_clusters_shows_each_clusters_values_and_roles() -> None:
    run = run_program(FLEET_CONFIG, secrets={"vaultToken": "hvs.test"})
    paths = {doc.path for doc in review.documents(run, ["hvs.test"])}
    for key in FLEET:
        assert {f"helm/{key}-gloo.values.yaml", f"iam/{key}-gloo.trust-policy.json"} <= paths, paths


def _review_script(root: Path, args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`<root>/scripts/review.sh <args>` run from `cwd` with only `env`; it must succeed."""
    done = subprocess.run(
        ["bash", str(root / "scripts/review.sh"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_command_runs_without_any_credentials_from_any_directory(tmp_path: Path) -> None:
    """A fresh machine: no AWS, Vault or Pulumi variables, an empty home, no network needed; run
    as README says, `scripts/review.sh <stack>`, from another directory than the repository."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    assert not any(k.startswith(("AWS_", "VAULT_", "PULUMI_")) for k in env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _review_script(ROOT, ["dev", "--out", "review"], cwd=elsewhere, env=env)
    assert done.stdout.strip() == "review: wrote 9 files into review/"  # the login check Job too
    assert (elsewhere / "review/graph.mmd").read_text() == review.mermaid(review.run_offline("dev"))
    assert not (tmp_path / "home").exists()  # nothing read from or written to a home


# A fresh clone's `python3` creates `.venv` from stubs that record each call; the venv's python
# answers the script's import check as the modules are (missing until pip has run).
PYTHON3_STUB = """#!/bin/sh
echo "python3 $*" >> "$SANDBOX/calls"
[ "$1 $2" = "-m venv" ] || exit 1
mkdir -p "$3/bin" && cp "$SANDBOX/stubs/venv-python" "$3/bin/python" && cp "$SANDBOX/stubs/venv-pip" "$3/bin/pip"
"""
VENV_PYTHON_STUB = """#!/bin/sh
echo "python $*" >> "$SANDBOX/calls"
[ "$1" != -c ] || [ -e "$SANDBOX/installed" ]
"""
VENV_PIP_STUB = """#!/bin/sh
echo "pip $*" >> "$SANDBOX/calls"
touch "$SANDBOX/installed"
"""


def test_the_script_sets_up_a_fresh_clone_once(tmp_path: Path) -> None:
    """No `.venv`: the script creates it and installs requirements.txt, then reviews; the second
    run reviews at once."""
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts/review.sh", clone / "scripts/review.sh")
    shutil.copy2(ROOT / "requirements.txt", clone / "requirements.txt")
    for name, text in (("python3", PYTHON3_STUB), ("venv-python", VENV_PYTHON_STUB), ("venv-pip", VENV_PIP_STUB)):
        stub = tmp_path / "stubs" / name
        stub.parent.mkdir(exist_ok=True)
        stub.write_text(text)
        stub.chmod(0o755)
    env = {"PATH": f"{tmp_path / 'stubs'}:/usr/bin:/bin", "SANDBOX": str(tmp_path), "HOME": str(tmp_path)}
    for _ in range(2):
        _review_script(clone, ["prod", "--out", "x"], cwd=tmp_path, env=env)
    calls = (tmp_path / "calls").read_text().splitlines()
    review_call = "python -m tooling.review --stack prod --out x"
    assert [c.split(" -c ")[0] if " -c " in c else c for c in calls] == [
        f"python3 -m venv {clone}/.venv",
        "python",
        f"pip install --quiet --disable-pip-version-check -r {clone}/requirements.txt",
        review_call,
        "python",
        review_call,
    ], calls


# ---------------------------------------------------------------------------- as a newcomer meets it


def test_the_job_keeps_its_integers_and_its_script_reads_as_written(tmp_path: Path, dev: ProgramRun) -> None:
    """Pulumi hands numbers over as floats: the Job must say `backoffLimit: 1`, not `1.0`, and its
    script must read line by line (a YAML block literal), not as one escaped string."""
    review.write_review(dev, tmp_path, review.review_secrets("dev").values(), "dev")
    text = (tmp_path / "k8s/gloo-login-check.job.yaml").read_text()
    job = yaml.safe_load(text)
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    numbers = [spec["backoffLimit"], spec["activeDeadlineSeconds"], pod["securityContext"]["runAsUser"]]
    assert all(type(n) is int for n in numbers), numbers
    assert ".0\n" not in text
    [script] = [arg for arg in pod["containers"][0]["command"] if "\n" in arg]
    assert "- |" in text
    lines = text.splitlines()
    for line in script.splitlines():
        assert any(written.strip() == line.strip() for written in lines), line


def test_a_missing_stack_file_is_one_line_naming_it_and_the_stacks_there(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        review.main(["--stack", "staging", "--out", str(tmp_path)])
    message = str(stopped.value.code)
    assert message.startswith("review: no stack file Pulumi.staging.yaml"), message
    assert "dev, prod" in message and "\n" not in message


def _stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> Path:
    """A folder holding one stack file, where the review reads stack files from."""
    monkeypatch.setattr(offline, "ROOT", tmp_path)
    (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path / "review"


def test_a_yaml_error_in_the_stack_file_is_one_line_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _stack_dir(tmp_path, monkeypatch, "bad", "config:\n  gloo-vault-irsa:region: us-east-1\n  : [\n")
    with pytest.raises(SystemExit) as stopped:
        review.main(["--stack", "bad", "--out", str(out)])
    message = str(stopped.value.code)
    assert message.startswith("review: Pulumi.bad.yaml line 3, column "), message
    assert "\n" not in message and len(message) < 200


def test_a_null_key_in_the_stack_file_is_unset_as_the_cli_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clusterName:` with nothing after it is no cluster name (the CLI reads YAML null as ""), not
    a cluster called `null`."""
    out = _stack_dir(tmp_path, monkeypatch, "null", "config:\n  gloo-vault-irsa:clusterName:\n")
    with pytest.raises(SystemExit) as stopped:
        review.main(["--stack", "null", "--out", str(out)])
    assert "gloo-vault-irsa:clusterName: expected the name of an existing EKS cluster" in str(stopped.value.code)


def test_a_plaintext_vault_token_in_the_stack_file_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token committed in a stack file is readable by everyone with the repository: the review
    says so (without the token), on its output and in its index; the token never reaches a file."""
    leaked = "hvs.committed-in-git"
    stack = (ROOT / "Pulumi.dev.yaml").read_text() + f"  gloo-vault-irsa:vaultToken: {leaked}\n"
    out = _stack_dir(tmp_path, monkeypatch, "leak", stack)
    assert review.main(["--stack", "leak", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    [warning] = [line for line in err.splitlines() if "vaultToken" in line]
    assert warning.startswith("review: warning: Pulumi.leak.yaml sets vaultToken in plain text"), warning
    assert leaked not in err
    assert warning.removeprefix("review: warning: ") in (out / "README.md").read_text()
    assert not any(leaked in p.read_text() for p in out.rglob("*") if p.is_file())

"""The offline review (components/review.py): what it writes, what it hides, and README's diagram."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

from components import review
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


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return review.run_offline("dev")


def _secret(value: object) -> dict[str, object]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def test_readmes_diagram_is_the_reviews(dev: ProgramRun) -> None:
    readme = (ROOT / "README.md").read_text()
    assert review.readme_with_graph(readme, review.mermaid(dev)) == readme, (
        "README's architecture diagram differs from the program's graph: run "
        "`.venv/bin/python -m components.review --readme`"
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
    stacks = review.review_stacks({"clusterStackRef": "other/eks/qa", "clusterStackKubeconfigOutput": "kc"})
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


def test_the_command_runs_without_any_credentials(tmp_path: Path) -> None:
    """A fresh machine: no AWS, Vault or Pulumi variables, an empty home, no network needed."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    assert not any(k.startswith(("AWS_", "VAULT_", "PULUMI_")) for k in env)
    out = tmp_path / "review"
    done = subprocess.run(
        [sys.executable, "-m", "components.review", "--stack", "dev", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"review: wrote 9 files into {out}/"  # the login check Job too
    assert (out / "graph.mmd").read_text() == review.mermaid(review.run_offline("dev"))
    assert not (tmp_path / "home").exists()  # nothing read from or written to a home

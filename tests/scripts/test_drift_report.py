"""The drift check: scripts/drift_report.py on refreshed-preview JSON, the scheduled workflow that
runs it, and the program's side of pulumi/pulumi-vault#744 (no input that would keep diffing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import FLEET, JOB, VARIANTS, VAULT_AUTH_BACKEND, load_script, run_program

drift_report = load_script("drift_report")

PREFIX = "urn:pulumi:dev::gloo-vault-irsa::"
STACK = PREFIX + "pulumi:pulumi:Stack::gloo-vault-irsa-dev"
ROLE = PREFIX + "gloo-vault-irsa:iam:IrsaRole$aws:iam/role:Role::gloo"
BACKEND = PREFIX + "gloo-vault-irsa:vault:VaultAwsAuth$vault:index/authBackend:AuthBackend::gloo"
POLICY = PREFIX + "gloo-vault-irsa:vault:VaultAwsAuth$vault:index/policy:Policy::gloo"
LOGIN_CHECK = PREFIX + "gloo-vault-irsa:gloo:GlooVaultLoginCheck$kubernetes:batch/v1:Job::gloo-login-check"


def step(op: str, urn: str, **more: Any) -> dict[str, Any]:
    """One `PreviewStep` as the CLI writes it (pkg/display/json.go)."""
    return {"op": op, "urn": urn, "provider": "", "detailedDiff": None, **more}


def digest(steps: list[dict[str, Any]], diagnostics: list[dict[str, Any]] | None = None) -> str:
    """A `PreviewDigest`: config, steps, diagnostics, duration, changeSummary."""
    summary: dict[str, int] = {}
    for s in steps:
        summary[s["op"]] = summary.get(s["op"], 0) + 1
    document: dict[str, Any] = {"config": {"gloo-vault-irsa:region": "us-east-1"}, "steps": steps}
    if diagnostics:
        document["diagnostics"] = diagnostics
    document.update(duration=4_000_000_000, changeSummary=summary)
    return json.dumps(document, indent=4)


UNCHANGED = [step("same", STACK), step("refresh", ROLE), step("same", ROLE), step("same", BACKEND)]


def test_an_unchanged_estate_is_no_drift() -> None:
    report = drift_report.read_report(digest(UNCHANGED))
    assert (report.status, report.lines()) == (0, ["drift-report: no drift"])


def test_a_warning_is_not_drift() -> None:
    warning = {"urn": ROLE, "message": "a deprecated input", "severity": "warning"}
    assert drift_report.read_report(digest(UNCHANGED, [warning])).status == 0


def test_a_resource_changed_outside_the_code_is_drift_once() -> None:
    """A refresh that found a difference is rewritten to an update with a detailed diff; the
    preview then plans the update that puts the code's value back: one line for the resource."""
    steps = [
        step("same", STACK),
        step("update", ROLE, detailedDiff={"assumeRolePolicy": {"kind": "update", "inputDiff": False}}),
        step("update", ROLE, diffReasons=["assumeRolePolicy"]),
        step("same", BACKEND),
    ]
    report = drift_report.read_report(digest(steps))
    assert report.status == 1
    assert report.lines() == [
        "drift: update aws:iam/role:Role gloo (assumeRolePolicy)",
        "drift-report: 1 resource(s) differ from the code",
    ]


def test_a_resource_deleted_outside_the_code_is_drift() -> None:
    steps = [
        step("same", STACK),
        step("delete", POLICY),
        step("create", POLICY),
        step("replace", BACKEND, replaceReasons=["type"]),
    ]
    report = drift_report.read_report(digest(steps))
    assert report.status == 1
    assert report.drift == [
        "create vault:index/policy:Policy gloo",
        "replace vault:index/authBackend:AuthBackend gloo (type)",
    ]


def test_the_login_check_job_gone_after_its_ttl_is_not_drift() -> None:
    """Kubernetes deletes the finished Job after 10 minutes: the daily refresh finds it gone and the
    preview creates it again (the check runs on the next `up`), which is no drift in the estate."""
    steps = [step("same", STACK), step("delete", LOGIN_CHECK), step("create", LOGIN_CHECK), step("same", ROLE)]
    assert drift_report.read_report(digest(steps)).lines() == ["drift-report: no drift"]
    changed = [*steps, step("update", ROLE, diffReasons=["assumeRolePolicy"])]
    assert drift_report.read_report(digest(changed)).drift == ["update aws:iam/role:Role gloo (assumeRolePolicy)"]


def test_each_clusters_login_check_job_gone_after_its_ttl_is_not_drift() -> None:
    """With `clusters` each cluster's Job is `<name>-gloo-login-check`: known by its type and the
    component that owns it, not by its name, so the daily run does not report every cluster."""
    jobs = [LOGIN_CHECK.replace("::gloo-login-check", f"::{key}-gloo-login-check") for key in ("east-a", "east-b")]
    steps = [step("same", STACK), *(step(op, job) for job in jobs for op in ("delete", "create"))]
    assert drift_report.read_report(digest(steps)).lines() == ["drift-report: no drift"]


@pytest.mark.parametrize(
    "urn",
    [
        PREFIX + "kubernetes:batch/v1:Job::gloo-login-check",  # a Job of that name the program did not make
        PREFIX + "acme:ops:Nightly$kubernetes:batch/v1:Job::east-a-gloo-login-check",  # another owner's Job
        PREFIX + "gloo-vault-irsa:gloo:GlooVaultLoginCheck$kubernetes:core/v1:ConfigMap::gloo-login-check",
    ],
)
def test_a_job_the_login_check_does_not_own_is_drift_when_it_comes_back(urn: str) -> None:
    report = drift_report.read_report(digest([step("same", STACK), step("delete", urn), step("create", urn)]))
    type_ = urn.split("::")[2].rsplit("$", 1)[-1]
    assert report.drift == [f"create {type_} {urn.rsplit('::', 1)[-1]}"]


@pytest.mark.parametrize("variant", ["dev", "clusters"])
def test_the_self_deleting_resources_are_the_programs(variant: str) -> None:
    """Every Job the program registers, alone or in `clusters` (each cluster's own), is the login
    check's, and the script knows it by its owner's type as the program registers it."""
    config, secrets = VARIANTS[variant]
    run = run_program({**config, "loginCheck": True}, secrets=secrets)
    jobs = run.of_type(JOB)
    assert len(jobs) == (len(FLEET) if variant == "clusters" else 1)
    for job in jobs:
        owner = run.by_urn(job.parent)
        assert job.urn.endswith(f"{owner.type}${job.type}::{job.name}")
        assert (owner.type, job.type) in drift_report.SELF_DELETING
        assert drift_report.self_deleting(job.urn)


def test_a_failed_preview_is_an_error_not_drift() -> None:
    failure = {"message": "error: Preview failed: 401 Unauthorized\n  from the API server", "severity": "error"}
    report = drift_report.read_report(digest([step("same", STACK)], [failure]), exit_code=255)
    assert report.status == 2
    assert report.lines() == [
        "error: error: Preview failed: 401 Unauthorized from the API server",
        "drift-report: the preview failed; this is an error, not (only) drift",
    ]


def test_an_error_wins_over_drift_but_the_drift_is_still_listed() -> None:
    failure = {"urn": BACKEND, "message": "permission denied", "severity": "error"}
    report = drift_report.read_report(digest([step("update", ROLE, diffReasons=["description"])], [failure]), 255)
    assert report.status == 2
    assert "drift: update aws:iam/role:Role gloo (description)" in report.lines()


@pytest.mark.parametrize(
    ("text", "exit_code", "reason"),
    [
        ("", 255, "the preview printed nothing"),
        ("error: no stack named 'dev' found", 255, "the preview's output is not JSON"),
        ("[]", 0, "not a preview digest"),
        (digest(UNCHANGED), 1, "pulumi preview exited 1"),
    ],
)
def test_no_usable_answer_is_an_error(text: str, exit_code: int, reason: str) -> None:
    report = drift_report.read_report(text, exit_code)
    assert report.status == 2
    assert reason in report.errors[0]


def test_the_command_exits_with_the_reports_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    preview = tmp_path / "preview.json"
    preview.write_text(digest([step("update", ROLE, diffReasons=["tags"])]))
    assert drift_report.main([str(preview), "--exit-code", "0"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "drift: update aws:iam/role:Role gloo (tags)"
    assert drift_report.main([str(tmp_path / "missing.json"), "--exit-code", "255"]) == 2


# ---------------------------------------------------------------------------- pulumi/pulumi-vault#744


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_auth_backend_sets_no_input_that_keeps_diffing(variant: str) -> None:
    """pulumi-vault#744: an AuthBackend that updates on every `up` with no change; its likely cause
    is a `tune` block (even an empty one), whose values Vault reads back from another endpoint than
    it writes. The program sets type, path and description only, each read back as written (the
    engine test test_vault_reads_back_what_the_program_declared shows it on OpenBao)."""
    config, secrets = VARIANTS[variant]
    for backend in run_program(config, secrets=secrets).of_type(VAULT_AUTH_BACKEND):
        assert set(backend.inputs) - {"__defaults"} == {"type", "path", "description"}, backend.inputs

"""The verify layer: the login check Job (components/verification.py), under mocks, and its script
run by a POSIX shell against a stand-in `vault` (the real chain: tests/engines/test_login_check.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.documents.vault import VAULT_IMAGE, VAULT_IMAGE_REPOSITORY, VAULT_IMAGE_TAG
from components.documents.verification import (
    LOGIN_CHECK,
    LOGIN_CHECK_CA_DIR,
    login_check_container,
    login_check_result,
    login_check_script,
)
from tests.harness import (
    EXTERNAL_VAULT,
    HELM_RELEASE,
    JOB,
    VAULT_AWS_ROLE,
    ProgramRun,
    dev_config,
    mock_role_unique_id,
    run_program,
    run_program_failure,
    stack_config,
)
from tests.test_config import assert_names_key

LOGIN_CHECK_TYPE = "gloo-vault-irsa:gloo:GlooVaultLoginCheck"


def gloo_release(run: ProgramRun) -> Any:
    [release] = [r for r in run.of_type(HELM_RELEASE) if r.inputs["chart"] in ("gloo", "gloo-ee")]
    return release


def gloo_vault_source(run: ProgramRun) -> dict[str, Any]:
    values = gloo_release(run).inputs["values"]
    gloo = values if "settings" in values else values["gloo"]
    [source] = [s["vault"] for s in gloo["settings"]["secretOptions"]["sources"] if "vault" in s]
    assert isinstance(source, dict)
    return source


def pod_spec(run: ProgramRun) -> dict[str, Any]:
    spec: dict[str, Any] = run.one(JOB).inputs["spec"]["template"]["spec"]
    return spec


# ---------------------------------------------------------------------------- the Job in the graph


def test_the_dev_stack_checks_gloos_login_from_gloos_namespace_as_gloo(run: ProgramRun) -> None:
    job = run.one(JOB)
    assert run.by_urn(job.parent).type == LOGIN_CHECK_TYPE
    assert job.inputs["metadata"]["namespace"] == "gloo-system"
    assert "name" not in job.inputs["metadata"]  # auto-named: a replacement is a new Job, created first
    spec = pod_spec(run)
    assert spec["serviceAccountName"] == "gloo"  # Gloo's IRSA role and STS mode, from its annotations
    assert spec["restartPolicy"] == "Never"


@pytest.mark.parametrize("variant", ["dev", "adopted-oidc", "enterprise"])
def test_the_job_runs_exactly_what_the_gloo_release_logs_in_with(runs: dict[str, ProgramRun], variant: str) -> None:
    run = runs[variant]
    [container] = pod_spec(run)["containers"]
    assert container == login_check_container(gloo_vault_source(run))


def test_every_value_of_the_command_follows_the_config_gloo_follows() -> None:
    config = {
        **dev_config(),
        "region": "eu-west-1",
        "iamServerIdHeader": "vault.edge.example.org",
        "authMountPath": "aws-eks",
        "kvPath": "secret",
        "glooRootKey": "edge",
        "glooNamespace": "edge",
    }
    run = run_program(config)
    [container] = pod_spec(run)["containers"]
    script = container["command"][2]
    role = run.outputs["vaultRoleName"]
    assert f"role={role} region=eu-west-1 header=vault.edge.example.org mount=aws-eks path=secret/metadata/edge/\n" in (
        script
    )
    assert container["env"][0] == {"name": "VAULT_ADDR", "value": "http://vault-internal.vault:8200"}
    assert run.one(JOB).inputs["metadata"]["namespace"] == "edge"


def test_the_job_waits_for_the_vault_role_and_the_gloo_release(run: ProgramRun) -> None:
    job = run.one(JOB)
    assert run.depends_on(job, run.one(VAULT_AWS_ROLE))
    assert run.depends_on(job, gloo_release(run))


def test_a_recreated_role_or_a_changed_release_runs_the_check_again(run: ProgramRun) -> None:
    assert run.one(JOB).options["replacementTrigger"] == {"role": mock_role_unique_id("gloo"), "release": 1}


def test_the_job_is_bounded_and_does_not_linger(run: ProgramRun) -> None:
    spec = run.one(JOB).inputs["spec"]
    assert spec["backoffLimit"] <= 1
    assert spec["activeDeadlineSeconds"] <= 300  # well inside pulumi-kubernetes' 10-minute Job await
    assert 0 < spec["ttlSecondsAfterFinished"] <= 3600
    [container] = pod_spec(run)["containers"]
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert {"name": "TERMINATION_LOG", "value": container["terminationMessagePath"]} in container["env"]


def test_the_job_runs_unprivileged(run: ProgramRun) -> None:
    spec = pod_spec(run)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    [container] = spec["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_the_check_and_the_dev_vault_run_the_one_pinned_vault_image(run: ProgramRun) -> None:
    [container] = pod_spec(run)["containers"]
    assert container["image"] == VAULT_IMAGE == f"{VAULT_IMAGE_REPOSITORY}:{VAULT_IMAGE_TAG}"
    [vault] = [r for r in run.of_type(HELM_RELEASE) if r.inputs["chart"] == "vault"]
    assert vault.inputs["values"]["server"]["image"] == {"repository": VAULT_IMAGE_REPOSITORY, "tag": VAULT_IMAGE_TAG}


def test_the_stack_output_names_the_job_and_its_status(run: ProgramRun) -> None:
    job = run.outputs["loginCheck"]["job"]
    assert re.fullmatch(r"gloo-system/gloo-login-check-[0-9a-f]{7}", job)
    assert run.outputs["loginCheck"]["status"] == "passed"
    assert run.outputs["loginCheck"]["logs"] == f"kubectl -n gloo-system logs job/{job.split('/')[1]}"


def test_a_preview_registers_the_job_with_the_values_still_unknown(preview: ProgramRun) -> None:
    assert preview.one(JOB).inputs["metadata"]["namespace"] == "gloo-system"
    assert preview.outputs["loginCheck"] is None


# ---------------------------------------------------------------------------- on by default in dev


@pytest.mark.parametrize(
    ("overrides", "checked"),
    [
        ({}, True),
        ({"loginCheck": False}, False),
        ({**EXTERNAL_VAULT, "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server"}, False),
        (
            {
                **EXTERNAL_VAULT,
                "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
                "loginCheck": True,
            },
            True,
        ),
    ],
    ids=["dev", "dev, off", "external", "external, on"],
)
def test_the_check_is_on_for_the_dev_topology_and_opt_in_elsewhere(overrides: dict[str, Any], checked: bool) -> None:
    run = run_program({**dev_config(), **overrides})
    assert len(run.of_type(JOB)) == int(checked)
    assert len(run.of_type(LOGIN_CHECK_TYPE)) == int(checked)
    if not checked:
        assert run.outputs["loginCheck"] == {"status": "off"}


# ---------------------------------------------------------------------------- the stack output


@pytest.mark.parametrize(
    ("conditions", "status"),
    [
        ([{"type": "Complete", "status": "True"}], "passed"),
        ([{"type": "Failed", "status": "True"}], "failed"),
        ([], "running"),
        (None, "running"),
    ],
)
def test_the_result_reads_the_jobs_conditions(conditions: list[dict[str, str]] | None, status: str) -> None:
    result = login_check_result(name="check-1", namespace="gloo-system", status={"conditions": conditions})
    assert result == {"job": "gloo-system/check-1", "status": status, "logs": "kubectl -n gloo-system logs job/check-1"}


# ---------------------------------------------------------------------------- the script, in a shell


def api_error(what: str, request: str, code: int, errors: str) -> str:
    """What the Vault CLI prints for an API error (`api.ResponseError`), after `Error <what>: `."""
    return f"Error {what}: Error making API request.\n\nURL: {request}\nCode: {code}. Errors:\n\n{errors}\n"


def run_script(
    tmp_path: Path,
    *,
    login: tuple[int, str],
    listing: tuple[int, str],
    env: dict[str, str] | None = None,
    **values: str,
) -> tuple[int, str, str]:
    """Runs the check's script with a stand-in `vault` that records its argv (and the CA file it
    is given, if any) and answers as given."""
    stub = tmp_path / "bin" / "vault"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {tmp_path}/argv\n'
        f'[ -z "${{VAULT_CACERT:-}}" ] || cat "$VAULT_CACERT" >> {tmp_path}/ca-seen\n'
        f'if [ "$1" = login ]; then printf %s {_sh(login[1])} >&{2 if login[0] else 1}; exit {login[0]}; fi\n'
        f'[ "$VAULT_TOKEN" = "hvs.token" ] || exit 9\n'
        f"printf %s {_sh(listing[1])} >&{2 if listing[0] else 1}; exit {listing[0]}\n"
    )
    os.chmod(stub, 0o755)
    args = {"role": "gloo-role", "region": "us-east-1", "header_value": "vault.gloo.example.com", "mount": "aws"}
    script = login_check_script(**{**args, **values}, list_path="dev/metadata/gloo/")
    environment = {
        "PATH": f"{stub.parent}:/usr/bin:/bin",
        "TERMINATION_LOG": str(tmp_path / "termination-log"),
        **(env or {}),
    }
    done = subprocess.run(["/bin/sh", "-c", script], env=environment, capture_output=True, text=True, check=False)
    assert (tmp_path / "termination-log").read_text() == (done.stdout or done.stderr).strip()
    return done.returncode, done.stdout, done.stderr


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_the_script_logs_in_with_the_values_and_lists_with_the_token(tmp_path: Path) -> None:
    code, out, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\ngloo.solo.io/\n"))
    assert (code, err) == (0, "")
    assert out == (
        f"{LOGIN_CHECK} passed: logged in with role gloo-role at auth/aws (region us-east-1, header "
        "vault.gloo.example.com); listed 1 entries at dev/metadata/gloo/\n"
    )
    assert (tmp_path / "argv").read_text().splitlines() == [
        "login -token-only -method=aws role=gloo-role region=us-east-1 header_value=vault.gloo.example.com mount=aws",
        "list dev/metadata/gloo/",
    ]


def test_a_value_is_never_run_by_the_shell(tmp_path: Path) -> None:
    header = "vault.$(touch pwned).example.com'\"`touch pwned2`"
    code, _, _ = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\n"), header_value=header)
    assert code == 0
    assert not list(Path.cwd().glob("pwned*")) and not list(tmp_path.glob("pwned*"))
    assert f"header_value={header} mount=aws" in (tmp_path / "argv").read_text()


def test_an_empty_path_passes(tmp_path: Path) -> None:
    code, out, _ = run_script(tmp_path, login=(0, "hvs.token"), listing=(2, "No value found at dev/metadata/gloo\n"))
    assert code == 0
    assert out.endswith("; nothing stored at dev/metadata/gloo/ yet (list allowed)\n")


def test_a_refused_list_fails_with_the_apis_reason_on_one_line(tmp_path: Path) -> None:
    listing = "GET http://vault:8200/v1/dev/metadata/gloo?list=true"
    answer = api_error("listing dev/metadata/gloo", listing, 403, "* 1 error occurred:\n\t* permission denied\n")
    code, out, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(2, answer))
    assert (code, out) == (1, "")
    assert err == (
        f"{LOGIN_CHECK} failed: logged in with role gloo-role at auth/aws (region us-east-1, header "
        "vault.gloo.example.com) but cannot list dev/metadata/gloo/: HTTP 403: permission denied\n"
    )


def test_a_refused_login_fails_with_the_apis_reason_on_one_line(tmp_path: Path) -> None:
    login = "PUT http://vault:8200/v1/auth/aws/login"
    answer = api_error("authenticating", login, 400, "* entry for role gloo-role not found")
    code, _, err = run_script(tmp_path, login=(2, answer), listing=(0, ""))
    assert code == 1
    assert err.endswith(": HTTP 400: entry for role gloo-role not found\n")
    assert err.count("\n") == 1
    assert (tmp_path / "argv").read_text().count("\n") == 1  # no list without a token


def test_a_login_that_fails_before_vault_answers_gives_its_first_line(tmp_path: Path) -> None:
    answer = "Error authenticating: failed to retrieve credentials from credential chain: NoCredentialProviders\n"
    code, _, err = run_script(tmp_path, login=(2, answer), listing=(0, ""))
    assert code == 1
    assert err.endswith(
        ": Error authenticating: failed to retrieve credentials from credential chain: NoCredentialProviders\n"
    )


def test_the_script_verifies_vault_with_the_ca_it_is_given(tmp_path: Path) -> None:
    """VAULT_CA_PEM (the Job's copy of `vaultCaCert`) becomes the file VAULT_CACERT names, before
    the login and the list, each of which the CLI verifies Vault's certificate with."""
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    env = {"VAULT_CA_PEM": ca, "VAULT_CACERT": str(tmp_path / "vault-ca.pem")}
    code, _, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, "Keys\n----\n"), env=env)
    assert (code, err) == (0, "")
    assert (tmp_path / "ca-seen").read_text() == (ca + "\n") * 2


def test_a_ca_it_cannot_write_fails_in_one_line(tmp_path: Path) -> None:
    env = {"VAULT_CA_PEM": "pem", "VAULT_CACERT": str(tmp_path / "missing-dir" / "vault-ca.pem")}
    code, _, err = run_script(tmp_path, login=(0, "hvs.token"), listing=(0, ""), env=env)
    assert code == 1 and err.count("\n") == 1 and "cannot write Vault's CA to" in err
    assert not (tmp_path / "argv").exists()  # no login without the CA


PROD_CHECKED = {**stack_config("prod"), "loginCheck": True}
PROD_SECRETS = {"vaultToken": "hvs.test", "glooLicenseKey": "LICENSE"}


def test_with_glooss_own_ca_the_check_gets_vaults_ca_in_memory() -> None:
    """Production's Gloo verifies Vault with a CA file of the platform's: the Job, which cannot read
    that file, gets `vaultCaCert`, written into an in-memory volume for the read-only root."""
    run = run_program(PROD_CHECKED, secrets=PROD_SECRETS, stack="prod")
    spec = pod_spec(run)
    [container] = spec["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["VAULT_CA_PEM"] == stack_config("prod")["vaultCaCert"]
    assert env["VAULT_CACERT"] == f"{LOGIN_CHECK_CA_DIR}/vault-ca.pem"
    assert container["volumeMounts"] == [{"name": "vault-ca", "mountPath": LOGIN_CHECK_CA_DIR}]
    assert spec["volumes"] == [{"name": "vault-ca", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_without_a_ca_of_glooss_own_the_check_trusts_the_systems() -> None:
    """A `vaultCaCert` for Pulumi's own address only is not Gloo's: VAULT_CACERT would replace the
    system's CAs the public certificate Gloo verifies is signed by."""
    config = {k: v for k, v in PROD_CHECKED.items() if k != "glooVaultCaCertPath"}
    spec = pod_spec(run_program(config, secrets=PROD_SECRETS, stack="prod"))
    [container] = spec["containers"]
    assert {e["name"] for e in container["env"]} == {"VAULT_ADDR", "TERMINATION_LOG"}
    assert "volumes" not in spec and "volumeMounts" not in container


def test_a_check_that_could_not_verify_vault_is_refused_in_one_line() -> None:
    config = {k: v for k, v in PROD_CHECKED.items() if k != "vaultCaCert"}
    failed = run_program_failure(config, secrets=PROD_SECRETS, stack="prod")
    assert_names_key(failed.error, "loginCheck")
    assert "glooVaultCaCertPath" in str(failed.error)

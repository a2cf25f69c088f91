"""components/verification.py: the login check Job under mocks (its script and result, pure
documents, are in tests/documents/test_verification.py; the real chain: tests/engines/test_login_check.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.documents.vault import VAULT_IMAGE, VAULT_IMAGE_REPOSITORY, VAULT_IMAGE_TAG
from components.documents.verification import (
    LOGIN_CHECK_CA_DIR,
    login_check_container,
)
from tests.harness import (
    EXTERNAL_VAULT,
    HELM_RELEASE,
    JOB,
    VAULT_AWS_ROLE,
    ProgramRun,
    assert_names_key,
    dev_config,
    mock_role_unique_id,
    run_program,
    run_program_failure,
    stack_config,
)

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

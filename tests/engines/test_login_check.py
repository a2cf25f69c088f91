"""The login check Job's exact command on the local chain (OpenBao + moto), with Vault's own aws
login handler (tests/engines/vaultcli, Vault 1.21.4 as in the Job's image), run as the Job's pod
would be (login_check_pod.py): it passes where Gloo can log in and list, and `pulumi up` would fail
with one line naming the cause where it cannot."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from components.documents.verification import LOGIN_CHECK, login_check_container
from tests.engines.apply import Deployment
from tests.engines.conftest import Deployer
from tests.engines.login_check_pod import JobPodRun, job_container, run_job_pod
from tests.engines.test_auth_chain import IN_CLUSTER, seed_secret
from tests.engines.tls_front import TlsFront, tls_front
from tests.harness import JOB

pytestmark = pytest.mark.engines


@pytest.fixture
def deployed(deployer: Deployer) -> Deployment:
    return deployer(IN_CLUSTER)


def declared_source(dep: Deployment) -> dict[str, Any]:
    """Gloo's Vault settings as the Gloo release declares them (what the Job was built from)."""
    values = dep.gloo_release.inputs["values"]
    [source] = [s["vault"] for s in values["settings"]["secretOptions"]["sources"] if "vault" in s]
    assert isinstance(source, dict)
    return source


def with_aws(dep: Deployment, **aws: str) -> dict[str, Any]:
    """The Job's container as the program builds it, for a Gloo whose `aws` settings differ from Vault's."""
    source = declared_source(dep)
    return login_check_container({**source, "aws": {**source["aws"], **aws}})


def failed(run: JobPodRun) -> str:
    """The one line of a failed check, after checking it is also the termination message."""
    assert run.exit_code == 1, run
    assert run.line == run.termination_message, run
    assert run.line.startswith(f"{LOGIN_CHECK} failed: "), run.line
    return run.line.removeprefix(f"{LOGIN_CHECK} failed: ")


def test_the_declared_job_is_built_from_gloos_vault_settings(deployed: Deployment) -> None:
    assert job_container(deployed.run.one(JOB)) == login_check_container(declared_source(deployed))


def test_the_check_logs_in_and_lists_an_empty_path(deployed: Deployment) -> None:
    """Nothing stored yet: the list answers 404, which is no failure of the chain."""
    deployed.engines.bao.api("DELETE", "dev/metadata/gloo/gloo.solo.io/v1/Secret/gloo-system/upstream-aws")
    run = run_job_pod(deployed)
    assert run.exit_code == 0, run
    role = deployed.run.outputs["vaultRoleName"]
    assert run.line == (
        f"{LOGIN_CHECK} passed: logged in with role {role} at auth/aws (region us-east-1, header "
        "vault.gloo.example.com); nothing stored at dev/metadata/gloo/ yet (list allowed)"
    )
    assert run.termination_message == run.line


def test_the_check_lists_what_gloo_lists(deployed: Deployment) -> None:
    seed_secret(deployed)
    run = run_job_pod(deployed)
    assert run.exit_code == 0, run
    assert run.line.endswith("; listed 1 entries at dev/metadata/gloo/"), run.line


def test_a_wrong_header_fails_with_vaults_reason(deployed: Deployment) -> None:
    line = failed(run_job_pod(deployed, with_aws(deployed, iamServerIdHeader="vault.attacker.example.com")))
    assert line.startswith("Vault refused the login of role "), line
    assert line.endswith(
        "(region us-east-1, header vault.attacker.example.com): HTTP 400: error validating "
        'X-Vault-AWS-IAM-Server-ID header: expected "vault.gloo.example.com" but got "vault.attacker.example.com"'
    ), line


def test_a_wrong_region_fails_with_stss_reason(deployed: Deployment) -> None:
    line = failed(run_job_pod(deployed, with_aws(deployed, region="eu-west-1")))
    assert "(region eu-west-1, header vault.gloo.example.com): HTTP 400: " in line, line
    assert "received error code 403 from STS" in line and "Credential should be scoped to a valid region" in line


def test_a_wrong_role_fails_with_vaults_reason(deployed: Deployment) -> None:
    line = failed(run_job_pod(deployed, with_aws(deployed, vaultRole="gateway-proxy")))
    assert line.startswith("Vault refused the login of role gateway-proxy at auth/aws "), line
    assert line.endswith("HTTP 400: entry for role gateway-proxy not found"), line


def test_a_policy_without_the_list_fails_with_403(deployed: Deployment, deployer: Deployer) -> None:
    """Logged in, but Gloo's policy does not grant the list Gloo needs: Gloo would exit at start."""
    policy = deployed.run.outputs["vaultPolicyName"]
    read_only = 'path "dev/data/gloo/*" {\n  capabilities = ["read"]\n}\n'
    deployed.engines.bao.api("PUT", f"sys/policies/acl/{policy}", {"policy": read_only}).expect(200, 204)
    deployer.forget()
    line = failed(run_job_pod(deployed))
    assert line.endswith("but cannot list dev/metadata/gloo/: HTTP 403: permission denied"), line


@pytest.fixture
def vault_behind_tls(deployed: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsFront]:
    """The deployed Vault reached over https with a certificate of a private CA, as production's."""
    with tls_front(deployed.engines.bao.url, tmp_path_factory.mktemp("tls")) as front:
        yield front


def behind_tls(dep: Deployment, front: TlsFront, ca_pem: str | None) -> dict[str, Any]:
    """The Job's container as the program builds it for a Gloo that reaches Vault at `front`."""
    return login_check_container({**declared_source(dep), "address": front.url}, ca_pem=ca_pem)


def test_behind_a_private_ca_the_check_verifies_vault_with_vaults_ca(
    deployed: Deployment, vault_behind_tls: TlsFront
) -> None:
    """`vaultCaCert` handed to the Job (VAULT_CA_PEM, then VAULT_CACERT): Vault's own CLI logs in
    and lists over TLS, the certificate verified with that CA."""
    container = behind_tls(deployed, vault_behind_tls, vault_behind_tls.ca_pem)
    # The pod's in-memory volume at LOGIN_CHECK_CA_DIR is a temporary directory here.
    with tempfile.TemporaryDirectory() as ca_dir:
        env = [{**e, "value": f"{ca_dir}/vault-ca.pem"} if e["name"] == "VAULT_CACERT" else e for e in container["env"]]
        run = run_job_pod(deployed, {**container, "env": env}, vault_address=vault_behind_tls.url)
    assert run.exit_code == 0, run
    assert run.line.startswith(f"{LOGIN_CHECK} passed: logged in with role "), run.line


def test_behind_a_private_ca_the_check_without_it_fails_in_one_line(
    deployed: Deployment, vault_behind_tls: TlsFront
) -> None:
    """What the Job did before it got `vaultCaCert`: the system's CAs do not know the private one."""
    container = behind_tls(deployed, vault_behind_tls, None)
    line = failed(run_job_pod(deployed, container, vault_address=vault_behind_tls.url))
    assert line.startswith("Vault refused the login of role "), line
    assert "certificate signed by unknown authority" in line, line

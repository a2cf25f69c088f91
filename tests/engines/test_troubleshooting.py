"""README's Troubleshooting, reproduced on the engines: each error users hit, caused as it is in a
cluster, answered by OpenBao (with the AWS auth plugin), moto or Gloo's own login client.

Each test names the fragments of the error that README quotes and checks both sides: the
fragments are in README's Troubleshooting section, and in the engine's answer, so the README and
what the engines say cannot drift apart. The one mapping no engine here can show (a Helm release
left pending by an interrupted `up`) is checked on the program's side.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import replace
from typing import Any

import pytest

from tests.engines.apply import Deployment
from tests.engines.conftest import Deployer
from tests.engines.gloo_client import IRSA_ANNOTATION
from tests.engines.gloo_pod import GlooPod, gloo_values
from tests.engines.test_auth_chain import (
    IN_CLUSTER,
    SHORT_TTL,
    VAULT_ROLE,
    applied_without_the_grant,
    declared,
    get_role_as,
    seed_secret,
)
from tests.harness import ROOT, dev_config, run_program

pytestmark = pytest.mark.engines


def troubleshooting() -> str:
    """README's Troubleshooting section."""
    readme = (ROOT / "docs" / "troubleshooting.md").read_text()
    start = readme.index("\n## Troubleshooting\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def quoted(answer: str, *fragments: str) -> None:
    """Every fragment is quoted in README's Troubleshooting and said by the engine."""
    section = troubleshooting()
    for fragment in fragments:
        assert fragment in section, f"README's Troubleshooting does not quote {fragment!r}"
        assert fragment in answer, f"the engine did not say {fragment!r}: {answer}"


def with_source(pod: GlooPod, **changes: Any) -> GlooPod:
    """Gloo with other `settings.secretOptions.sources[].vault` values (rootKey, pathPrefix...)."""
    values = copy.deepcopy(pod.values)
    [vault] = [s["vault"] for s in gloo_values(values)["settings"]["secretOptions"]["sources"] if "vault" in s]
    vault.update(changes)
    return replace(pod, values=values)


@pytest.fixture
def deployed(deployer: Deployer) -> Deployment:
    dep = deployer(IN_CLUSTER)
    seed_secret(dep)
    return dep


def test_unable_to_resolve_arn_is_vaults_missing_get_role(deployer: Deployer) -> None:
    """The guide's own Troubleshooting error: the Vault role written before (or without) Vault's
    iam:GetRole grant on the bound role. The program's grant, and the role's wait and retry, fix it."""
    run, refused = applied_without_the_grant(deployer)
    partial = refused.deployment
    assert partial is not None
    bound = run.one(VAULT_ROLE).inputs["boundIamPrincipalArns"][0]
    denied = get_role_as(partial.engines, partial.vault_identity, bound)
    quoted(f"{refused} {denied}", "unable to resolve ARN", "to internal ID", "not authorized to perform: iam:GetRole")
    assert bound in str(refused)


def test_signature_scoped_to_another_region_is_a_region_mismatch(deployed: Deployment) -> None:
    """Gloo signs for its `region`, Vault's client config verifies at `sts_region`: both from `region`."""
    run = deployed.run_gloo(deployed.gloo_pod().with_vault_settings(region="eu-west-1")).refused()
    quoted(
        run.error,
        "received error code 403 from STS",
        "SignatureDoesNotMatch",
        "Credential should be scoped to a valid region",
    )


def test_a_missing_server_id_header(deployed: Deployment) -> None:
    run = deployed.run_gloo(deployed.gloo_pod().with_vault_settings(iamServerIdHeader="")).refused()
    quoted(run.error, "error validating X-Vault-AWS-IAM-Server-ID header", 'missing header "X-Vault-AWS-IAM-Server-ID"')


def test_a_server_id_header_vault_does_not_expect(deployed: Deployment) -> None:
    pod = deployed.gloo_pod().with_vault_settings(iamServerIdHeader="vault.other.example.com")
    run = deployed.run_gloo(pod).refused()
    expected = declared(deployed, "vault:aws/authBackendClient:AuthBackendClient")["iamServerIdHeaderValue"]
    quoted(run.error, "error validating X-Vault-AWS-IAM-Server-ID header", 'expected "', '" but got "')
    assert f'expected "{expected}" but got "vault.other.example.com"' in run.error


def test_permission_denied_on_metadata_stops_gloo_at_start(deployed: Deployment) -> None:
    """Gloo's first List outside what the policy grants: the login works, the list is refused, and
    Gloo (here its client) exits. The policy is generated from `kvPath` and `glooRootKey`."""
    kv = declared(deployed, "vault:index/mount:Mount")["path"]
    run = deployed.run_gloo(with_source(deployed.gloo_pod(), rootKey="not-the-policys")).refused()
    assert len(run.logins) == 1
    quoted(
        run.error, "/metadata/", "/gloo.solo.io/v1/Secret?list=true Code: 403", "1 error occurred: * permission denied"
    )
    assert f"/v1/{kv}/metadata/not-the-policys/gloo.solo.io/v1/Secret" in run.error


def test_entry_for_role_not_found(deployed: Deployment) -> None:
    run = deployed.run_gloo(deployed.gloo_pod().with_vault_settings(vaultRole="no-such-role")).refused()
    quoted(run.error, "entry for role", "not found")
    assert "entry for role no-such-role not found" in run.error


def test_a_pod_on_another_role_is_not_the_bound_principal(deployed: Deployment, deployer: Deployer) -> None:
    """A pod started before its service account had the role (or whose role changed) keeps the
    credentials it started with, such as the node's role: Vault sees another principal."""
    deployer.forget()  # this test adds a role to moto
    trust = {"Version": "2012-10-17", "Statement": []}
    node_role = deployed.engines.moto.client("iam").create_role(
        RoleName="eks-node-role", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    pod = deployed.gloo_pod().with_annotations(**{IRSA_ANNOTATION: node_role})
    run = deployed.run_gloo(pod).refused()
    vault_role = declared(deployed, VAULT_ROLE)["role"]
    quoted(run.error, "does not belong to the role")
    assert "assumed-role/eks-node-role/" in run.error and f'does not belong to the role "{vault_role}"' in run.error


def test_after_a_failed_login_again_the_token_expires(deployer: Deployer) -> None:
    """Gloo renews its token until `tokenMaxTtl`, then logs in again; when that login fails (here
    the Vault role was deleted meanwhile) Gloo stops renewing and keeps the old token, and every
    read is refused once it expires. The 1m minimum max TTL makes this about 75 s."""
    deployer.forget()
    dep = deployer(SHORT_TTL)
    deployer.forget()  # this test deletes the Vault role
    seed_secret(dep)
    role = declared(dep, VAULT_ROLE)
    delete = threading.Timer(8, lambda: dep.operator("DELETE", f"auth/{role['backend']}/role/{role['role']}"))
    delete.start()
    try:
        run = dep.run_gloo(stay=role["tokenMaxTtl"] + 15, read_every=5)
    finally:
        delete.cancel()
    assert run.exit_code == 1 and len(run.logins) == 1
    assert run.reads[0].get("error", "") == ""
    expired = [r for r in run.reads if r.get("status") == 403]
    assert expired and all(r["at"] > role["tokenMaxTtl"] - 1 for r in expired)
    quoted(run.error + " " + expired[-1]["error"], "entry for role", "permission denied")


def test_a_pending_helm_release_is_named_by_the_stacks_outputs() -> None:
    """No engine here runs Helm: the program's side. README's fix names the Gloo release by the
    stack outputs `glooReleaseName` and `glooNamespace`, which are the release's own name and
    namespace; the deploy workflow never cancels a running `up` (tests/test_workflows.py)."""
    run = run_program(dev_config())
    [release] = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "gloo"]
    assert (release.inputs["name"], release.inputs["namespace"]) == (
        run.outputs["glooReleaseName"],
        run.outputs["glooNamespace"],
    )
    section = troubleshooting()
    assert "another operation (install/upgrade/rollback) is in progress" in section
    assert 'helm rollback "$(pulumi stack output glooReleaseName)" -n "$(pulumi stack output glooNamespace)"' in section

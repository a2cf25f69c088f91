"""components/gloo.py: the guide's `helm install gloo` with its Vault/IRSA overrides, what it waits
for, the service accounts each Gloo version has and trusts, and pods that roll with the role."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import (
    HELM_RELEASE,
    VAULT_AWS_ROLE,
    ProgramRun,
    dev_config,
    gloo_values,
    mock_physical_name,
    mock_role_arn,
    run_program,
    trust_subjects,
)

GLOO_ROLE_ARN = mock_role_arn("gloo")
GLOO_ROLE_NAME = mock_physical_name("gloo")
LICENSE = "LICENSE-KEY-0123456789"


def guide_values(*, address: str = "http://vault-internal.vault:8200", discovery: bool = False) -> dict[str, Any]:
    """The guide's Gloo Edge step 1 overrides, filled in with the mocked role and the guide's values.

    The role goes to the service accounts the chart creates (`discovery` only where discovery is
    on: Gloo 1.15 to 1.19), each signing for its region's STS, with pods that roll on a new role.
    """
    annotations = {"eks.amazonaws.com/role-arn": GLOO_ROLE_ARN, "eks.amazonaws.com/sts-regional-endpoints": "true"}
    roll = {"gloo-vault-irsa/irsa-role-arn": GLOO_ROLE_ARN}
    gloo = {"serviceAccount": {"extraAnnotations": annotations}, "deployment": {"extraGlooAnnotations": roll}}
    with_discovery = {
        "enabled": True,
        "serviceAccount": {"extraAnnotations": annotations},
        "deployment": {"extraDiscoveryAnnotations": roll},
    }
    return {
        "settings": {
            "secretOptions": {
                "sources": [
                    {
                        "vault": {
                            "address": address,
                            "aws": {
                                "iamServerIdHeader": "vault.gloo.example.com",
                                "mountPath": "aws",
                                "region": "us-east-1",
                                "vaultRole": GLOO_ROLE_NAME,
                            },
                            "pathPrefix": "dev",
                            "rootKey": "gloo",
                        }
                    },
                    {"kubernetes": {}},
                ]
            }
        },
        "gloo": gloo,
        "discovery": with_discovery if discovery else {"enabled": False},
    }


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program()


@pytest.fixture(scope="module")
def enterprise() -> ProgramRun:
    return run_program(
        {**dev_config(), "glooEdition": "enterprise"},
        secrets={"vaultToken": "hvs.test", "glooLicenseKey": LICENSE},
    )


def test_release_is_the_guides_helm_install(run: ProgramRun) -> None:
    release = run.one(HELM_RELEASE, "gloo")
    assert release.inputs["name"] == "gloo"
    assert release.inputs["chart"] == "gloo"
    assert release.inputs["repositoryOpts"] == {"repo": "https://storage.googleapis.com/solo-public-helm"}
    assert release.inputs["version"] == "1.22.1"
    assert release.inputs["namespace"] == "gloo-system"
    assert release.inputs["createNamespace"] is True
    assert run.by_urn(release.parent).type == "gloo-vault-irsa:gloo:GlooRelease"
    assert release.provider.rsplit("::", 1)[0] == run.one("pulumi:providers:kubernetes").urn


def test_values_are_the_guides_overrides(run: ProgramRun) -> None:
    assert run.one(HELM_RELEASE, "gloo").inputs["values"] == guide_values()


def test_vault_role_is_the_vault_roles_name_and_annotations_the_gloo_role(run: ProgramRun) -> None:
    values = run.one(HELM_RELEASE, "gloo").inputs["values"]
    vault_role = run.one(VAULT_AWS_ROLE).inputs["role"]
    assert values["settings"]["secretOptions"]["sources"][0]["vault"]["aws"]["vaultRole"] == vault_role
    role_arn = run.outputs["glooRoleArn"]
    assert values["gloo"]["serviceAccount"]["extraAnnotations"]["eks.amazonaws.com/role-arn"] == role_arn


def test_release_waits_for_the_vault_role(run: ProgramRun) -> None:
    release = run.one(HELM_RELEASE, "gloo")
    assert run.one(VAULT_AWS_ROLE).urn in release.property_dependencies["values"]
    assert run.one("aws:iam/role:Role", "gloo").urn in release.property_dependencies["values"]


def test_release_does_not_wait_needlessly(run: ProgramRun) -> None:
    """The Vault role already waits for Vault and its grant; direct edges would only add waits."""
    release = run.one(HELM_RELEASE, "gloo")
    for needless in (
        run.one(HELM_RELEASE, "vault"),
        run.one("aws:iam/rolePolicy:RolePolicy"),
        run.one("aws:iam/role:Role", "vault-identity"),
        run.one("pulumi:providers:vault"),
    ):
        assert not run.depends_on(release, needless), needless.type


def test_config_flows_into_the_release() -> None:
    run = run_program(
        {
            **dev_config(),
            "glooNamespace": "edge-system",
            "glooReleaseName": "edge",
            "glooChartVersion": "1.17.3",
            "vaultTopology": "external",
            "vaultAddress": "https://vault.example.com:8200",
            "vaultAwsPrincipalArn": "arn:aws:iam::123456789012:role/vault-server",
        }
    )
    release = run.one(HELM_RELEASE, "gloo")
    assert release.inputs["name"] == "edge"
    assert release.inputs["namespace"] == "edge-system"
    assert release.inputs["version"] == "1.17.3"
    assert release.inputs["values"] == guide_values(address="https://vault.example.com:8200", discovery=True)
    assert run.outputs["glooReleaseName"] == "edge"
    assert run.outputs["glooNamespace"] == "edge-system"
    assert run.outputs["glooChartVersion"] == "1.17.3"


def test_enterprise_release_is_gloo_ee_with_the_settings_nested_under_gloo(enterprise: ProgramRun) -> None:
    release = enterprise.one(HELM_RELEASE, "gloo")
    assert release.inputs["chart"] == "gloo-ee"
    assert release.inputs["repositoryOpts"] == {"repo": "https://storage.googleapis.com/gloo-ee-helm"}
    assert release.inputs["values"] == {"gloo": guide_values(), "license_key": LICENSE}
    assert release.secret("values")  # the license key is in them
    assert enterprise.outputs["glooChart"] == "gloo-ee"


def test_oss_release_has_no_license(run: ProgramRun) -> None:
    assert "license_key" not in repr(run.one(HELM_RELEASE, "gloo").inputs["values"])


ROLE_ARN = "eks.amazonaws.com/role-arn"
ROLL_ON = "gloo-vault-irsa/irsa-role-arn"


def test_gloo_pods_roll_when_the_role_changes(run: ProgramRun) -> None:
    values = gloo_values(run)
    assert values["gloo"]["deployment"]["extraGlooAnnotations"] == {ROLL_ON: run.outputs["glooRoleArn"]}


def test_discovery_pods_roll_too_when_discovery_has_the_role() -> None:
    run = run_program({**dev_config(), "glooChartVersion": "1.19.20"})
    values = gloo_values(run)
    assert values["discovery"]["enabled"] is True
    assert values["discovery"]["deployment"]["extraDiscoveryAnnotations"] == {ROLL_ON: run.outputs["glooRoleArn"]}
    assert values["discovery"]["serviceAccount"]["extraAnnotations"][ROLE_ARN] == run.outputs["glooRoleArn"]


def test_from_1_20_only_the_gloo_service_account_exists_and_is_trusted(run: ProgramRun) -> None:
    assert trust_subjects(run) == ["system:serviceaccount:gloo-system:gloo"]
    values = gloo_values(run)
    assert values["discovery"] == {"enabled": False}


@pytest.mark.parametrize("version", ["1.15.19", "1.18.41", "1.19.20"])
def test_before_1_20_discovery_exists_and_is_trusted(version: str) -> None:
    run = run_program({**dev_config(), "glooChartVersion": version})
    assert trust_subjects(run) == [
        "system:serviceaccount:gloo-system:discovery",
        "system:serviceaccount:gloo-system:gloo",
    ]
    assert gloo_values(run)["discovery"]["enabled"] is True


def test_discovery_can_be_turned_on_from_1_20_and_is_then_trusted() -> None:
    run = run_program({**dev_config(), "glooServiceAccounts": ["gloo", "discovery"]})
    assert gloo_values(run)["discovery"]["enabled"] is True
    assert "system:serviceaccount:gloo-system:discovery" in trust_subjects(run)

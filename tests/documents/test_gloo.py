"""components/documents/gloo.py: Gloo's Helm values against the guide's overrides (with this project's
hardening), OSS and enterprise."""

from __future__ import annotations

from typing import Any

import pytest

from components.documents.gloo import gloo_helm_values, gloo_vault_source

ROLE_ARN = "arn:aws:iam::123456789012:role/gloo-role"
REGIONAL = "eks.amazonaws.com/sts-regional-endpoints"


# The guide's Gloo Edge step 1 overrides, with its variables filled in as in the guide
# (VAULT_ADDRESS, IAM_SERVER_ID_HEADER_VALUE, AWS_REGION, VAULT_AUTH_ROLE_ARN) plus the two
# keys the guide leaves implicit: vaultRole (the Vault role's name) and rootKey ("gloo").
GUIDE_OVERRIDES: dict[str, Any] = {
    "settings": {
        "secretOptions": {
            "sources": [
                {
                    "vault": {
                        "address": "http://vault-internal.vault:8200",
                        "aws": {
                            "iamServerIdHeader": "vault.gloo.example.com",
                            "mountPath": "aws",
                            "region": "us-east-1",
                            "vaultRole": "dev-role-iam-gloo-ee-vault-integration",
                        },
                        "pathPrefix": "dev",
                        "rootKey": "gloo",
                    }
                },
                {"kubernetes": {}},
            ]
        }
    },
    # The guide annotates both of its chart's service accounts (Gloo 1.15: discovery on by default);
    # each also signs for its region's STS, and its pods roll when the role changes.
    "gloo": {
        "serviceAccount": {"extraAnnotations": {"eks.amazonaws.com/role-arn": ROLE_ARN, REGIONAL: "true"}},
        "deployment": {"extraGlooAnnotations": {"gloo-vault-irsa/irsa-role-arn": ROLE_ARN}},
    },
    "discovery": {
        "enabled": True,
        "serviceAccount": {"extraAnnotations": {"eks.amazonaws.com/role-arn": ROLE_ARN, REGIONAL: "true"}},
        "deployment": {"extraDiscoveryAnnotations": {"gloo-vault-irsa/irsa-role-arn": ROLE_ARN}},
    },
}


GUIDE_VAULT_ARGS: dict[str, Any] = {
    "vault_address": "http://vault-internal.vault:8200",
    "iam_server_id_header": "vault.gloo.example.com",
    "auth_mount_path": "aws",
    "region": "us-east-1",
    "vault_role": "dev-role-iam-gloo-ee-vault-integration",
    "kv_path": "dev",
    "root_key": "gloo",
}


GUIDE_VAULT = gloo_vault_source(**GUIDE_VAULT_ARGS)


GUIDE_ARGS: dict[str, Any] = {"vault": GUIDE_VAULT, "role_arn": ROLE_ARN, "service_accounts": ["gloo", "discovery"]}


def test_gloo_values_are_the_guides_overrides() -> None:
    assert gloo_helm_values(enterprise=False, **GUIDE_ARGS) == GUIDE_OVERRIDES


def test_gloo_values_carry_every_argument_where_gloo_reads_it() -> None:
    vault = gloo_vault_source(
        vault_address="https://vault.example.com:8200",
        iam_server_id_header="vault.edge.example.org",
        auth_mount_path="aws-eks",
        region="eu-west-1",
        vault_role="edge-role",
        kv_path="secret",
        root_key="edge",
    )
    values = gloo_helm_values(
        enterprise=False, vault=vault, role_arn="arn:aws:iam::210987654321:role/edge", service_accounts=["gloo"]
    )
    [vault_source, kubernetes_source] = values["settings"]["secretOptions"]["sources"]
    assert vault_source == {
        "vault": {
            "address": "https://vault.example.com:8200",
            "aws": {
                "iamServerIdHeader": "vault.edge.example.org",
                "mountPath": "aws-eks",
                "region": "eu-west-1",
                "vaultRole": "edge-role",
            },
            "pathPrefix": "secret",
            "rootKey": "edge",
        }
    }
    assert kubernetes_source == {"kubernetes": {}}
    assert values["gloo"]["serviceAccount"] == {
        "extraAnnotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::210987654321:role/edge", REGIONAL: "true"}
    }
    assert values["discovery"] == {"enabled": False}  # only the service accounts given get the role


def test_enterprise_nests_the_same_values_under_gloo_and_adds_the_license() -> None:
    # The guide's note: "If you use Gloo Edge Enterprise, nest these Helm settings within the gloo section."
    values = gloo_helm_values(enterprise=True, license_key="LICENSE", **GUIDE_ARGS)
    assert values == {"gloo": GUIDE_OVERRIDES, "license_key": "LICENSE"}


@pytest.mark.parametrize("license_key", [None, ""])
def test_enterprise_without_a_license_is_refused(license_key: str | None) -> None:
    with pytest.raises(ValueError, match="license"):
        gloo_helm_values(enterprise=True, license_key=license_key, **GUIDE_ARGS)

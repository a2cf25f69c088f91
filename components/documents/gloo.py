"""Pure builders for the Gloo layer: the chart's Helm values and the Vault secret source Gloo reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.documents.iam import irsa_annotations

# On Gloo's pod templates: IRSA credentials are injected when a pod is created, so a new role
# must roll the pods.
ROLL_ON_ROLE_ANNOTATION = "gloo-vault-irsa/irsa-role-arn"
# The Gloo chart's service account of the `gloo` deployment, which reads the secrets.
GLOO_SERVICE_ACCOUNT = "gloo"


def gloo_helm_values(
    *,
    enterprise: bool,
    vault: Mapping[str, Any],
    role_arn: str,
    service_accounts: Sequence[str],
    license_key: str | None = None,
) -> dict[str, Any]:
    """The guide's Helm overrides, with `vaultRole` and `rootKey` made explicit in `vault`
    (`gloo_vault_source`).

    The role goes to exactly `service_accounts` (`gloo`, and `discovery`, which is enabled
    exactly then), whose pods roll when it changes. Enterprise nests the same settings under
    `gloo` (the guide's note) and adds the license.
    """
    values: dict[str, Any] = {
        "settings": {"secretOptions": {"sources": [{"vault": dict(vault)}, {"kubernetes": {}}]}},
        "gloo": _with_role("extraGlooAnnotations", role_arn),
        "discovery": {"enabled": "discovery" in service_accounts},
    }
    if "discovery" in service_accounts:
        values["discovery"].update(_with_role("extraDiscoveryAnnotations", role_arn))
    if not enterprise:
        return values
    if not license_key:
        raise ValueError("Gloo Edge Enterprise needs a license key")
    return {"gloo": values, "license_key": license_key}


def gloo_vault_source(
    *,
    vault_address: str,
    iam_server_id_header: str,
    auth_mount_path: str,
    region: str,
    vault_role: str,
    kv_path: str,
    root_key: str,
    vault_ca_cert_path: str | None = None,
) -> dict[str, Any]:
    """Gloo's `settings.secretOptions.sources[].vault`: what Gloo logs in and reads with.
    `vault_ca_cert_path` is a file in Gloo's pod (Gloo's `tlsConfig.caCert` is a path, read by
    vault/api's `ConfigureTLS`)."""
    vault: dict[str, Any] = {
        "address": vault_address,
        "aws": {
            "iamServerIdHeader": iam_server_id_header,
            "mountPath": auth_mount_path,
            "region": region,
            "vaultRole": vault_role,
        },
        "pathPrefix": kv_path,
        "rootKey": root_key,
    }
    if vault_ca_cert_path:
        vault["tlsConfig"] = {"caCert": vault_ca_cert_path}
    return vault


def _with_role(pod_annotations_key: str, role_arn: str) -> dict[str, Any]:
    return {
        "serviceAccount": {"extraAnnotations": irsa_annotations(role_arn)},
        "deployment": {pod_annotations_key: {ROLL_ON_ROLE_ANNOTATION: role_arn}},
    }


GLOO_OSS_CHART = ("gloo", "https://storage.googleapis.com/solo-public-helm")
GLOO_EE_CHART = ("gloo-ee", "https://storage.googleapis.com/gloo-ee-helm")

"""Verify layer: a Job in Gloo's namespace that logs in to Vault as Gloo does, from inside the cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.documents.gloo import GLOO_SERVICE_ACCOUNT
from components.documents.vault import VAULT_IMAGE
from components.documents.verification import login_check_job_spec, login_check_result
from components.settings import Settings


@dataclass
class GlooVaultLoginCheckArgs:
    namespace: pulumi.Input[str]
    """Gloo's namespace (the Gloo release's output): the Job runs beside Gloo."""
    vault_source: pulumi.Input[Mapping[str, Any]]
    """Gloo's Vault settings as deployed (`GlooRelease.vault_source`): the Job waits for the release."""
    rerun_on: pulumi.Input[Any]
    """Anything whose change must run the check again (the Gloo role's unique ID, the release revision)."""
    service_account: str = GLOO_SERVICE_ACCOUNT
    """Gloo's service account: the pod gets Gloo's IRSA role and STS mode from its annotations."""
    image: str = VAULT_IMAGE
    """The Vault image whose CLI logs in (the dev Vault's own image, pinned once)."""
    vault_ca_pem: str | None = None
    """Vault's CA (config `vaultCaCert`): the check verifies Vault with it, as Gloo does with its CA file."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        namespace: pulumi.Input[str],
        vault_source: pulumi.Input[Mapping[str, Any]],
        rerun_on: pulumi.Input[Any],
    ) -> GlooVaultLoginCheckArgs:
        """Gloo verifies Vault with its own CA file, which the check cannot read: the check verifies
        with the same CA given as `vaultCaCert`."""
        ca = settings.vault.ca_cert if settings.gloo.vault_ca_cert_path else None
        return cls(namespace=namespace, vault_source=vault_source, rerun_on=rerun_on, vault_ca_pem=ca)


class GlooVaultLoginCheck(pulumi.ComponentResource):
    """`vault login -method=aws` then `vault list <kv>/metadata/<rootKey>/`, as Gloo's pod would.

    pulumi-kubernetes waits for a Job to complete, so `pulumi up` fails, with the container's
    one-line reason, when the chain from Gloo's service account to its secrets is broken. The
    Job is auto-named and its spec immutable: any change to what Gloo logs in with replaces it
    (a new Job runs), and so does `rerun_on`.
    """

    job: k8s.batch.v1.Job
    result: pulumi.Output[dict[str, Any]]
    """The `loginCheck` stack output: the Job, its status and how to read its line."""

    def __init__(self, name: str, args: GlooVaultLoginCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gloo-vault-irsa:gloo:GlooVaultLoginCheck", name, None, opts)
        spec: pulumi.Output[Any] = pulumi.Output.from_input(args.vault_source).apply(
            lambda source: login_check_job_spec(
                source, service_account=args.service_account, image=args.image, ca_pem=args.vault_ca_pem
            )
        )
        self.job = k8s.batch.v1.Job(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                namespace=args.namespace,
                labels={"app.kubernetes.io/name": "gloo-vault-login-check", "app.kubernetes.io/part-of": "gloo"},
            ),
            spec=spec,  # Kubernetes' own field names, built by documents.py
            opts=pulumi.ResourceOptions(parent=self, replacement_trigger=args.rerun_on),
        )
        self.result = pulumi.Output.all(
            name=self.job.metadata.name, namespace=self.job.metadata.namespace, status=self.job.status
        ).apply(lambda a: login_check_result(**a))
        self.register_outputs({"result": self.result})

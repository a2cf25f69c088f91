"""Gloo's pod: the Go client that logs in with Gloo's own libraries, run as EKS runs Gloo.

`tests/engines/gloologin` (built by scripts/build-tools.sh into .cache/tools/gloologin) is
Gloo's Vault login and secret reads with the module versions Gloo's go.mod pins; see its
main.go for what it does as Gloo does. It reads the Gloo release's values as the program
declares them. What EKS adds to the pod comes from here: the environment the EKS pod identity
webhook derives from the service account's annotations (`webhook_env`) and the projected
service account token.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.engines.gloo_client import IRSA_ANNOTATION, web_identity_token
from tests.engines.servers import GLOOLOGIN, clean_env

REGIONAL_STS_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"  # where EKS projects it


def gloo_values(release_values: Mapping[str, Any]) -> dict[str, Any]:
    """Gloo's own values within the release's: Enterprise nests them under `gloo`."""
    values = dict(release_values)
    nested: dict[str, Any] = values if "settings" in values else values["gloo"]
    return nested


def _vault_source(release_values: Mapping[str, Any]) -> dict[str, Any]:
    [vault] = [s["vault"] for s in gloo_values(release_values)["settings"]["secretOptions"]["sources"] if "vault" in s]
    source: dict[str, Any] = vault
    return source


def service_account_annotations(release_values: Mapping[str, Any], service_account: str = "gloo") -> dict[str, str]:
    """The annotations the Gloo chart puts on a service account (`<sa>.serviceAccount.extraAnnotations`)."""
    account: dict[str, Any] = gloo_values(release_values)[service_account]["serviceAccount"]
    return dict(account.get("extraAnnotations", {}))


def webhook_env(annotations: Mapping[str, str], *, region: str, token_file: str = TOKEN_FILE) -> dict[str, str]:
    """What the EKS pod identity webhook adds to a pod of a service account with `annotations`.

    Only a service account with `eks.amazonaws.com/role-arn` is mutated: AWS_ROLE_ARN, the
    projected token's path, the cluster's region (EKS runs the webhook with
    `--aws-default-region`), and AWS_STS_REGIONAL_ENDPOINTS=regional when
    `eks.amazonaws.com/sts-regional-endpoints` is "true" (left out otherwise: the SDK default).
    """
    role_arn = annotations.get(IRSA_ANNOTATION)
    if not role_arn:
        return {}
    env = {
        "AWS_ROLE_ARN": role_arn,
        "AWS_WEB_IDENTITY_TOKEN_FILE": token_file,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if annotations.get(REGIONAL_STS_ANNOTATION) == "true":
        env["AWS_STS_REGIONAL_ENDPOINTS"] = "regional"
    return env


def pod_identity(
    workdir: Path, *, issuer_url: str, namespace: str, service_account: str, annotations: Mapping[str, str], region: str
) -> dict[str, str]:
    """What EKS gives a pod of `service_account`: the projected token (written in `workdir`) and
    the webhook's environment from the account's `annotations`."""
    token_file = workdir / "token"
    token_file.write_text(web_identity_token(issuer_url, f"system:serviceaccount:{namespace}:{service_account}"))
    return webhook_env(annotations, region=region, token_file=str(token_file))


@dataclass(frozen=True)
class GlooRun:
    """What the Go client printed: its transcript (see main.go) and exit code."""

    exit_code: int
    transcript: dict[str, Any]
    stderr: str

    @property
    def error(self) -> str:
        error: str = self.transcript.get("error", "")
        return error

    @property
    def status(self) -> int:
        status: int = self.transcript.get("status", 0)
        return status

    @property
    def logins(self) -> list[dict[str, Any]]:
        logins: list[dict[str, Any]] = self.transcript["logins"]
        return logins

    @property
    def reads(self) -> list[dict[str, Any]]:
        reads: list[dict[str, Any]] = self.transcript["reads"]
        return reads

    @property
    def token(self) -> str:
        """The token of the last login."""
        token: str = self.logins[-1]["client_token"]
        return token

    def ok(self) -> GlooRun:
        """This run, after checking it logged in and read without an error."""
        if self.exit_code != 0 or self.error:
            raise AssertionError(f"gloologin failed ({self.exit_code}): {self.error or self.stderr}")
        return self

    def refused(self) -> GlooRun:
        """This run, after checking it failed with one line on stderr."""
        assert self.exit_code == 1 and self.error, self.transcript
        assert self.stderr.strip().splitlines()[-1] == f"gloologin: {self.error}"
        return self


@dataclass(frozen=True)
class GlooPod:
    """Gloo's pod in a stack's cluster: the release values (Gloo's Settings), the service account it
    runs as and that account's annotations, the cluster's region and OIDC issuer."""

    values: dict[str, Any]
    namespace: str
    region: str
    issuer_url: str
    service_account: str
    annotations: dict[str, str]

    @classmethod
    def of_release(cls, values: Mapping[str, Any], namespace: str, region: str, issuer_url: str) -> GlooPod:
        """The gloo deployment's pod, as the release declares it."""
        return cls(dict(values), namespace, region, issuer_url, "gloo", service_account_annotations(values, "gloo"))

    @property
    def vault_source(self) -> dict[str, Any]:
        """Gloo's Vault secret source in the values (`settings.secretOptions.sources[].vault`)."""
        return _vault_source(self.values)

    def with_vault_settings(self, **aws: str) -> GlooPod:
        """Gloo with other `settings.secretOptions.sources[].vault.aws` values (one side changed)."""
        values = copy.deepcopy(self.values)
        _vault_source(values)["aws"].update(aws)
        return replace(self, values=values)

    def with_annotations(self, **changes: str | None) -> GlooPod:
        """The service account with other annotations (None removes one)."""
        annotations = {k: v for k, v in {**self.annotations, **changes}.items() if v is not None}
        return replace(self, annotations=annotations)

    def as_service_account(self, name: str, annotations: Mapping[str, str]) -> GlooPod:
        """The same Gloo, run as another service account."""
        return replace(self, service_account=name, annotations=dict(annotations))

    def run(
        self,
        *,
        vault_address: str,
        sts_endpoint: str,
        stay: float = 0,
        read_every: float = 5,
        login_attempts: int = 1,
    ) -> GlooRun:
        """Runs the client as this pod: webhook environment, projected token, the release values.

        `login_attempts` is 1 by default: a refused login is refused again on each of Gloo's 3
        tries (1s, then 2s apart), which would only slow the tests down.
        """
        with tempfile.TemporaryDirectory(prefix="gloo-pod-") as tmp:
            values_file = Path(tmp) / "values.json"
            values_file.write_text(json.dumps(self.values))
            identity = pod_identity(
                Path(tmp),
                issuer_url=self.issuer_url,
                namespace=self.namespace,
                service_account=self.service_account,
                annotations=self.annotations,
                region=self.region,
            )
            env = {**clean_env(), **identity}
            argv = [
                str(GLOOLOGIN),
                f"-values={values_file}",
                f"-namespace={self.namespace}",
                f"-vault-address={vault_address}",
                f"-sts-endpoint={sts_endpoint}",
                f"-stay={stay}s",
                f"-read-every={read_every}s",
                f"-login-attempts={login_attempts}",
            ]
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=stay + 120, check=False)
        try:
            transcript: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"gloologin printed no transcript ({done.returncode}): {done.stderr}") from None
        return GlooRun(done.returncode, transcript, done.stderr)

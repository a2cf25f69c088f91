"""Pure builders for the login check: the script, container and Job that log in to Vault as
Gloo does, and how its result reads.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from components.documents.gloo import GLOO_SERVICE_ACCOUNT
from components.documents.vault import VAULT_IMAGE, VAULT_IMAGE_GROUP, VAULT_IMAGE_USER, gloo_secret_paths

# The first words of every line the login check prints, passed or failed.
LOGIN_CHECK = "gloo-vault-irsa login check"
# Where the check's container writes its one line, which Kubernetes keeps as its termination message.
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Where the check writes Vault's CA (`vaultCaCert`, given as VAULT_CA_PEM) for the Vault CLI's
# VAULT_CACERT: an in-memory volume, as the root filesystem is read-only.
LOGIN_CHECK_CA_DIR = "/var/run/gloo-vault-irsa"


def login_check_script(*, role: str, region: str, header_value: str, mount: str, list_path: str) -> str:
    """The login check, for a POSIX shell in the Vault image: Gloo's login (`vault login
    -method=aws`, Vault's own aws CLI handler, which signs as Gloo's library does), then Gloo's
    list of its metadata path with the token it got. The values are shell-quoted once, at the top.

    One line on stdout when it passes; when it fails, one line on stderr and exit 1. Either way
    the line is also the container's termination message (`$TERMINATION_LOG`), which `pulumi up`
    shows when the Job fails. A 404 on the list (nothing stored yet) passes: the chain works; a
    403 (the policy does not grant the list) fails.
    """
    values = {"role": role, "region": region, "header": header_value, "mount": mount, "path": list_path}
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())
    return f"""set -u
{assignments}
as="role $role at auth/$mount (region $region, header $header)"
say() {{ printf '%s\\n' "{LOGIN_CHECK} $1: $2" >&"$3"; printf '%s' "{LOGIN_CHECK} $1: $2" >"$TERMINATION_LOG"; }}
fail() {{ say failed "$1" 2; exit 1; }}
if [ -n "${{VAULT_CA_PEM:-}}" ]; then
  {{ printf '%s\n' "$VAULT_CA_PEM" >"$VAULT_CACERT"; }} 2>/dev/null || fail "cannot write Vault's CA to $VAULT_CACERT"
fi
one_line() {{ printf '%s\\n' "$1" | awk '
  /^Code: [0-9]+/ {{ code = $2; sub(/[.]$/, "", code) }}
  /^[ \\t]*[*] / {{ e = $0; sub(/^[ \\t]*[*] /, "", e)
    if (e !~ /^[0-9]+ errors? occurred:$/) errs = errs (errs ? "; " : "") e }}
  NF && first == "" {{ first = $0 }}
  END {{ if (errs) print (code ? "HTTP " code ": " : "") errs; else print first }}'; }}
out=$(vault login -token-only -method=aws role="$role" region="$region" header_value="$header" mount="$mount" 2>&1) ||
  fail "Vault refused the login of $as: $(one_line "$out")"
token=$(printf '%s\\n' "$out" | tail -n 1)
if listed=$(VAULT_TOKEN=$token vault list "$path" 2>&1); then
  say passed "logged in with $as; listed $(printf '%s\\n' "$listed" | sed 1,2d | grep -c .) entries at $path" 1
else
  case $listed in
  "No value found at"*) say passed "logged in with $as; nothing stored at $path yet (list allowed)" 1 ;;
  *) fail "logged in with $as but cannot list $path: $(one_line "$listed")" ;;
  esac
fi
"""


def login_check_container(
    vault_source: Mapping[str, Any], image: str = VAULT_IMAGE, ca_pem: str | None = None
) -> dict[str, Any]:
    """The check's container (Kubernetes' own field names): the Vault image's CLI, given exactly
    Gloo's Vault settings (`gloo_vault_source`), as the image's unprivileged `vault` user; with
    `ca_pem` (Vault's CA, `vaultCaCert`) it verifies Vault with that CA, as Gloo does with its file."""
    aws = vault_source["aws"]
    _, metadata = gloo_secret_paths(vault_source["pathPrefix"], vault_source["rootKey"])
    script = login_check_script(
        role=aws["vaultRole"],
        region=aws["region"],
        header_value=aws["iamServerIdHeader"],
        mount=aws["mountPath"],
        list_path=f"{metadata}/",
    )
    env = [
        {"name": "VAULT_ADDR", "value": vault_source["address"]},
        {"name": "TERMINATION_LOG", "value": TERMINATION_MESSAGE_PATH},
    ]
    if ca_pem:
        env += [
            {"name": "VAULT_CA_PEM", "value": ca_pem},
            {"name": "VAULT_CACERT", "value": f"{LOGIN_CHECK_CA_DIR}/vault-ca.pem"},
        ]
    return {
        "name": "login-check",
        "image": image,
        "command": ["/bin/sh", "-c", script],
        "env": env,
        **({"volumeMounts": [{"name": "vault-ca", "mountPath": LOGIN_CHECK_CA_DIR}]} if ca_pem else {}),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "terminationMessagePath": TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def login_check_job_spec(
    vault_source: Mapping[str, Any],
    *,
    service_account: str = GLOO_SERVICE_ACCOUNT,
    image: str = VAULT_IMAGE,
    ca_pem: str | None = None,
) -> dict[str, Any]:
    """The Job's spec: one pod as Gloo's service account (so with Gloo's IRSA role and STS mode),
    one retry, at most 3 minutes, gone 10 minutes after it finished."""
    volumes = [{"name": "vault-ca", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}] if ca_pem else []
    return {
        "backoffLimit": 1,
        "activeDeadlineSeconds": 180,
        "ttlSecondsAfterFinished": 600,
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "gloo-vault-login-check"}},
            "spec": {
                "serviceAccountName": service_account,
                "restartPolicy": "Never",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": VAULT_IMAGE_USER,
                    "runAsGroup": VAULT_IMAGE_GROUP,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [login_check_container(vault_source, image, ca_pem)],
                **({"volumes": volumes} if volumes else {}),
            },
        },
    }


def login_check_result(*, name: str | None, namespace: str | None, status: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `loginCheck` stack output: the Job, whether it passed, and where its one line is."""
    conditions = {c.get("type"): c.get("status") for c in (status or {}).get("conditions") or []}
    result = (
        "passed"
        if conditions.get("Complete") == "True"
        else "failed"
        if conditions.get("Failed") == "True"
        else "running"
    )
    return {
        "job": f"{namespace}/{name}",
        "status": result,
        "logs": f"kubectl -n {namespace} logs job/{name}",
    }

"""Pure builders for every document the program deploys: IAM policies, Vault policy HCL, Helm
values, kubeconfig. No Pulumi here, so each one is tested on plain values; the components
call them inside `Output.apply` with resolved outputs.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

IAM_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# The EKS pod identity webhook turns this into AWS_STS_REGIONAL_ENDPOINTS=regional, so the pod's
# STS calls (aws-sdk-go v1.34.9 in Gloo) go to its region's endpoint, not the global one, whatever
# the cluster's default. Gloo's login stays signed for its configured `region` either way.
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
# On Gloo's pod templates: IRSA credentials are injected when a pod is created, so a new role
# must roll the pods.
ROLL_ON_ROLE_ANNOTATION = "gloo-vault-irsa/irsa-role-arn"

VAULT_PORT = 8200
# How long a Helm release may take to install, upgrade or uninstall (the Pulumi Kubernetes
# provider's default, set explicitly: the Vault provider's token is sized by it).
HELM_TIMEOUT_SECONDS = 300
# The tags the program puts on resources of its own: the cluster a role or OIDC provider serves,
# and the service accounts (`<namespace>/<name> ...`) an IRSA role trusts.
CLUSTER_TAG = "eks-cluster"
SERVICE_ACCOUNTS_TAG = "irsa-service-accounts"
PROGRAM_TAG_KEYS = (CLUSTER_TAG, SERVICE_ACCOUNTS_TAG)
VAULT_RELEASE = "vault"  # fixes the Vault chart's service names: `vault` and `vault-internal`
# The one pin of the Vault image: the dev Vault's server and the login check's CLI run it, and the
# CLI the engine tests prove the check's command with (tests/engines/vaultcli) and the aws auth
# plugin they prove the logins against (tests/engines/awsauthplugin) are built from the same Vault
# version. 1.21.4: the newest release the Go module proxy serves (Vault 2.x is refused by it, so
# the tests could not prove it), and fixed for CVE-2025-11621 (components/vault_versions.py).
# (The chart 0.32.0's own default is 1.21.2.)
VAULT_IMAGE_REPOSITORY = "hashicorp/vault"
VAULT_IMAGE_TAG = "1.21.4"
VAULT_IMAGE = f"{VAULT_IMAGE_REPOSITORY}:{VAULT_IMAGE_TAG}"
# The Gloo chart's service account of the `gloo` deployment, which reads the secrets.
GLOO_SERVICE_ACCOUNT = "gloo"
# The first words of every line the login check prints, passed or failed.
LOGIN_CHECK = "gloo-vault-irsa login check"
# Where the check's container writes its one line, which Kubernetes keeps as its termination message.
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Where the check writes Vault's CA (`vaultCaCert`, given as VAULT_CA_PEM) for the Vault CLI's
# VAULT_CACERT: an in-memory volume, as the root filesystem is read-only.
LOGIN_CHECK_CA_DIR = "/var/run/gloo-vault-irsa"
# The container's uid/gid: the image's `vault` user, as the Vault chart runs it.
VAULT_IMAGE_USER, VAULT_IMAGE_GROUP = 100, 1000


def issuer_host(issuer_url: str) -> str:
    """`https://oidc.eks.../id/X` → `oidc.eks.../id/X`: the form IAM condition keys use."""
    for scheme in ("https://", "http://"):
        if issuer_url.startswith(scheme):
            return issuer_url[len(scheme) :].rstrip("/")
    return issuer_url.rstrip("/")


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, subjects: Sequence[str]) -> dict[str, Any]:
    """Trust for `AssumeRoleWithWebIdentity` from one OIDC provider and exactly these subjects.

    `StringEquals` on both keys (the guide's `StringEqualsIfExists` would let a token without
    a `sub` or `aud` claim through).
    """
    if not subjects:
        raise ValueError("an IRSA role needs at least one service account subject")
    host = issuer_host(issuer)
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "IrsaWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:aud": STS_AUDIENCE,
                        f"{host}:sub": sorted(subjects),
                    }
                },
            }
        ],
    }


def assume_role_trust_policy(principal_arn: str) -> dict[str, Any]:
    """Trust for `sts:AssumeRole` by one named principal (an external Vault in another account)."""
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "VaultAssumesToResolveRoles",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def get_role_policy(bound_role_arns: Sequence[str]) -> dict[str, Any]:
    """What Vault's aws auth needs to resolve a bound role ARN to its unique ID, and no more.

    Without it, writing the Vault role fails as in the guide's Troubleshooting section; with
    `Resource: "*"` Vault could read every role in the account.
    """
    if not bound_role_arns:
        raise ValueError("the GetRole policy needs at least one bound role ARN")
    return {
        "Version": IAM_VERSION,
        "Statement": [
            {
                "Sid": "ResolveBoundRoles",
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": sorted(bound_role_arns),
            }
        ],
    }


def gloo_secret_paths(kv_path: str, root_key: str) -> tuple[str, str]:
    """(data prefix, metadata prefix) of the secrets Gloo reads and lists."""
    return f"{kv_path}/data/{root_key}", f"{kv_path}/metadata/{root_key}"


def vault_policy_hcl(kv_path: str, root_key: str, mode: str) -> str:
    """The policy Gloo's token gets.

    `least-privilege`: read data and list metadata below the root key, which is all Gloo's
    Vault secret client does. `guide`: the guide's policy, CRUDL on the whole mount plus
    `sys/mounts`, for writing secrets with Gloo's token and for the UI.
    """
    if mode == "least-privilege":
        data, metadata = gloo_secret_paths(kv_path, root_key)
        return (
            f"# Gloo reads its secrets below the root key '{root_key}' of kv-v2 mount '{kv_path}'.\n"
            f'path "{data}/*" {{\n  capabilities = ["read"]\n}}\n\n'
            f"# ...and lists them, to watch for changes.\n"
            f'path "{metadata}/*" {{\n  capabilities = ["list"]\n}}\n'
        )
    if mode == "guide":
        return (
            f"# The guide's policy: full access to the '{kv_path}' mount.\n"
            f'path "{kv_path}/*" {{\n  capabilities = ["create", "read", "update", "delete", "list"]\n}}\n\n'
            f"# Additional access for the UI.\n"
            f'path "{kv_path}/" {{\n  capabilities = ["list"]\n}}\n\n'
            f'path "sys/mounts" {{\n  capabilities = ["read", "list"]\n}}\n'
        )
    raise ValueError(f"unknown policy mode {mode!r}")


def irsa_annotations(role_arn: str) -> dict[str, str]:
    """What a service account needs to assume `role_arn`, signing for its own region's STS."""
    return {IRSA_ANNOTATION: role_arn, STS_REGIONAL_ANNOTATION: "true"}


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


def vault_dev_helm_values(*, root_token: str, service_account: str) -> dict[str, Any]:
    """The guide's `server.dev.enabled=true`, running as a service account the program creates,
    on the one pinned Vault image (`VAULT_IMAGE`, the login check's too).

    The chart drops `server.serviceAccount.annotations` in dev mode (vault-helm `_helpers.tpl`,
    `vault.serviceAccount.annotations`), so it must not create the account itself. The service
    stays ClusterIP and the UI off: a dev Vault is never exposed outside the cluster.
    """
    return {
        "injector": {"enabled": False},
        "ui": {"enabled": False},
        "server": {
            "dev": {"enabled": True, "devRootToken": root_token},
            "image": {"repository": VAULT_IMAGE_REPOSITORY, "tag": VAULT_IMAGE_TAG},
            "service": {"type": "ClusterIP"},
            "serviceAccount": {"create": False, "name": service_account},
        },
    }


def eks_kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig that authenticates with `aws eks get-token`, as `aws eks update-kubeconfig` writes."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }


def in_cluster_vault_address(namespace: str) -> str:
    """What Gloo uses to reach the in-cluster Vault: the chart's headless service, as in the guide."""
    return f"http://{VAULT_RELEASE}-internal.{namespace}:{VAULT_PORT}"


def service_proxy_url(endpoint: str, namespace: str, service: str, port: int) -> str:
    """The API server's proxy to a ClusterIP service: reachable with cluster credentials only."""
    return f"{endpoint.rstrip('/')}/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy"


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

"""The pure document builders, against the guide's documents (with this project's hardening)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.documents.cluster import eks_kubeconfig, issuer_host
from components.documents.gloo import gloo_helm_values, gloo_vault_source
from components.documents.iam import assume_role_trust_policy, get_role_policy, irsa_trust_policy
from components.documents.vault import (
    in_cluster_vault_address,
    service_proxy_url,
    vault_dev_helm_values,
    vault_policy_hcl,
)

PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
GLOO_SUBJECTS = ["system:serviceaccount:gloo-system:gloo", "system:serviceaccount:gloo-system:discovery"]


def as_list(value: Any) -> list[Any]:
    """IAM lets Action/Resource be a string or a list; compare them as lists."""
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------- HCL


_BLOCK = re.compile(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}')


def parse_policy_hcl(hcl: str) -> dict[str, set[str]]:
    """`path "p" { capabilities = [...] }` blocks → {path: capabilities}.

    Strict: anything else that is not a comment fails the parse, so an extra stanza (a
    `deny`, `allowed_parameters`, a second form of block) cannot slip past the comparison.
    """
    without_comments = "\n".join(line for line in hcl.splitlines() if not line.strip().startswith("#"))
    paths: dict[str, set[str]] = {}
    for m in _BLOCK.finditer(without_comments):
        assert m.group(1) not in paths, f"path {m.group(1)} declared twice"
        caps = [c.strip() for c in m.group(2).split(",") if c.strip()]
        assert all(re.fullmatch(r'"[a-z]+"', c) for c in caps), caps
        paths[m.group(1)] = {c.strip('"') for c in caps}
    rest = _BLOCK.sub("", without_comments)
    assert rest.strip() == "", f"unparsed policy text: {rest!r}"
    return paths


def test_hcl_parser_rejects_what_it_does_not_understand() -> None:
    with pytest.raises(AssertionError):
        parse_policy_hcl('path "a/*" {\n  capabilities = ["read"]\n  denied_parameters = {}\n}\n')
    assert parse_policy_hcl('# c\npath "a/*" { capabilities = ["read", "list"] }\n') == {"a/*": {"read", "list"}}


@pytest.mark.parametrize(
    ("kv", "root", "data", "metadata"),
    [
        ("dev", "gloo", "dev/data/gloo/*", "dev/metadata/gloo/*"),
        ("secret", "edge", "secret/data/edge/*", "secret/metadata/edge/*"),
        ("teams/edge", "gloo/prod", "teams/edge/data/gloo/prod/*", "teams/edge/metadata/gloo/prod/*"),
    ],
)
def test_least_privilege_policy_reads_data_and_lists_metadata_below_the_root_key_only(
    kv: str, root: str, data: str, metadata: str
) -> None:
    assert parse_policy_hcl(vault_policy_hcl(kv, root, "least-privilege")) == {
        data: {"read"},
        metadata: {"list"},
    }


def test_guide_policy_is_the_guides_three_paths() -> None:
    # Vault step 4 of the guide, verbatim.
    assert parse_policy_hcl(vault_policy_hcl("dev", "gloo", "guide")) == {
        "dev/*": {"create", "read", "update", "delete", "list"},
        "dev/": {"list"},
        "sys/mounts": {"read", "list"},
    }


def test_guide_policy_follows_the_kv_path() -> None:
    assert set(parse_policy_hcl(vault_policy_hcl("edge", "gloo", "guide"))) == {"edge/*", "edge/", "sys/mounts"}


def test_unknown_policy_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        vault_policy_hcl("dev", "gloo", "admin")


# ---------------------------------------------------------------------------- IAM


@pytest.mark.parametrize(
    "issuer",
    [f"https://{HOST}", HOST, f"https://{HOST}/", f"{HOST}/"],
    ids=["https", "bare", "https-trailing-slash", "bare-trailing-slash"],
)
def test_irsa_trust_policy_is_exact(issuer: str) -> None:
    doc = irsa_trust_policy(PROVIDER_ARN, issuer, GLOO_SUBJECTS)
    assert doc["Version"] == "2012-10-17"
    assert set(doc) == {"Version", "Statement"}
    [statement] = doc["Statement"]
    assert set(statement) - {"Sid"} == {"Effect", "Principal", "Action", "Condition"}
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert as_list(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity"]
    # StringEquals, not the guide's StringEqualsIfExists (a token without the claim would pass)
    # and not StringLike (wildcards).
    assert set(statement["Condition"]) == {"StringEquals"}
    condition = statement["Condition"]["StringEquals"]
    assert set(condition) == {f"{HOST}:aud", f"{HOST}:sub"}
    assert as_list(condition[f"{HOST}:aud"]) == ["sts.amazonaws.com"]
    subs = as_list(condition[f"{HOST}:sub"])
    assert sorted(subs) == sorted(GLOO_SUBJECTS)
    assert not any("*" in s or "?" in s for s in subs)


def test_irsa_trust_policy_trusts_only_the_given_subjects() -> None:
    doc = irsa_trust_policy(PROVIDER_ARN, HOST, ["system:serviceaccount:vault:vault"])
    assert as_list(doc["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"]) == [
        "system:serviceaccount:vault:vault"
    ]


def test_irsa_trust_policy_without_subjects_is_refused() -> None:
    with pytest.raises(ValueError):
        irsa_trust_policy(PROVIDER_ARN, HOST, [])


@pytest.mark.parametrize(
    ("issuer", "host"),
    [
        ("https://oidc.eks.eu-west-1.amazonaws.com/id/X", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
        ("oidc.eks.eu-west-1.amazonaws.com/id/X", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
        ("https://oidc.eks.eu-west-1.amazonaws.com/id/X/", "oidc.eks.eu-west-1.amazonaws.com/id/X"),
    ],
)
def test_issuer_host_strips_scheme_like_the_guides_sed(issuer: str, host: str) -> None:
    assert issuer_host(issuer) == host


@pytest.mark.parametrize(
    "arns",
    [
        ["arn:aws:iam::123456789012:role/gloo"],
        ["arn:aws:iam::123456789012:role/gloo", "arn:aws:iam::123456789012:role/team/edge"],
    ],
)
def test_get_role_policy_is_get_role_on_exactly_the_bound_arns(arns: list[str]) -> None:
    doc = get_role_policy(arns)
    assert doc["Version"] == "2012-10-17"
    [statement] = doc["Statement"]
    assert set(statement) - {"Sid"} == {"Effect", "Action", "Resource"}
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["iam:GetRole"]
    resources = as_list(statement["Resource"])
    assert sorted(resources) == sorted(arns)
    assert "*" not in "".join(resources)


def test_get_role_policy_without_arns_is_refused() -> None:
    # An empty Resource list would be invalid; a fallback to "*" would be worse.
    with pytest.raises(ValueError):
        get_role_policy([])


def test_assume_role_trust_policy_trusts_one_principal_for_assume_role_only() -> None:
    principal = "arn:aws:iam::210987654321:role/vault-server"
    [statement] = assume_role_trust_policy(principal)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": principal}
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]


# ---------------------------------------------------------------------------- Helm values

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


def test_vault_dev_values_are_the_guides_dev_mode_on_the_programs_service_account() -> None:
    values = vault_dev_helm_values(root_token="hvs.root", service_account="vault-sa")
    server = values["server"]
    assert server["dev"] == {"enabled": True, "devRootToken": "hvs.root"}  # --set server.dev.enabled=true
    assert server["service"]["type"] == "ClusterIP"
    # In dev mode the chart drops the account's annotations: the program creates it, annotated.
    assert server["serviceAccount"] == {"create": False, "name": "vault-sa"}
    assert values["ui"] == {"enabled": False}  # no UI service (the chart can make it a LoadBalancer)
    assert "LoadBalancer" not in repr(values) and "NodePort" not in repr(values)


# ---------------------------------------------------------------------------- kubeconfig, addresses


def test_kubeconfig_authenticates_with_aws_eks_get_token() -> None:
    config = eks_kubeconfig(cluster_name="edge", endpoint="https://api.example", ca_data="Q0E=", region="eu-west-1")
    current = config["current-context"]
    [context] = [c["context"] for c in config["contexts"] if c["name"] == current]
    [cluster] = [c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]]
    [user] = [u["user"] for u in config["users"] if u["name"] == context["user"]]
    assert cluster == {"server": "https://api.example", "certificate-authority-data": "Q0E="}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == ["eks", "get-token", "--cluster-name", "edge", "--region", "eu-west-1"]
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"


def test_in_cluster_vault_address_is_the_guides() -> None:
    assert in_cluster_vault_address("vault") == "http://vault-internal.vault:8200"
    assert in_cluster_vault_address("secrets") == "http://vault-internal.secrets:8200"


@pytest.mark.parametrize("endpoint", ["https://api.example", "https://api.example/"])
def test_service_proxy_url(endpoint: str) -> None:
    assert (
        service_proxy_url(endpoint, "vault", "vault", 8200)
        == "https://api.example/api/v1/namespaces/vault/services/http:vault:8200/proxy"
    )

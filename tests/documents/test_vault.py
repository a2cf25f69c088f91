"""components/documents/vault.py: the Vault policy HCL (parsed back), the dev Vault's Helm values and
the in-cluster addresses, against the guide's."""

from __future__ import annotations

import re

import pytest

from components.documents.vault import (
    in_cluster_vault_address,
    service_proxy_url,
    vault_dev_helm_values,
    vault_policy_hcl,
)

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


def test_vault_dev_values_are_the_guides_dev_mode_on_the_programs_service_account() -> None:
    values = vault_dev_helm_values(root_token="hvs.root", service_account="vault-sa")
    server = values["server"]
    assert server["dev"] == {"enabled": True, "devRootToken": "hvs.root"}  # --set server.dev.enabled=true
    assert server["service"]["type"] == "ClusterIP"
    # In dev mode the chart drops the account's annotations: the program creates it, annotated.
    assert server["serviceAccount"] == {"create": False, "name": "vault-sa"}
    assert values["ui"] == {"enabled": False}  # no UI service (the chart can make it a LoadBalancer)
    assert "LoadBalancer" not in repr(values) and "NodePort" not in repr(values)


def test_in_cluster_vault_address_is_the_guides() -> None:
    assert in_cluster_vault_address("vault") == "http://vault-internal.vault:8200"
    assert in_cluster_vault_address("secrets") == "http://vault-internal.secrets:8200"


@pytest.mark.parametrize("endpoint", ["https://api.example", "https://api.example/"])
def test_service_proxy_url(endpoint: str) -> None:
    assert (
        service_proxy_url(endpoint, "vault", "vault", 8200)
        == "https://api.example/api/v1/namespaces/vault/services/http:vault:8200/proxy"
    )

"""components/config/keys.py: the KEYS table: the guide's defaults, Pulumi.yaml's declarations and
the stack files held against it, one Settings field per key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import keys as config_keys
from components.config.checks import ConfigError
from components.config.keys import KEYS, TARGET_KEYS
from components.settings import SECTIONS, Settings
from tests.harness import (
    HELM_RELEASE,
    ROOT,
    TOKEN,
    ProgramRun,
    config_text,
    dev_config,
    parse,
    pulumi_yaml_config,
    run_program_failure,
)

CLUSTER = "gloo-ee-vault-integration"


def test_defaults_are_the_guides_values() -> None:
    s = parse({"clusterName": CLUSTER})
    assert s.cluster.targets[0].cluster_name == CLUSTER
    assert s.region == "us-east-1"  # AWS_REGION
    assert s.environment == "development"  # production only when asked (or by stack name, policy-pack/)
    assert s.gloo.namespace == "gloo-system"  # NAMESPACE
    # The guide's two subjects were its chart's two accounts; Gloo 1.22's chart has discovery off.
    assert s.gloo.service_accounts == ("gloo",)
    assert [sa.subject for sa in s.gloo.subjects] == ["system:serviceaccount:gloo-system:gloo"]
    assert parse({"clusterName": CLUSTER, "glooChartVersion": "1.15.19"}).gloo.service_accounts == (
        "gloo",
        "discovery",
    )
    assert s.vault.iam_server_id_header == "vault.gloo.example.com"  # IAM_SERVER_ID_HEADER_VALUE
    assert s.vault.topology == "in-cluster-dev"  # helm install vault ... server.dev.enabled=true
    assert s.vault.namespace == "vault"  # --namespace vault
    assert s.vault.address == "http://vault-internal.vault:8200"  # VAULT_ADDRESS
    assert s.vault.provider_address is None
    assert s.vault.auth_mount_path == "aws"  # vault auth enable aws
    assert s.vault.kv_path == "dev"  # vault secrets enable -path="dev" -version=2 kv
    assert s.vault.policy_name == "dev"  # vault policy write dev
    assert s.gloo.root_key == "gloo"  # "The value of root_key is gloo by default"
    assert s.vault.token_max_ttl_seconds == 24 * 3600  # max_ttl=24h
    assert s.sts_endpoint == "https://sts.us-east-1.amazonaws.com"  # sts_endpoint=https://sts.${AWS_REGION}...
    assert s.gloo.edition == "oss"  # helm install gloo gloo/gloo
    assert s.gloo.chart == ("gloo", "https://storage.googleapis.com/solo-public-helm")
    assert s.gloo.release_name == "gloo"
    assert s.gloo.chart_version == "1.22.1"  # the newest maintained line (the guide's 1.15 line has ended)
    assert s.vault.kv_retain_on_delete is True
    assert s.vault.service_account == "vault"
    assert s.vault.policy_mode == "least-privilege"
    assert s.cluster.targets[0].adopt_oidc_provider is False
    assert s.cluster.targets[0].kubeconfig is None and s.cluster.targets[0].kube_context is None
    assert s.vault.aws_principal is None and s.vault.cross_account_principal is None
    assert s.gloo.license_key is None


PULUMI_TYPES = {bool: "boolean", list: "array", str: "string"}


@pytest.mark.parametrize("key", [k for k in KEYS if k.declared], ids=lambda k: k.name)
def test_pulumi_yaml_declares_every_key_with_its_default(key: config_keys.Key) -> None:
    declared = pulumi_yaml_config()
    assert key.name in declared, f"Pulumi.yaml's config block lacks {key.name}"
    entry = declared[key.name]
    if key.default is None:
        # An optional key: no default, or "" which parse_settings reads as unset.
        assert entry.get("default", "") in ("", None), entry
        assert entry["type"] == (key.pulumi_type or "string")
    else:
        assert "default" in entry, f"Pulumi.yaml gives {key.name} no default"
        assert entry["default"] == key.default
        assert type(entry["default"]) is type(key.default)
        assert entry["type"] == PULUMI_TYPES[type(key.default)]


def test_pulumi_yaml_declares_no_key_the_cli_would_require() -> None:
    """The CLI (`pkg/v3` workspace/config.go, `mergeConfig`) refuses `preview` and `up` of a stack that
    leaves unset a project key declared without a default: such a key is required. Only the program
    knows which keys are (`clusterName` unless `clusterStackRef` or `clusters`), so none is declared so."""
    without_default = sorted(name for name, entry in pulumi_yaml_config().items() if "default" not in entry)
    assert without_default == []


def test_pulumi_yaml_declares_no_unknown_key_and_no_secret_default() -> None:
    names = {k.name for k in KEYS}
    declared = pulumi_yaml_config()
    assert set(declared) <= names, set(declared) - names
    # A project's config types have no map: a declared map key would make the CLI refuse its value.
    assert [k.name for k in KEYS if k.pulumi_type == "object" and k.name in declared] == []
    for key in KEYS:
        if key.secret and key.name in declared:
            assert "default" not in declared[key.name], f"{key.name} is a secret: no default in Pulumi.yaml"


STACK_FILES = sorted(p.name for p in ROOT.glob("Pulumi.*.yaml"))
STACK_SECRETS = {"vaultToken": "hvs.test", "glooLicenseKey": "LICENSE", "kubeconfig": "/home/ops/.kube/config"}


def stack_file_problems(path: Path) -> list[str]:
    """What is wrong with a stack file: a key outside this project (a typo in the namespace) or
    outside KEYS (a typo in the name), a secret in plain text, or a value the config refuses (the
    secrets it declares encrypted, `secure:`, supplied by the test)."""
    names, secret_names = {k.name for k in KEYS}, {k.name for k in KEYS if k.secret}
    problems: list[str] = []
    values: dict[str, str] = {}
    secrets = dict(TOKEN)
    for key, value in (yaml.safe_load(path.read_text()).get("config") or {}).items():
        project, _, name = key.partition(":")
        encrypted = isinstance(value, dict) and set(value) == {"secure"}
        if project != "gloo-vault-irsa" or name not in names:
            problems.append(f"{key}: not a key of this program (KEYS)")
        elif name in secret_names and not encrypted:
            problems.append(f"{key}: a secret in plain text; use pulumi config set --secret")
        elif encrypted:
            secrets[name] = STACK_SECRETS[name]
        else:
            values[name] = config_text(value)
    if "glooEdition" in values and values["glooEdition"] == "enterprise":
        secrets.setdefault("glooLicenseKey", STACK_SECRETS["glooLicenseKey"])  # from ESC or --secret
    try:
        parse(values, secrets=secrets)
    except ConfigError as refused:
        problems.append(str(refused))
    return problems


def test_the_stack_files_are_dev_and_prod() -> None:
    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml"} <= set(STACK_FILES)


@pytest.mark.parametrize("name", STACK_FILES)
def test_every_stack_file_sets_known_keys_to_values_the_config_takes(name: str) -> None:
    assert stack_file_problems(ROOT / name) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"gloo-vault-irsa:vaultAdress": "https://vault.example.com"}, "not a key of this program"),
        ({"gloo-vault-iras:region": "us-east-1"}, "not a key of this program"),
        ({"gloo-vault-irsa:region": "us-east-7"}, "gloo-vault-irsa:region: expected"),
        ({"gloo-vault-irsa:awsDefaultTags": {"aws:team": "edge"}}, "gloo-vault-irsa:awsDefaultTags: expected"),
        ({"gloo-vault-irsa:vaultToken": "hvs.in-plain-text"}, "a secret in plain text"),
    ],
    ids=["key-typo", "namespace-typo", "refused-value", "refused-map", "plain-secret"],
)
@pytest.mark.parametrize("name", ["Pulumi.dev.yaml", "Pulumi.prod.yaml"])
def test_a_stack_file_that_drifts_from_the_schema_is_caught(
    tmp_path: Path, name: str, change: dict[str, Any], problem: str
) -> None:
    data = yaml.safe_load((ROOT / name).read_text())
    data["config"].update(change)
    drifted = tmp_path / name
    drifted.write_text(yaml.safe_dump(data))
    problems = stack_file_problems(drifted)
    assert any(problem in p for p in problems), problems


def test_an_encrypted_secret_in_a_stack_file_is_fine(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    data["config"]["gloo-vault-irsa:vaultToken"] = {"secure": "v1:AAAABBBBCCCC"}
    encrypted = tmp_path / "Pulumi.prod.yaml"
    encrypted.write_text(yaml.safe_dump(data))
    assert stack_file_problems(encrypted) == []


def test_every_key_fills_exactly_one_settings_field() -> None:
    """Each key fills one field of its section (the keys naming the clusters fill `cluster.targets`),
    and each field but the computed ones is some key's: a key cannot be read and then dropped."""
    filled = [(k.section, k.section_field) for k in KEYS if k.section_field != "targets"]
    fields = {("", f.name) for f in dataclasses.fields(Settings) if f.name not in {"stack", *SECTIONS}}
    for name, section in SECTIONS.items():
        fields |= {(name, f.name) for f in dataclasses.fields(section) if f.name not in {"targets", "several"}}
    assert sorted(filled) == sorted(fields)
    assert len({k.settings_field for k in KEYS}) == len(KEYS)
    assert {k.name for k in KEYS if k.section_field == "targets"} == set(TARGET_KEYS)


def test_the_default_gloo_is_the_newest_maintained_release(run: ProgramRun) -> None:
    assert config_keys.DEFAULT_GLOO_VERSION == "1.22.1"
    assert run.one(HELM_RELEASE, "gloo").inputs["version"] == "1.22.1"


def test_adoption_keys_are_booleans() -> None:
    failed = run_program_failure({**dev_config(), "adoptKvMount": "perhaps"})
    assert isinstance(failed.error, ConfigError)
    assert "adoptKvMount" in str(failed.error)

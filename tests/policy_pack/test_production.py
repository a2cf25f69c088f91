"""What makes a stack production, and what a production stack may not do with Vault
(guardrails/production.py): a dev-mode Vault chart, a Vault address in clear text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

import guardrails
from guardrails import StackContext, StackResource
from tests.harness import LICENSE, VARIANTS, ProgramRun, run_program
from tests.policy_pack.engine import (
    DEV,
    ENGINE_UNKNOWN,
    PROD,
    Resources,
    all_violations,
    only,
    pack_violations,
    props,
    real,
    replace,
    stack_resources,
    vault_source,
)

# ---------------------------------------------------------------------------- production


@pytest.mark.parametrize(
    ("stack", "environment", "production"),
    [
        ("dev", None, False),
        ("dev", "development", False),
        ("staging", None, False),
        ("product", None, False),
        ("preprod", None, False),
        ("prod", None, True),
        ("production", None, True),
        ("PROD", None, True),
        ("eu-prod", None, True),
        ("prod-eu-west-1", None, True),
        ("team_production", None, True),
        ("dev", "production", True),
        ("prod", "development", True),
    ],
)
def test_production_is_the_stack_name_or_the_environment_key(
    stack: str, environment: str | None, production: bool
) -> None:
    assert StackContext(stack, environment).production is production


@pytest.mark.parametrize("stack", ["prd", "live", "prod1", "prod2", "production2", "eu-prd", "Live-EU", "prd_3"])
def test_the_dev_graph_in_any_production_named_stack_is_refused(run: ProgramRun, stack: str) -> None:
    """The names teams give production stacks: each one is production for the pack."""
    only(pack_violations(stack_resources(run), StackContext(stack)), "runs in dev mode (server.dev.enabled)")


@pytest.mark.parametrize("stack", ["liveness", "prodigy", "reproduce", "preprd", "deliver", "product2"])
def test_names_that_only_contain_prod_or_live_are_not_production(run: ProgramRun, stack: str) -> None:
    assert pack_violations(stack_resources(run), StackContext(stack)) == []


def test_the_dev_stack_runs_dev_vault_because_it_is_not_production(run: ProgramRun) -> None:
    release = props(run.one(guardrails.HELM_RELEASE, "vault"))
    assert release["values"]["server"]["dev"]["enabled"] is True
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, DEV) == []


@pytest.mark.parametrize("stack", ["prod", "production", "eu-prod"])
def test_the_same_graph_in_a_production_stack_fails_the_dev_mode_check(stack: str) -> None:
    run = run_program(stack=stack)
    found = all_violations(run, StackContext(stack))
    only(found["no-vault-dev-mode-in-production"], "runs in dev mode (server.dev.enabled)")
    # ...and Gloo reaches that dev Vault as the guide does, over plain http to `vault-internal.vault`.
    only(found["gloo-vault-tls-in-production"], "over plain http to 'vault-internal.vault'")
    assert [name for name, v in found.items() if v] == [
        "no-vault-dev-mode-in-production",
        "gloo-vault-tls-in-production",
    ]


def test_a_production_preview_fails_closed_on_the_vault_charts_unknown_values() -> None:
    """The program's Vault values are known in a preview now (its service account is a resource of
    its own), so the values are made unknown here, as any not-yet-known input would be."""
    preview = run_program(preview=True, stack="prod")
    release = props(preview.one(guardrails.HELM_RELEASE, "vault"))
    assert release["values"]["server"]["serviceAccount"] == {"create": False, "name": "vault"}
    release["values"] = ENGINE_UNKNOWN
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode cannot be ruled out")
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, DEV) == []


def test_dev_mode_off_passes_in_production(run: ProgramRun) -> None:
    release = real(run, guardrails.HELM_RELEASE, "vault")
    release["values"]["server"]["dev"]["enabled"] = False
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD) == []
    release["values"]["server"]["dev"]["enabled"] = "true"  # as `--set server.dev.enabled=true` gives it
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode")
    release["chart"] = "hashicorp/vault"
    only(guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, release, PROD), "dev mode")


def test_dev_mode_is_looked_for_in_the_vault_chart_only(run: ProgramRun) -> None:
    gloo = real(run, guardrails.HELM_RELEASE, "gloo")
    gloo["values"]["server"] = {"dev": {"enabled": True}}
    assert guardrails.check_vault_dev_mode(guardrails.HELM_RELEASE, gloo, PROD) == []


def dev_mode_as(chart: str) -> Callable[[dict[str, Any]], None]:
    """Dev mode on, with the Vault chart given as `chart` (and no repository)."""

    def breaks(release: dict[str, Any]) -> None:
        release.update(chart=chart, repositoryOpts={})
        release["values"]["server"]["dev"]["enabled"] = True

    return breaks


DEV_MODE_BREAKS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("chart-as-url", dev_mode_as("https://helm.releases.hashicorp.com/vault-0.29.1.tgz"), "runs in dev mode"),
    ("chart-archive", dev_mode_as("./charts/vault-0.29.1.tgz"), "runs in dev mode"),
    ("chart-oci-tag", dev_mode_as("oci://registry.example.com/hashicorp/vault:0.29.1"), "runs in dev mode"),
    ("chart-named", dev_mode_as("hashicorp/vault"), "runs in dev mode"),
    ("enabled-1", lambda r: r["values"]["server"]["dev"].update(enabled=1), "runs in dev mode"),
    ("enabled-True-string", lambda r: r["values"]["server"]["dev"].update(enabled="True"), "runs in dev mode"),
    (
        "value-yaml-files",
        lambda r: r.update(valueYamlFiles=[pulumi.StringAsset("server:\n  dev:\n    enabled: true\n")]),
        "valueYamlFiles",
    ),
    ("server-unknown", lambda r: r["values"].update(server=ENGINE_UNKNOWN), "dev mode cannot be ruled out"),
    ("dev-unknown", lambda r: r["values"]["server"].update(dev=ENGINE_UNKNOWN), "dev mode cannot be ruled out"),
]


@pytest.mark.parametrize(("case", "breaks", "fragment"), DEV_MODE_BREAKS, ids=[c[0] for c in DEV_MODE_BREAKS])
@pytest.mark.parametrize("type_", [guardrails.HELM_RELEASE, "kubernetes:helm.sh/v4:Chart"])
def test_dev_mode_vault_however_given_is_refused_in_production(
    run: ProgramRun, case: str, breaks: Callable[[dict[str, Any]], None], fragment: str, type_: str
) -> None:
    release = real(run, guardrails.HELM_RELEASE, "vault")
    release["values"]["server"]["dev"]["enabled"] = False
    assert pack_violations([StackResource(type_, "vault", release)], PROD) == []
    breaks(release)
    only(pack_violations([StackResource(type_, "vault", release)], PROD), fragment)


# ---------------------------------------------------------------------------- vault-provider-tls-in-production


@pytest.mark.parametrize(
    "address",
    ["http://vault.example.com:8200", "http://10.0.0.5:8200", "http://vault-internal.vault:8200", "HTTP://vault.corp"],
)
def test_plain_http_to_vault_is_refused_in_production(runs: dict[str, ProgramRun], address: str) -> None:
    provider = real(runs["external-role"], guardrails.VAULT_PROVIDER, "vault")
    assert provider["address"] == "https://vault.example.com:8200"
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []
    provider["address"] = address
    only(guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD), "over plain http")
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, DEV) == []


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8200",
        "http://127.1.2.3:8200",
        "http://localhost:8200",
        "http://[::1]:8200",
        "http://vault.vault.svc:8200",
        "http://vault.vault.svc.cluster.local:8200",
    ],
)
def test_plain_http_to_loopback_or_in_cluster_is_allowed_in_production(run: ProgramRun, address: str) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider["address"] = address
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []


@pytest.mark.parametrize("address", [None, "", "  ", "vault.example.com:8200", "ftp://vault.example.com"])
def test_a_vault_provider_without_an_https_address_is_refused_in_production(run: ProgramRun, address: Any) -> None:
    """Without `address` the Vault provider takes VAULT_ADDR from the environment of whoever runs
    Pulumi, which may be plain http: production names an https address itself."""
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider.pop("address")
    if address is not None:
        provider["address"] = address
    only(guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD), "an https:// address")
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, DEV) == []


def test_a_vault_provider_address_not_known_yet_passes(run: ProgramRun) -> None:
    """A preview before the address exists (an output of another resource): checked again at `up`."""
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider["address"] = ENGINE_UNKNOWN
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []


def test_the_api_server_proxy_is_https(run: ProgramRun) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    assert provider["address"].startswith("https://")
    assert guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD) == []


def test_skipping_tls_verification_is_refused_in_production(run: ProgramRun) -> None:
    provider = real(run, guardrails.VAULT_PROVIDER, "vault")
    provider["skipTlsVerify"] = "true"  # provider inputs reach the engine as strings
    only(guardrails.check_vault_provider_tls(guardrails.VAULT_PROVIDER, provider, PROD), "skips TLS verification")


# ---------------------------------------------------------------------------- Gloo's own Vault address


@pytest.fixture(scope="module")
def external_runs(runs: dict[str, ProgramRun]) -> dict[str, ProgramRun]:
    """An external Vault over https, as Gloo OSS and as Gloo Enterprise (its values nested under `gloo`)."""
    config, secrets = VARIANTS["external-role"]
    enterprise = run_program({**config, "glooEdition": "enterprise"}, secrets={**secrets, "glooLicenseKey": LICENSE})
    return {"oss": runs["external-role"], "enterprise": enterprise}


def with_gloo_source(run: ProgramRun, change: Callable[[dict[str, Any]], None]) -> Resources:
    """The stack with Gloo's Vault secret source changed by `change`."""
    return replace(stack_resources(run), guardrails.HELM_RELEASE, lambda p: change(vault_source(p["values"])))


@pytest.mark.parametrize("edition", ["oss", "enterprise"])
@pytest.mark.parametrize(
    "address", ["http://vault.example.com:8200", "HTTP://10.0.0.5:8200", "http://vault-internal.vault:8200"]
)
def test_gloo_sending_its_vault_token_in_clear_is_refused_in_production(
    external_runs: dict[str, ProgramRun], edition: str, address: str
) -> None:
    run = external_runs[edition]
    assert vault_source(props(run.one(guardrails.HELM_RELEASE, "gloo"))["values"])["address"].startswith("https://")
    assert pack_violations(stack_resources(run), PROD) == []
    broken = with_gloo_source(run, lambda source: source.update(address=address))
    only(pack_violations(broken, PROD), "Gloo sends its Vault token over plain http")
    assert pack_violations(broken, DEV) == []


@pytest.mark.parametrize("edition", ["oss", "enterprise"])
@pytest.mark.parametrize(
    "insecure", [{"tlsConfig": {"insecure": True}}, {"insecure": True}, {"tlsConfig": {"insecure": "true"}}]
)
def test_gloo_skipping_vaults_tls_verification_is_refused_in_production(
    external_runs: dict[str, ProgramRun], edition: str, insecure: dict[str, Any]
) -> None:
    broken = with_gloo_source(external_runs[edition], lambda source: source.update(insecure))
    only(pack_violations(broken, PROD), "Gloo skips TLS verification of Vault")


@pytest.mark.parametrize("address", ["http://vault.vault.svc:8200", "http://vault.vault.svc.cluster.local:8200"])
def test_gloo_over_plain_http_inside_the_cluster_passes_in_production(
    external_runs: dict[str, ProgramRun], address: str
) -> None:
    broken = with_gloo_source(external_runs["oss"], lambda source: source.update(address=address))
    assert pack_violations(broken, PROD) == []

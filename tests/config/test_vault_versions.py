"""CVE-2025-11621 (components/config/vault_versions.py): which Vault versions are below the fix, the
versions this program pins, and an external Vault's version read from a real `sys/health` on
127.0.0.1 at `up` and `preview` under the mocks."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from components.config.keys import DEFAULT_VAULT_CHART_VERSION
from components.config.vault_versions import CVE, OFFLINE_ENV, health_version, is_vulnerable
from components.documents.vault import VAULT_IMAGE_TAG
from tests.harness import EXTERNAL_VAULT, ROOT, dev_config, run_program

VULNERABLE = [
    "1.18.5",
    "1.20.4",
    "1.20.5",  # Community: only 1.21.0 is fixed
    "1.21.0-rc1",
    "v1.18.1",
    "0.11.0",
    "1.20.4+ent",
    "1.19.10+ent",
    "1.16.26+ent.hsm.fips1403",
    "1.18.13+ent",  # an Enterprise line without a fixed release
    "1.17.20-ent",  # the Enterprise image's tag form
    "1.15.99+ent",
]
FIXED = ["1.21.0", "1.21.4", "2.0.4", "1.21.0+ent", "1.20.5+ent", "1.19.11+ent", "1.16.27+ent", "1.20.5-ent", "1.22.0"]


@pytest.mark.parametrize("version", VULNERABLE)
def test_versions_below_the_fix_of_their_edition_and_line_are_vulnerable(version: str) -> None:
    assert is_vulnerable(version) is True


@pytest.mark.parametrize("version", FIXED)
def test_fixed_versions_are_not(version: str) -> None:
    assert is_vulnerable(version) is False


@pytest.mark.parametrize("version", ["latest", "", "1.21", "sha256:abc", "1.21.x"])
def test_what_is_no_version_is_not_judged(version: str) -> None:
    assert is_vulnerable(version) is None


def test_the_pinned_vault_image_is_fixed() -> None:
    """The dev Vault and the login check's one image pin (components/documents/vault.py)."""
    assert is_vulnerable(VAULT_IMAGE_TAG) is False


def test_the_default_vault_chart_is_one_whose_own_vault_is_fixed() -> None:
    """hashicorp/vault-helm 0.32.0 (2026-01-14) is the first chart whose default image, 1.21.2, is
    fixed (0.31.0's is 1.20.4) and the last of Vault 1.x (0.33.0 defaults to 2.0.2)."""
    assert DEFAULT_VAULT_CHART_VERSION == "0.32.0"


@pytest.mark.parametrize(
    "module", ["tests/engines/vaultcli/go.mod", "tests/engines/awsauthplugin/go.mod"], ids=["cli", "plugin"]
)
def test_the_engine_tests_vault_code_is_the_images_version(module: str) -> None:
    """The Vault CLI the login check's command is proven with and the aws auth plugin the logins
    are proven against are built from the Vault of the image (a test of the CLI's was there before)."""
    go_mod = (ROOT / module).read_text()
    required = re.findall(r"^(?:require )?\s*github.com/hashicorp/vault v(\S+)$", go_mod, re.MULTILINE)
    assert required == [VAULT_IMAGE_TAG]


def test_build_tools_builds_the_plugin_from_the_module_here() -> None:
    script = (ROOT / "scripts" / "build-tools.sh").read_text()
    assert 'VAULT_AWS_PLUGIN="./tests/engines/awsauthplugin@$(source_hash tests/engines/awsauthplugin)"' in script
    assert re.search(r'^build aws-auth-plugin "\$OPENBAO_AWS_PLUGIN" "\$VAULT_AWS_PLUGIN"$', script, re.MULTILINE)


# ---------------------------------------------------------------------------- sys/health on 127.0.0.1


class Health:
    """A stand-in Vault on 127.0.0.1 that answers `GET /v1/sys/health` as Vault does."""

    def __init__(self, version: str, status: int = 200) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = json.dumps({"initialized": True, "sealed": False, "standby": False, "version": version})
                self.send_response(status if self.path == "/v1/sys/health" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vault_at() -> Iterator[Any]:
    started: list[Health] = []

    def start(version: str, status: int = 200) -> Health:
        started.append(Health(version, status))
        return started[-1]

    yield start
    for health in started:
        health.stop()


def test_health_version_reads_the_version_also_of_a_standby_or_sealed_vault(vault_at: Any) -> None:
    assert health_version(vault_at("1.21.4").address) == "1.21.4"
    assert health_version(vault_at("1.20.5+ent", 429).address) == "1.20.5+ent"  # standby
    assert health_version(vault_at("1.18.5", 503).address) == "1.18.5"  # sealed


def test_a_vault_that_cannot_be_reached_has_no_version() -> None:
    health = Health("1.18.5")
    address = health.address
    health.stop()
    assert health_version(address, timeout=1) is None


def external_run(address: str, preview: bool, warnings: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    config = {**dev_config(), **EXTERNAL_VAULT, "vaultAddress": address}
    config["vaultAwsPrincipalArn"] = "arn:aws:iam::123456789012:role/vault-server"
    run_program(config, preview=preview, env={OFFLINE_ENV: "0"})  # the offline engine reads no Vault otherwise


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_external_vault_below_the_fix_is_warned_about_in_one_line(
    vault_at: Any, preview: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_at("1.20.4")
    warnings: list[str] = []
    external_run(vault.address, preview, warnings, monkeypatch)
    assert vault.requests == ["/v1/sys/health"]
    [warning] = [w for w in warnings if CVE in w]
    assert warning == (
        f"gloo-vault-irsa:vaultAddress: the Vault at {vault.address} runs 1.20.4, below the fix of {CVE} (aws auth "
        "authentication bypass, HCSEC-2025-30): upgrade it to Community 1.21.0; Enterprise 1.21.0, 1.20.5, 1.19.11 "
        "or 1.16.27 or later"
    )


@pytest.mark.parametrize("version", ["1.21.4", "1.20.5+ent"])
def test_a_fixed_external_vault_is_not_warned_about(
    vault_at: Any, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = vault_at(version)
    warnings: list[str] = []
    external_run(vault.address, False, warnings, monkeypatch)
    assert vault.requests == ["/v1/sys/health"]
    assert [w for w in warnings if CVE in w] == []

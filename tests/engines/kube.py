"""A real Kubernetes API server for the program's own Kubernetes objects, on 127.0.0.1.

- `Etcd`: Debian's `etcd` (package `etcd-server`), its data in a temp dir.
- `KubeApiServer`: `.cache/tools/kube-apiserver` (scripts/build-tools.sh builds it from
  k8s.io/kubernetes at KUBE_VERSION), serving TLS with a CA and certificate generated here, an
  admin bearer token (static token file, group `system:masters`, RBAC) and a generated
  service-account signing key. No controllers run (no controller manager, no kubelet): objects
  are validated, defaulted, admitted and stored, and nothing acts on them.

`start_kube` starts both on free ports, waits for `/readyz`, and always stops them.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import secrets
import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.engines.servers import TOOLS, Process, clean_env, free_port, http_json, require

KUBE_APISERVER = TOOLS / "kube-apiserver"
START_TIMEOUT = 120.0  # the API server's post-start hooks (RBAC bootstrap...) on a busy 2-core machine


def missing_kube() -> str | None:
    """One line naming what is missing for the API server tests, or None when all is here."""
    if shutil.which("etcd") is None:
        return "`etcd` is missing (Debian package etcd-server; scripts/test.sh installs it)"
    if not KUBE_APISERVER.is_file():
        unavailable = KUBE_APISERVER.with_name(KUBE_APISERVER.name + ".unavailable")
        why = unavailable.read_text().strip() if unavailable.is_file() else "not built"
        return f"kube-apiserver .cache/tools/kube-apiserver is missing ({why}); ./scripts/build-tools.sh builds it"
    return None


def _pem(key: Any) -> bytes:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return data


def _certificate(subject: str, key: Any, issuer: tuple[str, Any] | None, *, ca: bool) -> x509.Certificate:
    """A certificate for `subject`, self-signed (`issuer` None) or signed by (issuer name, key)."""
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Credentials:
    """The API server's generated TLS, admin token and service-account keys, as files in `workdir`."""

    workdir: Path
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    def __post_init__(self) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        server_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = self.workdir / "ca.crt"
        self.ca.write_bytes(_certificate("test-ca", ca_key, None, ca=True).public_bytes(serialization.Encoding.PEM))
        self.cert, self.key = self.workdir / "server.crt", self.workdir / "server.key"
        server = _certificate("kube-apiserver", server_key, ("test-ca", ca_key), ca=False)
        self.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        self.key.write_bytes(_pem(server_key))
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_key, self.sa_pub = self.workdir / "sa.key", self.workdir / "sa.pub"
        self.sa_key.write_bytes(_pem(sa_key))
        self.sa_pub.write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.tokens = self.workdir / "tokens.csv"
        self.tokens.write_text(f'{self.token},test-admin,test-admin,"system:masters"\n')


class Etcd:
    """Debian's etcd, one member, client and peer URLs on free loopback ports."""

    def __init__(self, workdir: Path) -> None:
        client, peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{client}"
        peer_url = f"http://127.0.0.1:{peer}"
        argv = [
            "etcd",
            "--name=test",
            f"--data-dir={workdir / 'etcd'}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=test={peer_url}",
        ]
        self.process = Process("etcd", argv, workdir / "etcd.log", clean_env())
        try:
            self.process.wait_until(lambda: http_json("GET", f"{self.url}/health").status == 200)
        except BaseException:
            self.process.stop()
            raise

    def stop(self) -> None:
        self.process.stop()


class KubeApiServer:
    """kube-apiserver on etcd, TLS on a free loopback port, an admin token in `system:masters`."""

    def __init__(self, workdir: Path, etcd: Etcd) -> None:
        self.credentials = Credentials(workdir)
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        self.tls = ssl.create_default_context(cafile=str(self.credentials.ca))
        c = self.credentials
        argv = [
            str(KUBE_APISERVER),
            f"--etcd-servers={etcd.url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={workdir / 'certs'}",
            f"--tls-cert-file={c.cert}",
            f"--tls-private-key-file={c.key}",
            f"--token-auth-file={c.tokens}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={c.sa_pub}",
            f"--service-account-signing-key-file={c.sa_key}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--endpoint-reconciler-type=none",  # a loopback address is no valid endpoint
            "--profiling=false",
        ]
        self.process = Process("kube-apiserver", argv, workdir / "kube-apiserver.log", clean_env())
        try:
            self.process.wait_until(lambda: self.request("GET", "/readyz")[0] == 200, timeout=START_TIMEOUT)
        except BaseException:
            self.process.stop()
            raise

    def request(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> tuple[int, Any, list[str]]:
        """(status, decoded body, Warning headers) of one API request with the admin token."""
        url = f"{self.url}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.credentials.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.tls) as resp:
                return resp.status, _decode(resp.read()), resp.headers.get_all("Warning") or []
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read()), err.headers.get_all("Warning") or []

    def stop(self) -> None:
        self.process.stop()


def _decode(text: bytes) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text.decode(errors="replace")


@contextlib.contextmanager
def start_kube(workdir: Path) -> Iterator[KubeApiServer]:
    """Starts etcd and kube-apiserver; always stops both when the `with` block ends."""
    require(missing_kube())
    with contextlib.ExitStack() as stack:
        etcd = Etcd(workdir)
        stack.callback(etcd.stop)
        server = KubeApiServer(workdir, etcd)
        stack.callback(server.stop)
        yield server

"""Vault behind TLS with a private CA, as production's is: a TLS front on 127.0.0.1 whose
certificate a CA made here signs, relaying bytes to the local OpenBao (which serves plain HTTP).

A client reaches Vault through it only if it verifies the certificate with that CA, as Gloo does
with its `tlsConfig.caCert` file and the login check Job with `vaultCaCert`.
"""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFront:
    """Where the front listens and the CA that signed its certificate (PEM)."""

    url: str
    ca_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def private_ca_and_leaf(directory: Path) -> tuple[str, Path, Path]:
    """A CA (PEM) and a certificate and key files for 127.0.0.1 it signed, valid for a day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(
            subject_name=_name("gloo-vault-irsa test CA"), issuer_name=_name("gloo-vault-irsa test CA")
        )
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder(subject_name=_name("vault"), issuer_name=ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "vault.pem", directory / "vault.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copies bytes both ways until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], 30)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


@contextmanager
def tls_front(upstream_url: str, directory: Path) -> Iterator[TlsFront]:
    """A TLS front for `upstream_url` (http://host:port) while the context lasts."""
    ca_pem, cert_file, key_file = private_ca_and_leaf(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    target = urlsplit(upstream_url)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            request: Any = self.request
            try:
                client = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the certificate hangs up during the handshake
            with client, socket.create_connection((target.hostname, target.port)) as upstream:
                _relay(client, upstream)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsFront(f"https://127.0.0.1:{server.server_address[1]}", ca_pem)
    finally:
        server.shutdown()
        server.server_close()

"""Test infrastructure for the reliability tests: a TLS endpoint, ACL users, a local Redis Cluster.

Everything here runs from a fresh clone with Python only (plus the ``cryptography`` package of the
``dev`` extra): the embedded redis-server has no TLS built in, so TLS is provided by a small asyncio
TLS-terminating proxy in a background thread, in front of the plain embedded server, with a CA and
certificates generated per use. The proxy counts the TLS sessions it accepted so a test can prove
that a client really went through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from redisvec.server import LocalRedis

__all__ = [
    "READ_ONLY_SEARCH_RULES",
    "TLSEndpoint",
    "acl_user",
    "free_port",
    "local_cluster",
    "tls_endpoint",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- certificates --------------------------------------------------------------------------------


def _write_certs(directory: Path) -> dict[str, Path]:
    """A CA, a server certificate for localhost / 127.0.0.1 and a client certificate (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def save(stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        (directory / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("redisvec test CA"))
        .issuer_name(name("redisvec test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    save("ca", ca_key, ca)

    def leaf(
        stem: str, cn: str, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        save(stem, key, builder.sign(ca_key, hashes.SHA256()))

    leaf(
        "server",
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    leaf("client", "redisvec-test-client", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    return {stem: directory / stem for stem in ("ca", "server", "client")}


# --- TLS terminator ------------------------------------------------------------------------------


@dataclass
class TLSEndpoint:
    """A running TLS endpoint: connect with ``url`` and ``ca_file`` (and the client cert for mTLS)."""

    host: str
    port: int
    backend_port: int
    ca_file: str
    client_cert_file: str
    client_key_file: str
    require_client_cert: bool
    handshakes: int = 0  # TLS sessions accepted (and forwarded) by the terminator
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return f"rediss://{self.host}:{self.port}"

    def _count(self) -> None:
        with self._lock:
            self.handshakes += 1


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.contextmanager
def tls_endpoint(
    plain_port: int, *, require_client_cert: bool = False, host: str = "127.0.0.1"
) -> Iterator[TLSEndpoint]:
    """Terminate TLS on a free loopback port and forward to ``127.0.0.1:plain_port``.

    With ``require_client_cert`` the handshake fails unless the client presents a certificate
    signed by the generated CA (mutual TLS).
    """
    with tempfile.TemporaryDirectory(prefix="redisvec-tls-") as tmp:
        certs = _write_certs(Path(tmp))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{certs['server']}.crt", f"{certs['server']}.key")
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(f"{certs['ca']}.crt")
        endpoint = TLSEndpoint(
            host=host,
            port=0,
            backend_port=plain_port,
            ca_file=f"{certs['ca']}.crt",
            client_cert_file=f"{certs['client']}.crt",
            client_key_file=f"{certs['client']}.key",
            require_client_cert=require_client_cert,
        )
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # With asyncio's ssl server the handshake happens before this callback runs.
            endpoint._count()
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", plain_port)
            except OSError:
                writer.close()
                return
            with contextlib.suppress(asyncio.CancelledError):  # cancelled at shutdown
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        def on_error(loop: asyncio.AbstractEventLoop, ctx: dict[str, object]) -> None:
            if isinstance(ctx.get("exception"), ssl.SSLError | ConnectionError | OSError):
                return  # a failed handshake: expected in the negative tests, not worth a log
            loop.default_exception_handler(ctx)

        async def serve() -> asyncio.Server:
            loop.set_exception_handler(on_error)
            server = await asyncio.start_server(
                handle, host, 0, ssl=context, ssl_handshake_timeout=5
            )
            endpoint.port = server.sockets[0].getsockname()[1]
            return server

        def run() -> None:
            asyncio.set_event_loop(loop)
            holder.append(loop.run_until_complete(serve()))
            ready.set()
            loop.run_forever()

        holder: list[asyncio.Server] = []
        thread = threading.Thread(target=run, name="redisvec-tls-terminator", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the TLS terminator did not start within 10 s")
        try:
            yield endpoint
        finally:

            async def shutdown() -> None:
                holder[0].close()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


# --- ACL users -----------------------------------------------------------------------------------

# May search and read, may not write (nor run MODULE): a reporting or query-only service account.
READ_ONLY_SEARCH_RULES: tuple[str, ...] = (
    "~*",
    "+@read",
    "+@connection",
    "+ft.search",
    "+ft.aggregate",
    "+ft.info",
    "+ft._list",
    "-@write",
)


@contextlib.contextmanager
def acl_user(
    client: redis.Redis, name: str, password: str, rules: Sequence[str] = ("~*", "&*", "+@all")
) -> Iterator[str]:
    """Create an ACL user with ``rules`` (e.g. ``("~*", "+@all", "-module")``); delete it after."""
    client.execute_command("ACL", "SETUSER", name, "reset", "on", f">{password}", *rules)
    try:
        yield name
    finally:
        client.execute_command("ACL", "DELUSER", name)


# --- local cluster -------------------------------------------------------------------------------


class _ClusterNode(LocalRedis):
    """`LocalRedis` in cluster mode. Its start-up probe writes a key, which a node serving no slots
    yet must refuse, so the probe is replaced by checking that the search module answers."""

    def _check_search(self) -> None:
        with redis.Redis(port=self.port, protocol=2) as client:
            client.execute_command("FT._LIST")


@contextlib.contextmanager
def local_cluster(shards: int = 3, *, timeout: float = 20.0) -> Iterator[list[str]]:
    """A ``shards``-master Redis Cluster of embedded servers (with search and JSON); yields URLs.

    Ports are chosen explicitly with an explicit cluster bus port, because the default bus port
    (port + 10000) does not exist for free ports above 55535.
    """
    nodes: list[_ClusterNode] = []
    buses: list[int] = []
    with (
        tempfile.TemporaryDirectory(prefix="redisvec-cluster-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        for i in range(shards):
            for attempt in range(5):
                bus = free_port()
                node = _ClusterNode(
                    port=free_port(),
                    extra_args=[
                        "--cluster-enabled", "yes",
                        "--cluster-port", str(bus),
                        "--cluster-config-file", os.path.join(tmp, f"node{i}.conf"),
                        "--cluster-node-timeout", "2000",
                    ],
                )  # fmt: skip
                try:
                    stack.enter_context(node)
                    break
                except RuntimeError:
                    if attempt == 4:
                        raise
            nodes.append(node)
            buses.append(bus)
        clients = [stack.enter_context(redis.Redis(port=n.port, protocol=2)) for n in nodes]
        for c in clients[1:]:
            c.execute_command("CLUSTER", "MEET", "127.0.0.1", nodes[0].port, buses[0])
        step = 16384 // shards
        for i, c in enumerate(clients):
            last = 16383 if i == shards - 1 else (i + 1) * step - 1
            c.execute_command("CLUSTER", "ADDSLOTSRANGE", i * step, last)
        deadline = time.monotonic() + timeout
        while True:
            infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
            known = [len(c.execute_command("CLUSTER", "NODES").splitlines()) for c in clients]
            if all(b"cluster_state:ok" in i for i in infos) and all(k == shards for k in known):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"local cluster not ready within {timeout}s: {infos[0]!r}")
            time.sleep(0.05)
        yield [n.url for n in nodes]

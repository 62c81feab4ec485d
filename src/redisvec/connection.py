"""Connections: one place that turns a URL, options or existing clients into matching clients.

A vector store needs a sync and an async client that talk to the *same* server the *same* way. The
bug this module exists to prevent: an async client rebuilt from a sync one's host and port silently
drops TLS, the CA, the client certificate or the credential provider. So every derivation here is
driven by redis-py's own ``connection_kwargs`` and ``connection_class``, and a TLS setting the other
flavour cannot express is an error, never a silent downgrade.

- `ConnectionConfig`: everything needed to build both clients (URL, ACL user, TLS files and modes,
  timeouts, retry with exponential backoff and jitter, RESP version, cluster).
- `Connections`: the sync / async pair a store uses; given clients are used as is, a missing one
  is the `async_twin` / `sync_twin` of the other; it closes only what it created. An asyncio client
  belongs to the event loop it first ran in, so each running loop gets its own async client.
- `mask_url`, `describe`: safe text for logs and errors (never a password or a token), even for a
  URL that does not parse.
- `ping` / `aping`, `connection_error`: fail with an error naming the masked endpoint:
  `ConnectionFailedError` when the server cannot be reached or refuses the credentials,
  `ReplyTimeoutError` (naming ``socket_timeout``) when a connected server answers too slowly.

Replies are always bytes (``decode_responses=False``): vectors are binary.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import copy
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias
from urllib.parse import SplitResult, urlsplit

import redis
import redis.asyncio as aredis
import redis.asyncio.cluster as acluster
import redis.asyncio.retry as aretry
import redis.cluster as scluster
import redis.retry as sretry
from redis.backoff import AbstractBackoff, ExponentialWithJitterBackoff
from redis.connection import parse_url as _untyped_parse_url

from redisvec.errors import ConnectionFailedError, ReplyTimeoutError

__all__ = [
    "AsyncClient",
    "ConnectionConfig",
    "ConnectionFailedError",
    "Connections",
    "ReplyTimeoutError",
    "SyncClient",
    "aping",
    "async_twin",
    "check_client",
    "clients_from",
    "describe",
    "mask_url",
    "ping",
    "sync_twin",
]

SyncClient: TypeAlias = "redis.Redis | scluster.RedisCluster"
AsyncClient: TypeAlias = "aredis.Redis | acluster.RedisCluster"
CertReqs = Literal["required", "optional", "none"]

parse_url: Callable[[str], dict[str, Any]] = _untyped_parse_url
_MASK = "****"
_SECRET_PARAM = re.compile(r"pass|token|secret|credential", re.IGNORECASE)


@dataclass(frozen=True, repr=False)
class ConnectionConfig:
    """How to connect: build matching sync and async clients from one description.

    The URL (``rediss://user:pass@host:port/db?ssl_cert_reqs=...``, query options honoured) gives
    the endpoint; fields given explicitly win over it, and URL query options win over defaults.
    A password with ``/``, ``?`` or ``#`` in it (Azure access keys are base64) must be URL-encoded
    in the URL, or given as ``password=``: a URL that does not parse is refused here, not at the
    first command.
    """

    url: str | None = None
    username: str | None = None
    password: str | None = None
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_cert_reqs: CertReqs | None = None
    ssl_check_hostname: bool | None = None
    # A refused or unreachable endpoint must fail in seconds, a slow KNN over millions must not.
    socket_timeout: float | None = 30.0
    socket_connect_timeout: float | None = 5.0
    # Retries on connection errors and timeouts; waits random(0, base * 2**n) capped at backoff_cap.
    retries: int = 3
    backoff_base: float = 0.1
    backoff_cap: float = 2.0
    health_check_interval: float = 30.0
    client_name: str | None = "redisvec"
    protocol: Literal[2, 3] = 3
    cluster: bool = False
    credential_provider: object | None = None

    def __post_init__(self) -> None:
        if self.url is not None and urlsplit(self.url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"url {mask_url(self.url)!r} must start with redis://, rediss:// (TLS) or unix://"
            )
        if self.url is not None:
            _check_url(self.url)
        if self.ssl_cert_reqs not in (None, "required", "optional", "none"):
            raise ValueError(
                f"ssl_cert_reqs={self.ssl_cert_reqs!r} is not one of 'required', 'optional', 'none'"
            )
        if self.protocol not in (2, 3):
            raise ValueError(f"protocol={self.protocol!r} must be 2 (RESP2) or 3 (RESP3)")
        if self.retries < 0:
            raise ValueError(f"retries={self.retries!r} must be >= 0 (0 disables retrying)")

    @property
    def effective_url(self) -> str:
        return self.url or "redis://localhost:6379/0"

    def _kwargs(self) -> dict[str, Any]:
        """Client keyword arguments shared by both flavours (the retry object is per flavour).

        The URL is parsed here rather than by ``from_url``, whose URL options would override the
        explicit fields.
        """
        kw: dict[str, Any] = dict(parse_url(self.effective_url))
        cls = kw.pop("connection_class", None)
        if cls is not None and issubclass(cls, redis.SSLConnection):
            kw["ssl"] = True
        if "path" in kw:
            kw["unix_socket_path"] = kw.pop("path")
        kw["decode_responses"] = False
        defaults = {f.name: f.default for f in fields(self)}
        for name in (
            "protocol",
            "socket_timeout",
            "socket_connect_timeout",
            "health_check_interval",
            "client_name",
        ):
            # A URL query option (``?socket_timeout=3``) beats a default, not an explicit value.
            if name not in kw or getattr(self, name) != defaults[name]:
                kw[name] = getattr(self, name)
        if "protocol" in kw:  # redis-py < 8 leaves ``?protocol=2`` from a URL as the string "2"
            kw["protocol"] = int(kw["protocol"])
        for name in (
            "username",
            "password",
            "ssl_ca_certs",
            "ssl_certfile",
            "ssl_keyfile",
            "ssl_cert_reqs",
            "ssl_check_hostname",
            "credential_provider",
        ):
            value = getattr(self, name)
            if value is not None:
                kw[name] = value
        if any(name.startswith("ssl_") for name in kw) and self.tls is False:
            raise ValueError(
                f"TLS options were given but the url {mask_url(self.effective_url)!r} is not "
                "rediss://; use a rediss:// url so the connection is encrypted"
            )
        return kw

    @property
    def tls(self) -> bool:
        return urlsplit(self.effective_url).scheme == "rediss"

    def _backoff(self) -> AbstractBackoff:
        return ExponentialWithJitterBackoff(cap=self.backoff_cap, base=self.backoff_base)

    def sync_client(self) -> SyncClient:
        """A new sync client (``redis.cluster.RedisCluster`` when ``cluster=True``)."""
        kw = self._kwargs() | {"retry": sretry.Retry(self._backoff(), self.retries)}
        if self.cluster:
            return scluster.RedisCluster(**kw)
        return redis.Redis(**kw)

    def async_client(self) -> AsyncClient:
        """A new async client with exactly the settings of `sync_client`."""
        kw = self._kwargs() | {"retry": aretry.Retry(self._backoff(), self.retries)}
        if self.cluster:
            return acluster.RedisCluster(**kw)
        return aredis.Redis(**kw)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "url" and value is not None:
                value = mask_url(value)
            elif f.name == "password" and value is not None:
                value = _MASK
            elif f.name == "credential_provider" and value is not None:
                parts.append(f"credential_provider=<{type(value).__name__}>")
                continue
            parts.append(f"{f.name}={value!r}")
        return f"ConnectionConfig({', '.join(parts)})"


# --- twins ---------------------------------------------------------------------------------------

# Settings that mean the same thing to both flavours; everything ssl_* is handled separately so a
# TLS setting is never dropped without an error.
_PORTABLE = frozenset(
    {
        "host",
        "port",
        "db",
        "path",
        "username",
        "password",
        "credential_provider",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "socket_keepalive_options",
        "socket_read_size",
        "retry_on_timeout",
        "retry_on_error",
        "retry",
        "health_check_interval",
        "client_name",
        "driver_info",
        "encoding",
        "encoding_errors",
        "decode_responses",
        "protocol",
        "legacy_responses",
    }
)


def _params(target: Callable[..., object]) -> frozenset[str]:
    return frozenset(inspect.signature(target).parameters)


def _connection_params(cls: type[Any]) -> frozenset[str]:
    """Keyword arguments a connection class accepts, through its ``**kwargs`` chain."""
    return frozenset().union(
        *(_params(vars(c)["__init__"]) for c in cls.__mro__ if "__init__" in vars(c))
    )


def _carry(
    kwargs: Mapping[str, Any], accepted: frozenset[str], retry_class: type[Any]
) -> dict[str, Any]:
    """The settings of `kwargs` the other flavour understands; raise if a TLS one would be lost."""
    out = {k: v for k, v in kwargs.items() if k in _PORTABLE and k in accepted}
    for key, value in kwargs.items():
        if not key.startswith("ssl_"):
            continue
        if key in accepted:
            out[key] = value
        elif value is not None and value is not False:  # set, and the other flavour lacks it
            raise ValueError(
                f"{key}={value!r} has no equivalent in the other redis-py client flavour; "
                "refusing to build a twin that would connect with weaker TLS. Build both clients "
                "yourself and pass them as redis_client= and async_client="
            )
    retry = out.get("retry")
    if retry is not None:
        out["retry"] = retry_class(
            copy.deepcopy(retry._backoff), retry.get_retries(), tuple(retry._supported_errors)
        )
    return out


def _cluster_twin(
    client: Any, target: type[Any], retry_class: type[Any], overrides: Mapping[str, Any]
) -> Any:
    kwargs = client.get_connection_kwargs()
    if target is scluster.RedisCluster:  # takes **kwargs and silently drops what it does not know
        accepted = frozenset(scluster.REDIS_ALLOWED_KEYS) | {"retry"}
    else:
        accepted = _params(target.__init__)
    tls = kwargs.get("ssl") or _is_tls_class(kwargs.get("connection_class"))
    out = {
        k: v for k, v in _carry(kwargs, accepted, retry_class).items() if k not in ("host", "port")
    }
    if "retry" not in out and getattr(client, "retry", None) is not None:
        out["retry"] = _carry({"retry": client.retry}, frozenset({"retry"}), retry_class)["retry"]
    node_class = acluster.ClusterNode if target is acluster.RedisCluster else scluster.ClusterNode
    nodes = [node_class(n.host, n.port) for n in _cluster_nodes(client)]
    if tls:
        out["ssl"] = True
    return target(startup_nodes=nodes, **(out | dict(overrides)))


def _cluster_nodes(client: Any) -> list[Any]:
    """The known nodes, or the startup nodes of a client that has not connected yet."""
    return list(client.get_nodes() or client.nodes_manager.startup_nodes.values())


def _is_tls_class(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, redis.SSLConnection | aredis.SSLConnection)


@dataclass(frozen=True)
class _Flavour:
    """redis-py's classes of one flavour (sync or async), to translate a client between them."""

    plain: type[Any]
    ssl: type[Any]
    unix: type[Any]
    pool: type[Any]
    client: type[Any]
    cluster: type[Any]
    retry: type[Any]


_SYNC = _Flavour(
    redis.Connection,
    redis.SSLConnection,
    redis.UnixDomainSocketConnection,
    redis.ConnectionPool,
    redis.Redis,
    scluster.RedisCluster,
    sretry.Retry,
)
_ASYNC = _Flavour(
    aredis.Connection,
    aredis.SSLConnection,
    aredis.UnixDomainSocketConnection,
    aredis.ConnectionPool,
    aredis.Redis,
    acluster.RedisCluster,
    aretry.Retry,
)


def _twin(client: Any, source: _Flavour, target: _Flavour, overrides: dict[str, Any]) -> Any:
    if isinstance(client, source.cluster):
        return _cluster_twin(client, target.cluster, target.retry, overrides)
    pool = client.connection_pool
    cls = pool.connection_class
    if issubclass(cls, source.unix):
        connection = target.unix
    elif issubclass(cls, source.ssl):
        connection = target.ssl
    else:
        connection = target.plain
    kw = _carry(pool.connection_kwargs, _connection_params(connection), target.retry) | overrides
    new_pool = target.pool(connection_class=connection, max_connections=pool.max_connections, **kw)
    return target.client.from_pool(new_pool)


def async_twin(client: SyncClient, **overrides: Any) -> AsyncClient:
    """An async client with the same endpoint, credentials, TLS, timeouts, retry and protocol.

    ``overrides`` replace single settings (e.g. ``decode_responses=False``).
    """
    twin: AsyncClient = _twin(client, _SYNC, _ASYNC, overrides)
    return twin


def sync_twin(client: AsyncClient, **overrides: Any) -> SyncClient:
    """A sync client with the same settings as an async one (see `async_twin`)."""
    twin: SyncClient = _twin(client, _ASYNC, _SYNC, overrides)
    return twin


# --- safe text -----------------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """The URL with its password (or lone token) and secret query values replaced by ``****``.

    Does not trust the parse alone: a password holding ``/``, ``?`` or ``#`` (an unencoded Azure
    access key) breaks URL parsing, and must be hidden all the same. Everything between
    ``://`` and the *last* ``@`` is user information; a user name is shown only when it cannot be
    part of such a password.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url if "@" not in url else _MASK
    if rest.startswith("/"):  # unix:///path: no user information, an @ belongs to the path
        userinfo, at, tail = "", "", rest
    else:
        try:
            parts = urlsplit(url)
            cut = _cut(parts)
        except ValueError:
            cut = True
        # Parsed as it reads: the netloc's '@' ends the user information (a query value may hold
        # an '@' too); cut short by the password: the text's last '@' does.
        userinfo, at, tail = rest.rpartition("@") if cut else parts.netloc.rpartition("@")
        if not cut and at:
            tail = rest[len(userinfo) + 1 :]
        elif not cut:
            userinfo, tail = "", rest
    auth = ""
    if at:
        user, colon, _ = userinfo.partition(":")
        # A lone userinfo may be a token (``rediss://TOKEN@host``): mask it too.
        shown = colon and not any(c in user for c in "/?#[]")
        auth = f"{user}:{_MASK}@" if shown else f"{_MASK}@"
    where, q, query = tail.partition("?")
    if q:
        query, h, fragment = query.partition("#")
        pairs = [
            f"{key}={_MASK}" if _SECRET_PARAM.search(key) else pair
            for pair in query.split("&")
            for key in [pair.partition("=")[0]]
        ]
        where += "?" + "&".join(pairs) + h + fragment
    return f"{scheme}://{auth}{where}"


def _cut(parts: SplitResult) -> bool:
    """Whether a password's '/' or '#' ended the host part early: an '@' past it ('?' too when no
    host is left; an '@' in a query value such as ``client_name=me@host`` is fine)."""
    return "@" in parts.path + parts.fragment or (
        "@" in parts.query and "@" not in parts.netloc and not parts.hostname
    )


def _check_url(url: str) -> None:
    """Refuse a URL that does not parse the way it reads, with the fix; the message is masked."""
    fix = (
        "URL-encode the password (urllib.parse.quote(password, safe='')), or leave it out of the "
        "url and pass it as password=. Azure access keys are base64 and often contain '/'"
    )
    try:
        parts = urlsplit(url)
        cut = not url.partition("://")[2].startswith("/") and _cut(parts)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        cut = True
    if cut:
        raise ValueError(
            f"url {mask_url(url)!r} does not parse as user:password@host:port (a password "
            "containing '/', '?', '#' or ':' is read as the host or the port); " + fix
        )
    try:
        parse_url(url)
    except ValueError as exc:  # redis-py's checks of the query options
        raise ValueError(f"url {mask_url(url)!r} does not parse: {exc}") from None


def _kwargs_url(kwargs: Mapping[str, Any], tls: bool) -> str:
    user = kwargs.get("username") or ""
    # A username without a password is how redis-py parses ``rediss://TOKEN@host``: it may be a
    # token, so it is masked like `mask_url` masks a lone userinfo.
    auth = f"{user}:{_MASK}@" if kwargs.get("password") else (f"{_MASK}@" if user else "")
    if kwargs.get("path"):
        return f"unix://{auth}{kwargs['path']}?db={kwargs.get('db', 0)}"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"{'rediss' if tls else 'redis'}://{auth}{host}:{port}/{kwargs.get('db', 0)}"


def describe(client: object) -> str:
    """A one-line description of a client for logs and errors: endpoint, TLS, auth, never secrets."""
    name = type(client).__name__
    try:
        if isinstance(client, scluster.RedisCluster | acluster.RedisCluster):
            kwargs = client.get_connection_kwargs()
            tls = bool(kwargs.get("ssl")) or _is_tls_class(kwargs.get("connection_class"))
            nodes = _cluster_nodes(client)
            first = nodes[0] if nodes else None
            where = _kwargs_url(
                {**kwargs, "host": getattr(first, "host", "?"), "port": getattr(first, "port", 0)},
                tls,
            )
            extra = f" (+{len(nodes) - 1} nodes)" if len(nodes) > 1 else ""
            return f"{name}<{where}{extra}{_extras(kwargs)}>"
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            kwargs = pool.connection_kwargs
            return f"{name}<{_kwargs_url(kwargs, _is_tls_class(pool.connection_class))}{_extras(kwargs)}>"
    except Exception:  # describing must never be the thing that fails
        pass
    return f"{name}<?>"


def _extras(kwargs: Mapping[str, Any]) -> str:
    out = []
    if kwargs.get("credential_provider") is not None:
        out.append(f"credential_provider={type(kwargs['credential_provider']).__name__}")
    if kwargs.get("protocol") is not None:
        out.append(f"protocol={kwargs['protocol']}")
    return f" {' '.join(out)}" if out else ""


# --- failing fast and clearly --------------------------------------------------------------------


# redis-py's methods that set a new connection up (HELLO / AUTH / SELECT after the TCP connect).
_HANDSHAKE = frozenset({"on_connect", "on_connect_check_health"})


def _in_handshake(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in _HANDSHAKE:
            return True
        tb = tb.tb_next
    return False


def connection_error(
    client: object, exc: BaseException
) -> ConnectionFailedError | ReplyTimeoutError:
    """The error to raise for a connection problem: where (masked) and what to check.

    A server that accepted the connection but did not answer within ``socket_timeout`` is a
    `ReplyTimeoutError` (a ``redis.exceptions.TimeoutError``), naming the timeout; everything
    else (unreachable, refused, no TCP connection within ``socket_connect_timeout``, credentials,
    TLS) is a `ConnectionFailedError`.
    """
    if isinstance(exc, ConnectionFailedError | ReplyTimeoutError):
        return exc
    text = str(exc)
    kwargs = _connection_kwargs(client)
    if isinstance(exc, redis.exceptions.TimeoutError) and "connecting" not in text.lower():
        timeout = kwargs.get("socket_timeout")
        if _in_handshake(exc):
            what = "did not answer the connection handshake"
            why = (
                "a TLS endpoint spoken to with redis:// instead of rediss:// (or the reverse) "
                "never answers; a busy or paused server does not either. Check the scheme, or pass "
                "a larger socket_timeout"
            )
        else:
            what = "did not answer"
            why = (
                "the command took longer than the client waits (a large load or KNN, a busy or "
                "paused server). Pass a larger socket_timeout"
            )
        return ReplyTimeoutError(
            f"Redis at {describe(client)} {what} within socket_timeout={timeout!r} seconds "
            f"({text}): {why} (ConnectionConfig(socket_timeout=...), or socket_timeout= on your "
            "own client)"
        )
    if isinstance(exc, redis.exceptions.AuthenticationError) or "WRONGPASS" in text:
        hint = "check the username/password (ACL user) or the credential provider"
    elif isinstance(exc, redis.exceptions.TimeoutError):
        hint = (
            "no connection within socket_connect_timeout="
            f"{kwargs.get('socket_connect_timeout')!r} seconds: check host, port and firewall"
        )
    elif "SSL" in text or "certificate" in text:
        hint = "check ssl_ca_certs / ssl_certfile / ssl_keyfile and ssl_cert_reqs"
    elif "refused" in text.lower() or "Connect call failed" in text:
        hint = "connection refused: is the server running and is the URL right?"
    else:
        hint = "is the server reachable and is the URL right?"
    return ConnectionFailedError(f"cannot use Redis at {describe(client)}: {text} ({hint})")


_CONN_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def ping(client: SyncClient) -> None:
    """Round-trip once; on failure raise `ConnectionFailedError` (or `ReplyTimeoutError`) naming
    the masked endpoint."""
    try:
        client.ping()
    except _CONN_ERRORS as exc:
        raise connection_error(client, exc) from exc


async def aping(client: AsyncClient) -> None:
    """Async `ping`."""
    try:
        await client.ping()
    except _CONN_ERRORS as exc:
        raise connection_error(client, exc) from exc


# --- the pair a store uses -----------------------------------------------------------------------


class Connections:
    """The sync and async clients of one store, created lazily.

    Give a URL (plus `ConnectionConfig` options), a `ConnectionConfig`, or existing clients. A given
    client is used as is (its protocol is kept); a missing flavour becomes its twin. Only clients
    created here are closed by `close` / `aclose`.

    An asyncio client is tied to the event loop its connections were opened in: used from another
    loop (each ``asyncio.run`` makes a new one) it fails with "Event loop is closed" or "attached
    to a different loop". So `async_` hands each running loop its own client: the given async
    client in the first loop that uses it, elsewhere a twin with the same settings, made and
    owned here. A client whose loop has closed is dropped (a closed loop can no longer run the
    coroutine that would close it; its sockets close when it is collected).
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        config: ConnectionConfig | None = None,
        **options: Any,
    ) -> None:
        given = [n for n, v in (("redis_url", redis_url), ("config", config)) if v is not None]
        if (redis_client is not None or async_client is not None) and (given or options):
            raise ValueError(
                f"pass either existing clients or {' / '.join(given or ['options'])}, not both: "
                "a given client already fixes where and how to connect"
            )
        if config is not None and (redis_url is not None or options):
            raise ValueError("pass either config= or redis_url=/options, not both")
        for c in (redis_client, async_client):
            if c is not None:
                check_client(c)
        if config is None and redis_client is None and async_client is None:
            valid = {f.name for f in fields(ConnectionConfig)}
            unknown = sorted(set(options) - valid)
            if unknown:
                raise ValueError(
                    f"unknown connection option(s) {unknown}; valid options: {sorted(valid)}"
                )
            config = ConnectionConfig(url=redis_url, **options)
        self.config = config
        self._sync = redis_client
        self._given_async = async_client
        # One async client per event loop that used this; (loop, client) of the loop that used it
        # last, as one value so that threads with loops of their own never see half of it; and a
        # client no loop has used yet (the given one, or one made outside a loop).
        self._by_loop: dict[asyncio.AbstractEventLoop, AsyncClient] = {}
        self._current: tuple[asyncio.AbstractEventLoop, AsyncClient] | None = None
        self._unbound: AsyncClient | None = async_client
        self._owned: list[object] = []

    @property
    def sync(self) -> SyncClient:
        if self._sync is None:
            if self.config is not None:
                self._sync = self.config.sync_client()
            else:
                assert self._given_async is not None
                self._sync = sync_twin(self._given_async)
            self._owned.append(self._sync)
        return self._sync

    @property
    def async_(self) -> AsyncClient:
        """The async client for the running event loop (outside one: that of the last loop, if it
        is still open, else one the next loop to use it will claim)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        current = self._current
        if current is not None and (
            loop is current[0] or (loop is None and not current[0].is_closed())
        ):
            return current[1]
        return self._async_for(loop)

    def _async_for(self, loop: asyncio.AbstractEventLoop | None) -> AsyncClient:
        for old, dead in list(self._by_loop.items()):  # a copy: other threads may add loops
            if old.is_closed() and self._by_loop.pop(old, None) is not None:
                self._forget(dead)
        if loop is None:  # outside a loop: one that the next loop to use it will claim
            if self._unbound is None:
                self._unbound = self._new_async()
            return self._unbound
        found = self._by_loop.get(loop)
        if found is None:
            found = self._unbound if self._unbound is not None else self._new_async()
            self._unbound = None
            self._by_loop[loop] = found
        self._current = (loop, found)
        return found

    def _new_async(self) -> AsyncClient:
        client: AsyncClient
        if self.config is not None:
            client = self.config.async_client()
        elif self._given_async is not None:
            client = _twin(self._given_async, _ASYNC, _ASYNC, {})
        else:
            assert self._sync is not None
            client = async_twin(self._sync)
        self._owned.append(client)
        return client

    def _forget(self, client: AsyncClient) -> None:
        with contextlib.suppress(ValueError):  # not ours, or already forgotten
            self._owned.remove(client)
        if self._current is not None and self._current[1] is client:
            self._current = None

    def close(self) -> None:
        """Close the sync client if it was created here (async ones need `aclose`)."""
        if self._sync is not None and self._sync in self._owned:
            self._sync.close()
            self._owned.remove(self._sync)
            self._sync = None

    async def aclose(self) -> None:
        """Close the clients created here that this loop can close: the sync one, the running
        loop's async one, and one made outside a loop. Another live loop's client is closed by
        `aclose` in that loop."""
        self.close()
        loop = asyncio.get_running_loop()
        for client in (self._by_loop.get(loop), self._unbound):
            if client is not None and client in self._owned:
                await client.aclose()
                self._forget(client)
                if self._by_loop.get(loop) is client:
                    del self._by_loop[loop]
                if self._unbound is client:
                    self._unbound = None

    def __repr__(self) -> str:
        if self.config is not None:
            return f"Connections({mask_url(self.config.effective_url)})"
        client = self._sync if self._sync is not None else self._given_async
        return f"Connections({describe(client)})"


def clients_from(
    redis_url: str | None = None,
    redis_client: SyncClient | None = None,
    async_client: AsyncClient | None = None,
    config: ConnectionConfig | None = None,
    **options: Any,
) -> Connections:
    """`Connections` from whatever the user gave (see there)."""
    return Connections(
        redis_url, redis_client=redis_client, async_client=async_client, config=config, **options
    )


def check_client(client: object) -> None:
    """Refuse a client whose settings would corrupt what redisvec writes or reads.

    - ``decode_responses=True``: vectors are binary and would not survive decoding.
    - an ``encoding`` other than strict UTF-8: redisvec reads every reply as UTF-8, and the server's
      text tokenizer and its JSON module read UTF-8 too, so text written as Latin-1 would be
      tokenized wrongly and read back garbled. Refusing it here is the one behaviour that holds on
      every redis-py version (how a client packs such text is redis-py's own business).
    """
    kwargs = _connection_kwargs(client)
    if kwargs.get("decode_responses"):
        raise ValueError(
            f"{describe(client)} has decode_responses=True; redisvec stores binary vectors and "
            "needs decode_responses=False: build the client without it"
        )
    encoding = str(kwargs.get("encoding", "utf-8"))
    errors = str(kwargs.get("encoding_errors", "strict"))
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8 or errors != "strict":
        raise ValueError(
            f"{describe(client)} has encoding={encoding!r}, encoding_errors={errors!r}; redisvec "
            "reads and writes text as UTF-8 (so do the server's tokenizer and JSON module): build "
            "the client with the defaults (encoding='utf-8', encoding_errors='strict')"
        )


def _connection_kwargs(client: object) -> Mapping[str, Any]:
    getter = getattr(client, "get_connection_kwargs", None)
    kwargs = getter() if callable(getter) else getattr(client, "connection_pool", None)
    if kwargs is not None and not isinstance(kwargs, Mapping):
        kwargs = getattr(kwargs, "connection_kwargs", {})
    return kwargs or {}

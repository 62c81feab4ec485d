"""Connection layer without a server: secrets never leak, twins keep every setting that matters."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aredis
import redis.asyncio.retry as aretry
import redis.retry as sretry
from redis.backoff import ExponentialWithJitterBackoff
from redis.credentials import CredentialProvider

from redisvec.connection import (
    ConnectionConfig,
    ConnectionFailedError,
    Connections,
    async_twin,
    connection_error,
    describe,
    mask_url,
    sync_twin,
)

SECRET = "s3cr3t-P@ss"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.tokenpayload"


class TokenProvider(CredentialProvider):
    """Like Entra ID's provider: returns a short-lived token as the password."""

    def get_credentials(self) -> tuple[str, str]:
        return ("oid-1234", TOKEN)

    def __repr__(self) -> str:  # a careless provider that shows its token
        return f"TokenProvider(token={TOKEN!r})"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rediss://alice:pw@host:6380/0", "rediss://alice:****@host:6380/0"),
        ("redis://:pw@host:6379", "redis://:****@host:6379"),
        ("rediss://TOKENONLY@host:6380", "rediss://****@host:6380"),
        ("redis://host:6379/2", "redis://host:6379/2"),
        (
            "rediss://host:6380/0?password=pw&ssl_cert_reqs=none&ssl_password=pw",
            "rediss://host:6380/0?password=****&ssl_cert_reqs=none&ssl_password=****",
        ),
        ("redis://u:p%40ss%3Aword@host", "redis://u:****@host"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_mask_url_unparseable_still_hides_userinfo() -> None:
    masked = mask_url(f"rediss://u:{SECRET}@[not-an-ipv6/0?password={SECRET}")
    assert SECRET not in masked
    assert "****" in masked


def test_config_repr_hides_password_url_password_and_credential_provider() -> None:
    config = ConnectionConfig(
        url=f"rediss://alice:{SECRET}@host:6380/0?ssl_password={SECRET}",
        password=SECRET,
        credential_provider=TokenProvider(),
    )
    text = repr(config)
    assert SECRET not in text and TOKEN not in text
    assert "alice:****@host:6380" in text
    assert "password='****'" in text
    assert "credential_provider=<TokenProvider>" in text
    assert str(config) == text


def test_describe_hides_secrets_sync_async_and_provider() -> None:
    sync = redis.Redis.from_url(f"rediss://alice:{SECRET}@db.example:6380/3")
    assert describe(sync) == "Redis<rediss://alice:****@db.example:6380/3>"
    asy = aredis.Redis(host="h", port=1, credential_provider=TokenProvider(), protocol=2)
    text = describe(asy)
    assert TOKEN not in text
    assert text == "Redis<redis://h:1/0 credential_provider=TokenProvider protocol=2>"
    assert describe(object()) == "object<?>"


def test_connection_error_names_masked_endpoint_and_hint() -> None:
    client = redis.Redis.from_url(f"redis://bob:{SECRET}@127.0.0.1:1/0")
    err = connection_error(client, redis.exceptions.AuthenticationError("WRONGPASS invalid"))
    assert isinstance(err, ConnectionFailedError)
    assert isinstance(err, redis.exceptions.ConnectionError)  # existing except clauses still work
    assert SECRET not in str(err)
    assert "redis://bob:****@127.0.0.1:1/0" in str(err)
    assert "username/password" in str(err)
    timeout = connection_error(client, redis.exceptions.TimeoutError("Timeout connecting"))
    assert isinstance(timeout, ConnectionFailedError)  # no TCP connection: not a slow reply
    assert "socket_connect_timeout" in str(timeout) and "firewall" in str(timeout)


def _tls_client(**extra: object) -> redis.Redis:
    return redis.Redis.from_url(
        f"rediss://alice:{SECRET}@db.example:6380/2?ssl_cert_reqs=optional",
        ssl_ca_certs="/certs/ca.pem",
        ssl_certfile="/certs/client.pem",
        ssl_keyfile="/certs/client.key",
        ssl_check_hostname=False,
        socket_timeout=7.5,
        socket_connect_timeout=1.5,
        health_check_interval=12,
        client_name="app",
        protocol=2,
        retry=sretry.Retry(ExponentialWithJitterBackoff(cap=3, base=0.2), 6),
        **extra,
    )


# Settings a twin must keep, by connection_kwargs key.
KEPT = (
    "host",
    "port",
    "db",
    "username",
    "password",
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_cert_reqs",
    "ssl_check_hostname",
    "socket_timeout",
    "socket_connect_timeout",
    "health_check_interval",
    "client_name",
    "protocol",
    "decode_responses",
)


def test_url_parsing_of_rediss_options() -> None:
    kwargs = _tls_client().connection_pool.connection_kwargs
    assert kwargs["ssl_cert_reqs"] == "optional"
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("db.example", 6380, 2)
    assert (kwargs["username"], kwargs["password"]) == ("alice", SECRET)


def test_async_twin_keeps_tls_credentials_timeouts_retry_protocol() -> None:
    sync = _tls_client()
    twin = async_twin(sync)
    assert isinstance(twin, aredis.Redis)
    assert twin.connection_pool.connection_class is aredis.SSLConnection
    src, dst = sync.connection_pool.connection_kwargs, twin.connection_pool.connection_kwargs
    assert {k: dst.get(k) for k in KEPT} == {k: src.get(k) for k in KEPT}
    retry = dst["retry"]
    assert isinstance(retry, aretry.Retry)
    assert retry.get_retries() == 6
    backoff = (
        retry._backoff
    )  # compared by its settings: backoffs have no __eq__ before redis-py 6.4
    assert type(backoff) is ExponentialWithJitterBackoff
    assert (backoff._cap, backoff._base) == (3, 0.2)
    # The connection object the pool would create really is TLS with these files.
    conn = twin.connection_pool.make_connection()
    assert isinstance(conn, aredis.SSLConnection)
    assert conn.ssl_context.ca_certs == "/certs/ca.pem"
    assert conn.ssl_context.certfile == "/certs/client.pem"


def test_sync_twin_of_async_keeps_everything_and_round_trips() -> None:
    original = _tls_client()
    back = sync_twin(async_twin(original))
    assert isinstance(back, redis.Redis)
    assert back.connection_pool.connection_class is redis.SSLConnection
    src, dst = original.connection_pool.connection_kwargs, back.connection_pool.connection_kwargs
    assert {k: dst.get(k) for k in KEPT} == {k: src.get(k) for k in KEPT}
    assert isinstance(dst["retry"], sretry.Retry) and dst["retry"].get_retries() == 6


def test_twin_keeps_credential_provider_object_and_plain_connection() -> None:
    provider = TokenProvider()
    sync = redis.Redis(host="h", port=7000, credential_provider=provider)
    twin = async_twin(sync)
    assert twin.connection_pool.connection_class is aredis.Connection
    assert twin.connection_pool.connection_kwargs["credential_provider"] is provider


def test_twin_of_unix_socket_client() -> None:
    twin = async_twin(redis.Redis(unix_socket_path="/tmp/redis.sock", db=4))
    assert twin.connection_pool.connection_class is aredis.UnixDomainSocketConnection
    kwargs = twin.connection_pool.connection_kwargs
    assert (kwargs["path"], kwargs["db"]) == ("/tmp/redis.sock", 4)


def test_twin_refuses_to_drop_a_tls_setting_the_other_flavour_lacks() -> None:
    sync = _tls_client(ssl_validate_ocsp=True)  # sync-only in redis-py
    with pytest.raises(ValueError, match="ssl_validate_ocsp=True"):
        async_twin(sync)


def test_twin_overrides() -> None:
    twin = async_twin(redis.Redis(protocol=3), protocol=2)
    assert twin.connection_pool.connection_kwargs["protocol"] == 2


def test_config_builds_matching_clients_with_defaults() -> None:
    config = ConnectionConfig(
        url=f"rediss://alice:{SECRET}@db.example:6380/1?ssl_cert_reqs=required",
        ssl_ca_certs="/certs/ca.pem",
        ssl_check_hostname=True,
    )
    sync, asy = config.sync_client(), config.async_client()
    assert sync.connection_pool.connection_class is redis.SSLConnection
    assert asy.connection_pool.connection_class is aredis.SSLConnection
    src, dst = sync.connection_pool.connection_kwargs, asy.connection_pool.connection_kwargs
    assert {k: dst.get(k) for k in KEPT} == {k: src.get(k) for k in KEPT}
    assert src["decode_responses"] is False and src["protocol"] == 3
    assert src["socket_connect_timeout"] == 5.0 and src["socket_timeout"] == 30.0
    assert src["client_name"] == "redisvec"
    assert (
        src["retry"].get_retries() == asy.connection_pool.connection_kwargs["retry"].get_retries()
    )
    # The twin of the config's sync client equals the config's async client.
    twin = async_twin(sync).connection_pool.connection_kwargs
    assert {k: twin.get(k) for k in KEPT} == {k: dst.get(k) for k in KEPT}


def test_explicit_fields_win_over_the_url() -> None:
    config = ConnectionConfig(
        url="rediss://u:old@h:1/0?ssl_cert_reqs=none", password="new", ssl_cert_reqs="required"
    )
    kwargs = config.sync_client().connection_pool.connection_kwargs
    assert (kwargs["password"], kwargs["ssl_cert_reqs"]) == ("new", "required")


def test_url_query_options_beat_defaults_not_explicit_values() -> None:
    url = "redis://h:1/0?socket_timeout=3&protocol=2"
    kwargs = ConnectionConfig(url=url).sync_client().connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["protocol"]) == (3.0, 2)
    kwargs = (
        ConnectionConfig(url=url, socket_timeout=9.0)
        .sync_client()
        .connection_pool.connection_kwargs
    )
    assert kwargs["socket_timeout"] == 9.0


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"url": "http://h:1"}, "must start with redis://"),
        ({"url": "redis://h:1", "ssl_ca_certs": "/ca.pem"}, "not rediss://"),
        ({"ssl_cert_reqs": "sometimes"}, "ssl_cert_reqs='sometimes'"),
        ({"protocol": 4}, "protocol=4"),
        ({"retries": -1}, "retries=-1"),
    ],
)
def test_config_rejects_bad_input_naming_the_field(options: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ConnectionConfig(**options).sync_client()  # type: ignore[arg-type]


def test_bad_url_error_does_not_echo_the_password() -> None:
    with pytest.raises(ValueError) as info:
        ConnectionConfig(url=f"http://u:{SECRET}@h:1")
    assert SECRET not in str(info.value)


async def test_connections_uses_given_clients_and_twins_the_missing_one() -> None:
    given = redis.Redis(host="h", port=2, protocol=2)
    conns = Connections(redis_client=given)
    assert conns.sync is given
    assert conns.async_.connection_pool.connection_kwargs["protocol"] == 2  # user's choice kept
    assert conns.async_ is conns.async_  # created once
    await conns.aclose()
    assert conns.sync is given  # a given client is never closed or replaced


async def test_connections_from_url_and_options() -> None:
    conns = Connections(f"redis://u:{SECRET}@h:3/0", retries=5, socket_timeout=2.0)
    assert conns.sync.connection_pool.connection_kwargs["retry"].get_retries() == 5
    assert conns.async_.connection_pool.connection_kwargs["socket_timeout"] == 2.0
    assert SECRET not in repr(conns)
    await conns.aclose()


def test_connections_rejects_ambiguous_or_unknown_input() -> None:
    with pytest.raises(ValueError, match="not both"):
        Connections("redis://h:1", redis_client=redis.Redis())
    with pytest.raises(ValueError, match=r"unknown connection option\(s\) \['sockettimeout'\]"):
        Connections("redis://h:1", sockettimeout=3)
    with pytest.raises(ValueError, match="decode_responses=False"):
        Connections(redis_client=redis.Redis(decode_responses=True))
    with pytest.raises(ValueError, match="decode_responses=False"):
        Connections(async_client=aredis.Redis(decode_responses=True))

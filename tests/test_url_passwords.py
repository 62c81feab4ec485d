"""A password that breaks URL parsing never leaks and is refused at construction (issue "Nothing
lost, nothing leaked", item 6).

Azure access keys are base64: pasted into a URL unencoded, a ``/`` ends the host part, so the key
was shown by ``repr`` and the first call raised ``Port could not be cast to integer value as
'<part of the key>'``. No server is needed: every check here happens before any I/O.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from redisvec import ConnectionConfig
from redisvec.connection import Connections, mask_url

# Shaped like an Azure access key: base64 with '/', '+' and '=' in it.
KEY = "Zk9/aB3+xQ/r7Ly2mN0pW8sTq1uVw4c5e6f7g8h9iJk="
PIECES = [p for p in KEY.replace("+", "/").replace("=", "/").split("/") if len(p) >= 3]
HOST = "myredis.westeurope.redis.azure.net:10000"
BROKEN = [
    f"rediss://:{KEY}@{HOST}",
    f"rediss://default:{KEY}@{HOST}",
    f"rediss://{KEY}@{HOST}",  # a lone token
    f"rediss://:{KEY}@{HOST}/0?ssl_cert_reqs=required",
    f"rediss://:ab#{KEY}@{HOST}",
    f"rediss://:ab?{KEY}@{HOST}",
    f"unix://:{KEY}@/tmp/redis.sock?db=0",
]


def _leaks(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


@pytest.mark.parametrize("url", BROKEN)
def test_mask_url_hides_every_piece_of_an_unencoded_key(url: str) -> None:
    masked = mask_url(url)
    assert _leaks(masked) == []
    assert "****@" in masked
    assert masked.endswith(url.rpartition("@")[2])  # the endpoint stays readable


@pytest.mark.parametrize("url", BROKEN)
def test_an_unencoded_key_is_refused_at_construction_with_the_fix(url: str) -> None:
    with pytest.raises(ValueError, match="does not parse") as info:
        ConnectionConfig(url=url)
    text = str(info.value)
    assert _leaks(text) == []
    assert "urllib.parse.quote(password, safe='')" in text and "password=" in text
    with pytest.raises(ValueError) as again:  # every entry point that takes a URL
        Connections(url)
    assert _leaks(str(again.value)) == []


def test_a_non_numeric_port_is_refused_at_construction_without_the_key() -> None:
    # A key containing ':' but no '/': the part after it was read as the port.
    url = "rediss://:abc:secretkeypart@host:10000"
    config = ConnectionConfig(url=url)  # parses: the password is "abc:secretkeypart"
    assert "secretkeypart" not in repr(config)
    with pytest.raises(ValueError, match="read as the host or the port") as info:
        ConnectionConfig(url="redis://host:secretport")
    assert "URL-encode" in str(info.value)


def test_the_two_documented_fixes_give_the_key_unchanged() -> None:
    encoded = ConnectionConfig(url=f"rediss://:{quote(KEY, safe='')}@{HOST}")
    assert encoded._kwargs()["password"] == KEY
    assert encoded._kwargs()["host"] == HOST.split(":")[0]
    assert encoded._kwargs()["port"] == 10000
    separate = ConnectionConfig(url=f"rediss://{HOST}", password=KEY)
    assert separate._kwargs()["password"] == KEY
    for config in (encoded, separate):
        assert _leaks(repr(config)) == [] and _leaks(str(config)) == []
        assert _leaks(repr(Connections(config=config))) == []
    # password= also passes through the stores' connection options.
    assert Connections(f"rediss://{HOST}", password=KEY).config is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://h:6379/0?client_name=me@x", "redis://h:6379/0?client_name=me@x"),
        ("redis://u:pw@h:6379/0?client_name=me@x", "redis://u:****@h:6379/0?client_name=me@x"),
        ("unix:///tmp/a@b.sock", "unix:///tmp/a@b.sock"),
    ],
)
def test_an_at_sign_outside_the_user_information_is_not_a_password(url: str, expected: str) -> None:
    assert mask_url(url) == expected
    ConnectionConfig(url=url)  # and such a URL is accepted

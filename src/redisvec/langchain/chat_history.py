"""`RedisChatMessageHistory`: a LangChain ``BaseChatMessageHistory`` on the core's
`redisvec.messages.MessageStore` (one HASH per message, ordered by the server, optional TTL).

Beyond the interface: `sessions` lists the session ids of the store, `search_messages` finds past
messages by their words (in this session or in all), ``last=`` reads only the latest messages.
Messages round-trip through ``message_to_dict`` / ``messages_from_dict``, so every message type
(tool calls, additional kwargs, ids) comes back as it was added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from redisvec.connection import AsyncClient, ConnectionConfig, SyncClient, clients_from
from redisvec.messages import MessageStore, StoredMessage

__all__ = ["RedisChatMessageHistory"]


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
    )


def _encode(messages: Sequence[BaseMessage]) -> list[tuple[str, str, str]]:
    out = []
    for m in messages:
        if not isinstance(m, BaseMessage):
            raise TypeError(f"expected LangChain messages, got {type(m).__name__} {m!r}")
        out.append((m.type, _text(m), json.dumps(message_to_dict(m), ensure_ascii=False)))
    return out


def _decode(stored: Sequence[StoredMessage]) -> list[BaseMessage]:
    return messages_from_dict([json.loads(m.payload) for m in stored])


class RedisChatMessageHistory(BaseChatMessageHistory):
    """The messages of one chat session (``session_id``) in Redis.

    >>> history = RedisChatMessageHistory("user-42", redis_url=url, ttl=3600)  # doctest: +SKIP
    >>> history.add_messages([HumanMessage("hi"), AIMessage("hello")])          # doctest: +SKIP

    All sessions share one index (``index_name``, keys under ``key_prefix``, default
    ``<index_name>:``). Connect with ``redis_url`` (plus `ConnectionConfig` options),
    ``connection=``, or clients; ``store=`` shares one `MessageStore` (and its connections)
    between the histories of many sessions.
    """

    def __init__(
        self,
        session_id: str,
        *,
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        index_name: str = "chat_history",
        key_prefix: str | None = None,
        ttl: int | None = None,
        store: MessageStore | None = None,
        **connection_options: Any,
    ) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError(f"session_id must be a non-empty string, got {session_id!r}")
        self.session_id = session_id
        if store is None:
            connections = clients_from(
                redis_url,
                redis_client=redis_client,
                async_client=async_client,
                config=connection,
                **connection_options,
            )
            store = MessageStore(connections, name=index_name, key_prefix=key_prefix, ttl=ttl)
        self.store = store

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message of the session, oldest first."""
        return _decode(self.store.read(self.session_id))

    def get_messages(self, *, last: int | None = None) -> list[BaseMessage]:
        """The session's messages, oldest first; only the ``last`` n when given."""
        return _decode(self.store.read(self.session_id, last=last))

    async def aget_messages(self, *, last: int | None = None) -> list[BaseMessage]:
        return _decode(await self.store.aread(self.session_id, last=last))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        self.store.append(self.session_id, _encode(messages))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        await self.store.aappend(self.session_id, _encode(messages))

    def clear(self) -> None:
        self.store.delete(self.session_id)

    async def aclear(self) -> None:
        await self.store.adelete(self.session_id)

    def sessions(self) -> list[str]:
        """Every session id in this history's index (sorted)."""
        return self.store.sessions()

    async def asessions(self) -> list[str]:
        return await self.store.asessions()

    def search_messages(
        self, query: str, *, k: int = 10, all_sessions: bool = False
    ) -> list[BaseMessage]:
        """Past messages containing words of ``query`` (best match first), of this session
        unless ``all_sessions``."""
        session = None if all_sessions else self.session_id
        return _decode(self.store.search(query, session=session, k=k))

    async def asearch_messages(
        self, query: str, *, k: int = 10, all_sessions: bool = False
    ) -> list[BaseMessage]:
        session = None if all_sessions else self.session_id
        return _decode(await self.store.asearch(query, session=session, k=k))

    def close(self) -> None:
        self.store.connections.close()

    async def aclose(self) -> None:
        await self.store.connections.aclose()

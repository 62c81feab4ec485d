"""`RedisChatStore`: a LlamaIndex ``BaseChatStore`` on the core's `redisvec.messages.MessageStore`
(the store LangChain's `redisvec.langchain.RedisChatMessageHistory` uses: one HASH per message,
ordered by the server, optional TTL, cluster-safe keys). A chat store's "key" is a session.

Messages round-trip through ``ChatMessage.model_dump_json`` / ``model_validate_json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms import ChatMessage
from llama_index.core.storage.chat_store.base import BaseChatStore

from redisvec.connection import AsyncClient, ConnectionConfig, SyncClient, clients_from
from redisvec.messages import MessageStore, StoredMessage

__all__ = ["RedisChatStore"]


def _encode(messages: Sequence[ChatMessage]) -> list[tuple[str, str, str]]:
    out = []
    for m in messages:
        if not isinstance(m, ChatMessage):
            raise TypeError(f"expected llama_index ChatMessage, got {type(m).__name__} {m!r}")
        out.append((str(m.role.value), m.content or "", m.model_dump_json()))
    return out


def _decode(stored: Sequence[StoredMessage]) -> list[ChatMessage]:
    return [ChatMessage.model_validate_json(m.payload) for m in stored]


def _victim(stored: list[StoredMessage], idx: int) -> StoredMessage | None:
    """The message at ``idx`` (negative counts from the end); None out of range, as
    llama-index-core's SimpleChatStore answers."""
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise TypeError(f"a message index must be an int, got {idx!r}")
    return stored[idx] if -len(stored) <= idx < len(stored) else None


class RedisChatStore(BaseChatStore):
    """LlamaIndex chat store on Redis: ``RedisChatStore(redis_url=..., ttl=3600)``.

    All keys share one index (``index_name``, keys under ``key_prefix``, default
    ``<index_name>:``). Connect with ``redis_url`` (plus `ConnectionConfig` options),
    ``connection=``, or clients. Sync and async methods are native twins.
    """

    ttl: int | None = None
    index_name: str = "chat_store"
    _store: MessageStore = PrivateAttr()

    def __init__(
        self,
        *,
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        index_name: str = "chat_store",
        key_prefix: str | None = None,
        ttl: int | None = None,
        **connection_options: Any,
    ) -> None:
        settings: dict[str, Any] = {"ttl": ttl, "index_name": index_name}
        super().__init__(**settings)
        connections = clients_from(
            redis_url,
            redis_client=redis_client,
            async_client=async_client,
            config=connection,
            **connection_options,
        )
        self._store = MessageStore(connections, name=index_name, key_prefix=key_prefix, ttl=ttl)

    @classmethod
    def class_name(cls) -> str:
        return "RedisvecChatStore"

    @property
    def store(self) -> MessageStore:
        return self._store

    # -- sync ------------------------------------------------------------------------------------

    def set_messages(self, key: str, messages: list[ChatMessage]) -> None:
        """Replace the chat's messages (the new ones are checked before the old are deleted)."""
        encoded = _encode(messages)
        self._store.delete(key)
        self._store.append(key, encoded)

    def get_messages(self, key: str) -> list[ChatMessage]:
        return _decode(self._store.read(key))

    def add_message(self, key: str, message: ChatMessage, idx: int | None = None) -> None:
        if idx is None:
            self._store.append(key, _encode([message]))
            return
        messages = self.get_messages(key)
        messages.insert(idx, message)
        self.set_messages(key, messages)

    def delete_messages(self, key: str) -> list[ChatMessage] | None:
        messages = self.get_messages(key)
        self._store.delete(key)
        return messages or None

    def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        victim = _victim(self._store.read(key), idx)
        if victim is None:
            return None
        self._store.delete(key, [victim.id])
        return _decode([victim])[0]

    def delete_last_message(self, key: str) -> ChatMessage | None:
        stored = self._store.read(key, last=1)
        if not stored:
            return None
        self._store.delete(key, [stored[0].id])
        return _decode(stored)[0]

    def get_keys(self) -> list[str]:
        return self._store.sessions()

    # -- async -----------------------------------------------------------------------------------

    async def aset_messages(self, key: str, messages: list[ChatMessage]) -> None:
        encoded = _encode(messages)
        await self._store.adelete(key)
        await self._store.aappend(key, encoded)

    async def aget_messages(self, key: str) -> list[ChatMessage]:
        return _decode(await self._store.aread(key))

    async def async_add_message(
        self, key: str, message: ChatMessage, idx: int | None = None
    ) -> None:
        if idx is None:
            await self._store.aappend(key, _encode([message]))
            return
        messages = await self.aget_messages(key)
        messages.insert(idx, message)
        await self.aset_messages(key, messages)

    async def adelete_messages(self, key: str) -> list[ChatMessage] | None:
        messages = await self.aget_messages(key)
        await self._store.adelete(key)
        return messages or None

    async def adelete_message(self, key: str, idx: int) -> ChatMessage | None:
        victim = _victim(await self._store.aread(key), idx)
        if victim is None:
            return None
        await self._store.adelete(key, [victim.id])
        return _decode([victim])[0]

    async def adelete_last_message(self, key: str) -> ChatMessage | None:
        stored = await self._store.aread(key, last=1)
        if not stored:
            return None
        await self._store.adelete(key, [stored[0].id])
        return _decode(stored)[0]

    async def aget_keys(self) -> list[str]:
        return await self._store.asessions()

    def close(self) -> None:
        self._store.connections.close()

    async def aclose(self) -> None:
        await self._store.connections.aclose()

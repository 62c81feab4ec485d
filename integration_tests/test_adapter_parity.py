"""The two adapters speak one constructor vocabulary (docs/adapters.md): ``overwrite``,
``connection_options``, ``from_existing_index`` / ``afrom_existing_index`` with ``text_field``,
``index_schema``. Each behaviour is checked on both adapters against the real server."""

from __future__ import annotations

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from llama_index.core.schema import TextNode

from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore

DIMS = 4
VECTORS = np.eye(DIMS).tolist()
TEXTS = [f"text {i}" for i in range(DIMS)]


def _lc(url: str, index: str, **kwargs: object) -> LangChainStore:
    emb = TableEmbeddings(dict(zip(TEXTS, VECTORS, strict=True)))
    return LangChainStore(emb, index_name=index, redis_url=url, **kwargs)  # type: ignore[arg-type]


def _llama(url: str, index: str, **kwargs: object) -> LlamaStore:
    return LlamaStore(index_name=index, redis_url=url, **kwargs)  # type: ignore[arg-type]


def _fill_lc(store: LangChainStore) -> None:
    store.add_texts(TEXTS, ids=[str(i) for i in range(DIMS)])


def _fill_llama(store: LlamaStore) -> None:
    store.add(
        [TextNode(id_=str(i), text=t, embedding=v) for i, (t, v) in enumerate(zip(TEXTS, VECTORS))]
    )


def _count(client: redis.Redis, prefix: str) -> int:
    return sum(1 for _ in client.scan_iter(match=f"{prefix}*"))


@pytest.mark.parametrize("adapter", ["langchain", "llama_index"])
def test_overwrite_drops_the_existing_index_and_its_documents(
    adapter: str, redis_url: str, names, client: redis.Redis
) -> None:
    make, fill = (_lc, _fill_lc) if adapter == "langchain" else (_llama, _fill_llama)
    first = make(redis_url, names.index, key_prefix=names.prefix)
    fill(first)
    assert _count(client, names.prefix) == DIMS
    first.close()
    again = make(redis_url, names.index, key_prefix=names.prefix, overwrite=True)
    if adapter == "langchain":
        again.add_texts([TEXTS[0]], ids=["new"])
    else:
        again.add([TextNode(id_="new", text=TEXTS[0], embedding=VECTORS[0])])
    keys = sorted(k.decode() for k in client.scan_iter(match=f"{names.prefix}*"))
    assert keys == [f"{names.prefix}new"]
    again.close()


@pytest.mark.parametrize("adapter", ["langchain", "llama_index"])
def test_connection_options_reach_the_client(adapter: str, redis_url: str, names) -> None:
    make = _lc if adapter == "langchain" else _llama
    store = make(redis_url, names.index, connection_options={"socket_timeout": 7.5})
    client = store._managed.connections.sync
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 7.5
    store.close()


@pytest.mark.parametrize("adapter", ["langchain", "llama_index"])
async def test_afrom_existing_index_with_text_field(adapter: str, redis_url: str, names) -> None:
    if adapter == "langchain":
        store = _lc(redis_url, names.index)
        _fill_lc(store)
        emb = TableEmbeddings(dict(zip(TEXTS, VECTORS, strict=True)))
        opened = await LangChainStore.afrom_existing_index(
            emb, index_name=names.index, redis_url=redis_url, text_field="text"
        )
        got = await opened.asimilarity_search(TEXTS[2], k=1)
        assert [(d.id, d.page_content) for d in got] == [("2", TEXTS[2])]
    else:
        store = _llama(redis_url, names.index)
        _fill_llama(store)
        opened = await LlamaStore.afrom_existing_index(
            index_name=names.index, redis_url=redis_url, text_field="text"
        )
        nodes = await opened.aget_nodes(node_ids=["2"])
        assert [(n.node_id, n.get_content()) for n in nodes] == [("2", TEXTS[2])]
    assert opened.index_schema is not None and opened.index_schema.name == names.index
    store.close()
    await opened.aclose()


@pytest.mark.parametrize("adapter", ["langchain", "llama_index"])
def test_unknown_keywords_are_refused_by_both(adapter: str, redis_url: str, names) -> None:
    make = _lc if adapter == "langchain" else _llama
    with pytest.raises(TypeError, match=r"unexpected keyword.*'colour'"):
        make(redis_url, names.index, colour="blue")
    with pytest.raises(TypeError, match="colour"):
        if adapter == "langchain":
            emb = TableEmbeddings({})
            LangChainStore.from_existing_index(
                emb, index_name=names.index, redis_url=redis_url, colour="blue"
            )
        else:
            LlamaStore.from_existing_index(
                index_name=names.index, redis_url=redis_url, colour="blue"
            )


def test_langchain_schema_property_is_a_deprecated_alias(redis_url: str, names) -> None:
    store = _lc(redis_url, names.index)
    _fill_lc(store)
    with pytest.warns(DeprecationWarning, match="index_schema"):
        old = store.schema
    assert old is store.index_schema and old is not None
    store.close()

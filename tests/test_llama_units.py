"""Unit tests of the LlamaIndex adapter's pure parts: filter translation, node codec, fusion,
constructor validation. No server: the store connects lazily."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from llama_index.core.schema import (
    BaseNode,
    Document,
    IndexNode,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from redisvec.errors import FilterError, SchemaError
from redisvec.fusion import fuse_scores
from redisvec.layout import DocumentLayout, StoredDocument, metadata_fields
from redisvec.llama_index import RedisVectorStore
from redisvec.llama_index.filters import NOTHING, OPERATORS_BY_TYPE, to_filter_expression
from redisvec.llama_index.nodes import node_parts, to_node
from redisvec.memo import LlamaFilterKey
from redisvec.schema import IndexSchema

Op = FilterOperator
F = MetadataFilter
SCHEMA = DocumentLayout(
    indexed=tuple(
        metadata_fields(
            [
                {"name": "color", "type": "tag"},
                {"name": "n", "type": "numeric"},
                {"name": "body", "type": "text"},
                {"name": "loc", "type": "geo"},
            ]
        )
    )
).build_schema(index_name="idx", dims=3)


def render(*filters: object, condition: FilterCondition = FilterCondition.AND) -> object:
    where = to_filter_expression(
        MetadataFilters(filters=list(filters), condition=condition),  # type: ignore[arg-type]
        SCHEMA,
        aliases={"ref_doc_id": "doc_id"},
    )
    return where if where is None or where is NOTHING else where.render(SCHEMA.field_types)  # type: ignore[union-attr]


def test_every_operator_has_a_field_type() -> None:
    covered = set().union(*OPERATORS_BY_TYPE.values())
    assert covered == set(FilterOperator)


def test_renderings() -> None:
    assert render(F(key="color", value="a,b")) == r"@color:{a\,b}"
    assert render(F(key="n", value=3, operator=Op.GT)) == "@n:[(3 +inf]"
    assert (
        render(F(key="body", value="Hello, World", operator=Op.TEXT_MATCH))
        == '@body:("Hello" "World")'
    )
    assert render(F(key="loc", value=None, operator=Op.IS_EMPTY)) == "ismissing(@loc)"
    assert render(F(key="ref_doc_id", value="d1")) == "@doc_id:{d1}"
    assert render(
        F(key="color", value="x"), F(key="n", value=1), condition=FilterCondition.NOT
    ) == ("-(@color:{x} | @n:[1 1])")


def test_nested_and_degenerate_groups() -> None:
    inner = MetadataFilters(
        filters=[F(key="n", value=1), F(key="n", value=2)], condition=FilterCondition.OR
    )
    assert render(F(key="color", value="x"), inner) == "(@color:{x} (@n:[1 1] | @n:[2 2]))"
    assert render() is None
    assert render(F(key="n", value=[], operator=Op.IN)) is NOTHING
    assert render(F(key="n", value=[], operator=Op.NIN)) is None
    assert render(F(key="color", value=[], operator=Op.ALL)) is None
    everything = MetadataFilters(filters=[F(key="color", value=[], operator=Op.ALL)])
    assert render(everything, condition=FilterCondition.NOT) is NOTHING
    nothing = MetadataFilters(filters=[F(key="n", value=[], operator=Op.IN)])
    assert render(nothing, condition=FilterCondition.NOT) is None
    assert render(nothing, F(key="n", value=1), condition=FilterCondition.OR) == "@n:[1 1]"
    assert render(nothing, F(key="n", value=1)) is NOTHING


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (
            F(key="author", value="x"),
            r"'author'.*not indexed.*\['body', 'color', 'doc_id', 'loc', 'n', 'text'\]",
        ),
        (F(key="color", value=1, operator=Op.LT), "LT does not apply to tag field 'color'"),
        (F(key="n", value="x", operator=Op.CONTAINS), "CONTAINS does not apply to numeric"),
        (F(key="body", value="x"), "EQ does not apply to text field 'body'.*TEXT_MATCH"),
        (F(key="loc", value="x"), "EQ does not apply to geo"),
        (F(key="body", value="...", operator=Op.TEXT_MATCH), "no words"),
        (F(key="n", value=["1", "a"], operator=Op.IN), "compares numbers"),
    ],
)
def test_errors(flt: MetadataFilter, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        render(flt)


def test_a_bare_metadata_filter_is_a_group_of_one() -> None:
    one = F(key="n", value=2, operator=Op.GTE)
    assert to_filter_expression(one, SCHEMA).render() == "@n:[2 +inf]"  # type: ignore[union-attr]
    assert to_filter_expression(F(key="n", value=[], operator=Op.IN), SCHEMA) is NOTHING
    with pytest.raises(FilterError, match=r"must be MetadataFilters.*got dict"):
        to_filter_expression({"n": 2}, SCHEMA)  # type: ignore[arg-type]
    with pytest.raises(FilterError, match=r"holds MetadataFilter or MetadataFilters.*got str"):
        to_filter_expression(MetadataFilters.model_construct(filters=["n"]), SCHEMA)


def test_node_codec_round_trip_keeps_metadata_out_of_node_json() -> None:
    node = TextNode(
        id_="n1",
        text="hello",
        metadata={"a": [1, {"b": None}], "c": True},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="d")},
        start_char_idx=1,
    )
    text, metadata, ref, node_json = node_parts(node)
    assert (text, metadata, ref) == ("hello", node.metadata, "d")
    assert '"a"' not in node_json and "hello" not in node_json
    back = to_node(StoredDocument(id="n1", text=text, metadata=metadata, node=node_json))
    assert back.model_dump() == node.model_dump()
    for other in (Document(text="doc text", id_="d9"), IndexNode(text="x", index_id="y", id_="i")):
        t, m, _, j = node_parts(other)
        again = to_node(StoredDocument(id=other.node_id, text=t, metadata=m, node=j))
        assert type(again) is type(other) and again.model_dump() == other.model_dump()


def test_foreign_record_becomes_a_text_node() -> None:
    back = to_node(StoredDocument(id="x", text="t", metadata={"k": 1}, doc_id="src"))
    assert isinstance(back, TextNode) and back.ref_doc_id == "src" and back.metadata == {"k": 1}


def test_fusion() -> None:
    vector = [("a", 0.9), ("b", 0.5)]
    text = [("b", 10.0), ("c", 5.0)]
    assert fuse_scores(vector, text, alpha=1.0) == [("a", 0.9), ("b", 0.5), ("c", 0.0)]
    assert fuse_scores(vector, text, alpha=0.0) == [("b", 1.0), ("c", 0.5), ("a", 0.0)]
    fused = dict(fuse_scores(vector, text, alpha=0.5))
    assert fused == pytest.approx({"a": 0.45, "b": 0.75, "c": 0.25})
    assert fuse_scores(vector, text, alpha=0.5, k=1) == [("b", 0.75)]
    with pytest.raises(ValueError, match="alpha"):
        fuse_scores(vector, text, alpha=1.5)


def test_constructor_validates_without_a_server() -> None:
    with pytest.raises(SchemaError, match="distance_metric"):
        RedisVectorStore(
            index_name="x", redis_url="redis://127.0.0.1:1", distance_metric="manhattan"
        )
    with pytest.raises(SchemaError, match="type 'date'"):
        RedisVectorStore(
            index_name="x",
            redis_url="redis://127.0.0.1:1",
            metadata_schema=[{"name": "d", "type": "date"}],
        )
    with pytest.raises(SchemaError, match="collide"):
        RedisVectorStore(
            index_name="x",
            redis_url="redis://127.0.0.1:1",
            metadata_schema=[{"name": "text", "type": "tag"}],
        )
    store = RedisVectorStore(index_name="x", redis_url="redis://127.0.0.1:1")
    assert store.stores_text and store.class_name() == "RedisVectorStore"


def _stored(node: BaseNode) -> StoredDocument:
    text, metadata, ref, node_json = node_parts(node)
    return StoredDocument(id=node.node_id, text=text, metadata=metadata, doc_id=ref, node=node_json)


def test_node_json_leaves_out_what_other_fields_hold() -> None:
    node = TextNode(id_="n7", text="the text", metadata={"m": "meta"}, embedding=[0.25])
    node_json = json.loads(node_parts(node)[3])
    assert not {"text", "metadata", "embedding"} & set(node_json)
    assert node_json["class_name"] == "TextNode" and node_json["id_"] == "n7"


def test_nodes_read_back_equal_and_independent() -> None:
    """TextNodes without relationships share one node JSON, so they are rebuilt as copies of one
    template: each must equal its original and share nothing mutable with another."""
    originals = [
        TextNode(id_=f"n{i}", text=f"text {i}", metadata={"i": i, "l": [i]}, start_char_idx=3)
        for i in range(3)
    ]
    back = [to_node(_stored(n)) for n in originals] + [to_node(_stored(originals[0]))]
    for original, node in zip([*originals, originals[0]], back, strict=True):
        assert type(node) is TextNode and node.model_dump() == original.model_dump()
        assert node.model_fields_set >= {"id_", "text", "metadata", "start_char_idx"}
    first, again = back[0], back[3]
    assert first is not again
    first.excluded_llm_metadata_keys.append("i")
    first.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id="d")
    first.metadata_template = "changed {key}"
    fresh = to_node(_stored(originals[0]))
    for node in (again, fresh):
        assert node.model_dump() == originals[0].model_dump()
    embedded = to_node(
        StoredDocument(id="n1", text="t", node=node_parts(originals[1])[3], vector=np.ones(2)),
        with_embedding=True,
    )
    assert embedded.embedding == [1.0, 1.0] and embedded.node_id == "n1"


def test_node_json_of_other_writers_still_reads() -> None:
    """JSON with spaces (json.dumps, as earlier versions wrote it), without an id (the record's
    is used), and ids that JSON escapes."""
    node = TextNode(id_="old", text="t", metadata={"k": 1}, excluded_llm_metadata_keys=["k"])
    data = json.loads(node_parts(node)[3])
    spaced = to_node(StoredDocument(id="old", text="t", metadata={"k": 1}, node=json.dumps(data)))
    assert spaced.model_dump() == node.model_dump()
    data.pop("id_")
    no_id = to_node(StoredDocument(id="old", text="t", metadata={"k": 1}, node=json.dumps(data)))
    assert no_id.model_dump() == node.model_dump()
    for odd in ('a"b', "c\\d", "é\x01", "n7"):
        plain = TextNode(id_=odd, text="t")
        assert to_node(_stored(plain)).model_dump() == plain.model_dump()


def _fresh(filters: MetadataFilters, schema: IndexSchema) -> object:
    """The translation without the cache of earlier ones."""
    cache = schema.memo(LlamaFilterKey)
    saved = dict(cache)
    cache.clear()
    try:
        return to_filter_expression(filters, schema, aliases={"ref_doc_id": "doc_id"})
    finally:
        cache.update(saved)


def test_repeated_filters_translate_like_fresh_ones() -> None:
    groups = [
        MetadataFilters(filters=[F(key="n", value=1)]),
        MetadataFilters(filters=[F(key="n", value=1.0)]),
        MetadataFilters(filters=[F(key="n", value="1")]),  # an error, not the int's filter
        MetadataFilters(filters=[F(key="color", value=1)]),
        MetadataFilters(filters=[F(key="color", value="1")]),
        MetadataFilters(filters=[F(key="n", value=[1, 2], operator=Op.IN)]),
        MetadataFilters(filters=[F(key="n", value=[], operator=Op.IN)]),
        MetadataFilters(filters=[ExactMatchFilter(key="ref_doc_id", value="d")]),
        MetadataFilters(
            filters=[F(key="color", value="x"), MetadataFilters(filters=[F(key="n", value=2)])],
            condition=FilterCondition.NOT,
        ),
    ]
    text_color = DocumentLayout(
        indexed=tuple(
            metadata_fields([{"name": "color", "type": "text"}, {"name": "n", "type": "numeric"}])
        )
    ).build_schema(index_name="idx", dims=3)
    for schema in (SCHEMA, text_color, SCHEMA):
        for group in groups * 2:
            try:
                expected = _fresh(group, schema)
            except FilterError as exc:
                with pytest.raises(FilterError, match=re.escape(str(exc))):
                    to_filter_expression(group, schema, aliases={"ref_doc_id": "doc_id"})
                continue
            got = to_filter_expression(group, schema, aliases={"ref_doc_id": "doc_id"})
            assert got == expected or (got is expected)


def test_templates_are_per_node_json() -> None:
    nodes = [
        TextNode(id_="a", text="t", start_char_idx=1),
        TextNode(id_="b", text="t", start_char_idx=2),
        TextNode(id_="c", text="t", metadata_template="{key}={value}"),
        TextNode(id_="d", text="t", mimetype="text/markdown"),
    ]
    for _ in range(2):
        for node in nodes:
            assert to_node(_stored(node)).model_dump() == node.model_dump()


def test_nearest_reads_hits_as_the_generic_path_does() -> None:
    """DEFAULT-mode results are read straight from the hits or rows (`_nearest`): the same nodes,
    similarities and ids as ``to_node(layout.from_hit(hit))``, each node with metadata of its own.
    Hits with and without node JSON (another writer's), with a document id, with metadata that
    is not a JSON object, and without a distance."""
    from redisvec.llama_index.vectorstore import (
        Mode,
        _nearest,
        _parts_of_hits,
        _parts_of_rows,
        _Plan,
    )
    from redisvec.results import Hit, Rows, SearchResult

    layout = DocumentLayout()
    plain = TextNode(id_="a", text="one", metadata={"k": 1, "l": [1, 2]}, start_char_idx=3)
    child = TextNode(id_="b", text="two", metadata={"k": 2})
    child.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id="src")
    hits = []
    for node in (plain, child, plain):
        text, metadata, doc_id, node_json = node_parts(node)
        fields = {"text": text, "metadata": json.dumps(metadata), "node": node_json}
        if doc_id:
            fields["doc_id"] = doc_id
        hits.append(Hit(node.node_id, "llama_index:" + node.node_id, fields, 0.25))
    hits.append(Hit("c", "llama_index:c", {"text": "three", "doc_id": "d"}, 1.5))  # no node JSON
    hits.append(Hit("e", "llama_index:e", {"text": "four", "metadata": "[]"}, None))
    names = layout.row_fields
    assert names is not None
    result = SearchResult(len(hits), hits)
    rows = Rows(len(hits), [(h.id, h.distance, *map(h.fields.get, names)) for h in hits])
    for metric, parts in (
        ("cosine", lambda: _parts_of_hits(layout, result)),
        ("l2", lambda: _parts_of_hits(layout, result)),
        ("cosine", lambda: _parts_of_rows(layout, rows, names)),  # search_rows' hits
        ("l2", lambda: _parts_of_rows(layout, rows, names)),
    ):
        ours = _nearest(_Plan(Mode.DEFAULT, [], 10, layout, metric), parts())
        docs = [layout.from_hit(hit, metric) for hit in hits]
        assert ours.ids == [d.id for d in docs]
        assert ours.similarities == [d.similarity or 0.0 for d in docs]
        assert ours.nodes is not None
        for node, doc in zip(ours.nodes, docs, strict=True):
            expected = to_node(doc)
            assert type(node) is type(expected) and node.model_dump() == expected.model_dump()
        assert ours.nodes[0].metadata == {"k": 1, "l": [1, 2]}
        assert ours.nodes[0].metadata is not ours.nodes[2].metadata
        assert ours.nodes[1].ref_doc_id == "src" and ours.nodes[3].ref_doc_id == "d"
        assert ours.similarities[4] == 0.0

"""Records -> what is written to Redis (a HASH mapping or a JSON document), and back.

A batch is validated and encoded whole *before* any of it is sent, so bad input raises with
nothing of its batch written. Vectors of a batch are encoded with one call per vector field.
`RecordStream` reads any iterable of records a batch at a time, so a load holds a few batches,
not the whole input.

Encoding rules (shared by every writer, so that what is written and what filters query agree):

- vector fields: bytes of the field's datatype (HASH) or a JSON array (JSON);
- tag fields: a value or a list of values; each value as `redisvec.filters.to_tag_text` spells it;
  on HASH a list is joined with the field's separator (a value that contains the separator is
  refused: it would be indexed as two tags);
- numeric fields: numbers (bool as 0/1); geo fields: ``"lon,lat"`` or a ``(lon, lat)`` pair;
- other values: text as is, numbers as their decimal text, lists and dicts as JSON text (HASH);
  on JSON documents they keep their JSON type;
- ``None``: the field is left out (a missing field, which ``is_missing()`` filters can find).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from redisvec.codec import naming_records
from redisvec.errors import SchemaError
from redisvec.filters import to_tag_text
from redisvec.query import codec_for
from redisvec.schema import check_id_list

if TYPE_CHECKING:
    from redisvec.schema import Field, IndexSchema

__all__ = ["PreparedRecord", "RecordStream", "prepare_records"]


@dataclass(slots=True)
class PreparedRecord:
    """One record ready to write: its id, key, and the HASH mapping or JSON document.

    Slots, not frozen: one is built per record written, and a frozen dataclass's ``__init__``
    sets each attribute through ``object.__setattr__``, a cost paid per record (figures:
    ``benchmarks/``)."""

    id: str
    key: str
    payload: dict[str, Any]


def _tag_values(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    return [to_tag_text(v) for v in items]


def _encode_hash_value(fld: Field | None, name: str, value: Any, schema: IndexSchema) -> Any:
    kind = fld.type if fld is not None else None
    if kind == "tag":
        separator = str(getattr(fld, "separator", ","))
        if type(value) is str and separator not in value:
            return value  # the common case, short-cut: what _checked_tags returns for it
        return separator.join(_checked_tags(fld, name, value, schema))
    if kind == "numeric":
        if type(value) is int and -(2**53) < value < 2**53:
            return str(value)  # the common case, short-cut: what _number_text gives for it
        return _number_text(_number(name, value, schema))
    if kind == "geo":
        return _geo(name, value, schema)
    if isinstance(value, (bytes, str)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _checked_tags(fld: Field | None, name: str, value: Any, schema: IndexSchema) -> list[str]:
    """The tag texts of ``value``; one containing the field's separator is refused. The server
    splits on the separator in HASH strings *and* in JSON strings and array elements."""
    separator = getattr(fld, "separator", ",")
    values = _tag_values(value)
    for v in values:
        if separator is not None and separator in v:
            raise SchemaError(
                f"index {schema.name!r}, tag field {name!r}: value {v!r} contains the field's "
                f"separator {separator!r}, so it would be indexed as several tags; pass a list "
                "of values, or create the field with a separator that cannot occur in values "
                "(redisvec's adapters use '\\x1f')"
            )
    return values


def _encode_json_value(fld: Field | None, name: str, value: Any, schema: IndexSchema) -> Any:
    kind = fld.type if fld is not None else None
    if kind == "tag":
        values = _checked_tags(fld, name, value, schema)
        return values if isinstance(value, (list, tuple, set, frozenset)) else values[0]
    if kind == "numeric":
        number = _number(name, value, schema)
        if not math.isfinite(number):
            raise SchemaError(
                f"index {schema.name!r}, numeric field {name!r}: {value!r} cannot be stored in a "
                "JSON document (JSON has no infinity); use a large finite number"
            )
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "geo":
        return _geo(name, value, schema)
    return value


def _number(name: str, value: Any, schema: IndexSchema) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SchemaError(
            f"index {schema.name!r}, numeric field {name!r}: value {value!r} is not a number"
        ) from None
    if math.isnan(number):
        raise SchemaError(f"index {schema.name!r}, numeric field {name!r}: NaN cannot be indexed")
    return number


def _number_text(number: float) -> str:
    """``3`` rather than ``3.0`` for whole numbers, so an int field reads back as it was written."""
    if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _geo(name: str, value: Any, schema: IndexSchema) -> str:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = []
    try:
        lon, lat = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise SchemaError(
            f"index {schema.name!r}, geo field {name!r}: value {value!r} is not a "
            "'lon,lat' string or a (lon, lat) pair"
        ) from None
    if not (-180 <= lon <= 180 and -85.05112878 <= lat <= 85.05112878):
        raise SchemaError(
            f"index {schema.name!r}, geo field {name!r}: ({lon}, {lat}) is outside "
            "longitude [-180, 180] / latitude [-85.05, 85.05]"
        )
    return f"{lon!r},{lat!r}"


def prepare_records(
    schema: IndexSchema,
    records: Sequence[Mapping[str, Any]],
    *,
    ids: Sequence[str] | None = None,
    id_field: str | None = None,
    keys: Sequence[str] | None = None,
) -> list[PreparedRecord]:
    """Validate and encode ``records`` for ``schema``; raises before anything could be written."""
    count = len(records)
    for name, given in (("ids", ids), ("keys", keys)):
        check_id_list(given, name)
        if given is not None and len(given) != count:
            raise ValueError(f"{len(given)} {name} for {count} records; pass one per record")
    if keys is not None:
        id_list = [schema.id_from_key(k) for k in keys]
        key_list = list(keys)
    else:
        if ids is not None:
            id_list = [str(i) for i in ids]
        elif id_field is not None:
            id_list = [str(r[id_field]) for r in records]
        else:
            id_list = [uuid.uuid4().hex for _ in records]
        for i in id_list:
            if not i:
                raise ValueError("an id is empty; ids must be non-empty strings")
        prefix = schema.key_prefix  # once: it is computed on each access
        key_list = [prefix + i for i in id_list]

    by_name = schema.fields_by_name
    is_json = schema.storage == "json"
    vectors: dict[str, list[Any]] = {}
    for vf in schema.vector_fields:
        values: list[Any] = [r.get(vf.name) for r in records]
        present = [i for i, v in enumerate(values) if v is not None]
        codec = codec_for(schema, vf)
        batch = [values[i] for i in present]
        with naming_records([id_list[i] for i in present]):
            encoded: Sequence[Any] = (
                codec.to_json_batch(batch) if is_json else codec.encode_batch(batch)
            )
        column: list[Any] = [None] * count
        for position, item in zip(present, encoded):
            column[position] = item
        vectors[vf.name] = column

    encode = _encode_json_value if is_json else _encode_hash_value
    # Per-value short-cuts, decided once per field instead of once per value: text and unindexed
    # string values are written as they are; on HASH, a plain tag string without the field's
    # separator and an exact integer too (what `_encode_hash_value` returns for them).
    as_is = {f.name for f in schema.fields if f.type == "text"}
    tag_separators: dict[str, str] = {}
    numeric: set[str] = set()
    if not is_json:
        for f in schema.fields:
            if f.type == "tag":
                tag_separators[f.name] = str(getattr(f, "separator", ","))
            elif f.type == "numeric":
                numeric.add(f.name)
    prepared = []
    for row, (record, rid, key) in enumerate(zip(records, id_list, key_list)):
        payload: dict[str, Any] = {}
        for name, value in record.items():
            if value is None:
                continue
            if name in vectors:
                payload[name] = vectors[name][row]
            elif type(value) is str:
                if (
                    name in as_is
                    or name not in by_name
                    or (name in tag_separators and tag_separators[name] not in value)
                ):
                    payload[name] = value
                else:
                    payload[name] = encode(by_name.get(name), name, value, schema)
            elif type(value) is int and name in numeric and -(2**53) < value < 2**53:
                payload[name] = str(value)
            else:
                payload[name] = encode(by_name.get(name), name, value, schema)
        if not payload:
            raise ValueError(f"record {rid!r} has no fields to store")
        prepared.append(PreparedRecord(rid, key, payload))
    return prepared


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordStream:
    """``records`` (any iterable: a list, a generator of a million) prepared ``size`` at a time.

    Only the batch being prepared is held; ``read`` counts the records taken from ``records`` so
    far. ``ids`` / ``keys`` (sequences, one per record) are sliced alongside. Their length is
    checked up front when ``records`` has one, else when the records run out (after the batches
    before were written: the mismatch cannot be known sooner)."""

    def __init__(
        self,
        schema: IndexSchema,
        records: Iterable[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        id_field: str | None = None,
        keys: Sequence[str] | None = None,
        size: int = 500,
    ) -> None:
        if size < 1:
            raise ValueError(f"batch_size must be >= 1, got {size}")
        if isinstance(records, Mapping):  # iterating it would load its field names
            raise TypeError("records must be an iterable of records; pass [record] for one")
        self.schema, self.records, self.size = schema, records, size
        self.ids, self.id_field, self.keys = ids, id_field, keys
        self.read = 0
        for name, given in (("ids", ids), ("keys", keys)):
            check_id_list(given, name)
            if given is not None and isinstance(records, Sequence):
                _check_count(name, len(given), len(records))

    def __iter__(self) -> Iterator[list[PreparedRecord]]:
        source = iter(self.records)
        while chunk := list(islice(source, self.size)):
            start, end = self.read, self.read + len(chunk)
            ids = None if self.ids is None else self.ids[start:end]
            keys = None if self.keys is None else self.keys[start:end]
            for name, given in (("ids", ids), ("keys", keys)):
                if given is not None and len(given) < len(chunk):  # ran out before the records
                    _check_count(name, start + len(given), start + len(chunk))
            batch = prepare_records(self.schema, chunk, ids=ids, id_field=self.id_field, keys=keys)
            self.read = end
            yield batch
        for name, given in (("ids", self.ids), ("keys", self.keys)):
            if given is not None:
                _check_count(name, len(given), self.read)

    def unread_ids(self) -> list[str]:
        """The ids of the records not read yet, where they can be known without reading an
        iterator further: those of a sequence given by ``ids``, ``keys`` or ``id_field`` (a record
        with a random id was never given one)."""
        if self.keys is not None:
            return [self.schema.id_from_key(k) for k in self.keys[self.read :]]
        if self.ids is not None:
            return [str(i) for i in self.ids[self.read :]]
        if self.id_field is not None and isinstance(self.records, Sequence):
            return [str(r[self.id_field]) for r in self.records[self.read :]]
        return []


def _check_count(name: str, given: int, count: int) -> None:
    if given != count:
        raise ValueError(f"{given} {name} for {count} records; pass one per record")

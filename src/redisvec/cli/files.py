"""Reading the files the command line is given: schemas, records, query vectors.

Every error names the file and, where the format allows, the line: a schema file that fails
`IndexSchema.from_dict` is pointed at the line of the field (or the ``index`` block) that is wrong,
found by composing the same text with PyYAML (JSON is YAML, so this works for both).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from redisvec.errors import FileError, SchemaError
from redisvec.schema import IndexSchema, _field_from_dict

__all__ = ["FileError", "count_records", "iter_records", "read_schema_file", "read_vector"]


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - the cli extra installs it
        raise FileError("YAML schema files need PyYAML: pip install 'redisvec[cli]'") from None
    return yaml


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"cannot read {str(path)!r}: {exc}") from None


def read_schema_file(path: str | Path) -> IndexSchema:
    """A schema from a YAML or JSON file in `IndexSchema.from_dict`'s (redisvl's) layout."""
    path = Path(path)
    text = _read_text(path)
    data: Any
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    else:
        yaml = _yaml()
        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise FileError(f"{where}: not valid YAML: {exc.problem or exc}") from None
        except yaml.YAMLError as exc:
            raise FileError(f"{path}: not valid YAML: {exc}") from None
    try:
        return IndexSchema.from_dict(data)
    except SchemaError as exc:
        line = _line_of_problem(text, data)
        where = f"{path}:{line}" if line else str(path)
        raise FileError(f"{where}: {exc}") from None


def _line_of_problem(text: str, data: Any) -> int | None:
    """The 1-based line of the first field that `from_dict` refuses, else of the ``index`` key."""
    try:
        root = _yaml().compose(text)
    except Exception:  # the text parsed as JSON but not as YAML (e.g. tabs): no line then
        return None
    if root is None or not hasattr(root, "value") or not isinstance(data, Mapping):
        return None
    nodes = {getattr(k, "value", None): (k, v) for k, v in root.value if hasattr(k, "value")}
    specs = data.get("fields")
    if "fields" in nodes and isinstance(specs, list):
        items = getattr(nodes["fields"][1], "value", [])
        for spec, node in zip(specs, items):
            try:
                _field_from_dict(spec)
            except SchemaError:
                return int(node.start_mark.line) + 1
    for key in ("index", "fields"):
        if key in nodes:
            return int(nodes[key][0].start_mark.line) + 1
    return int(root.start_mark.line) + 1


# -- records -----------------------------------------------------------------------------------


def _format(path: Path, given: str | None) -> str:
    fmt = (given or path.suffix.lstrip(".")).lower()
    if fmt in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if fmt in ("parquet", "pq"):
        return "parquet"
    raise FileError(
        f"{path}: unknown record format {fmt!r}; give a .jsonl or .parquet file "
        "(or --format jsonl / parquet)"
    )


def _parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FileError(f"{path}: Parquet files need pyarrow: pip install pyarrow") from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:
        raise FileError(f"{path}: not a readable Parquet file: {exc}") from None


def count_records(path: str | Path, fmt: str | None = None) -> int:
    """How many records the file holds (for the progress bar)."""
    path = Path(path)
    if _format(path, fmt) == "parquet":
        return int(_parquet(path).metadata.num_rows)
    try:
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError as exc:
        raise FileError(f"cannot read {str(path)!r}: {exc}") from None


def iter_records(
    path: str | Path, batch_size: int, fmt: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The file's records, ``batch_size`` at a time; a bad line stops with its line number."""
    path = Path(path)
    if _format(path, fmt) == "parquet":
        for table in _parquet(path).iter_batches(batch_size=batch_size):
            yield table.to_pylist()
        return
    batch: list[dict[str, Any]] = []
    try:
        f = path.open(encoding="utf-8")
    except OSError as exc:
        raise FileError(f"cannot read {str(path)!r}: {exc}") from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FileError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise FileError(
                    f"{path}:{number}: a record must be a JSON object, got {type(record).__name__}"
                )
            batch.append(record)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def read_vector(path: str | Path) -> npt.NDArray[np.float64]:
    """A query vector from ``.npy``, a JSON list, or numbers separated by spaces or commas."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            values: Any = np.load(path, allow_pickle=False)
        else:
            text = _read_text(path).strip()
            if text.startswith("["):
                values = json.loads(text)
            else:
                values = [float(t) for t in text.replace(",", " ").split()]
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except FileError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise FileError(
            f"{path}: not a vector ({exc}); give a .npy file, a JSON list or numbers"
        ) from None
    if array.size == 0 or not all(math.isfinite(v) for v in array.tolist()):
        raise FileError(f"{path}: the vector is empty or has a non-finite value")
    return array

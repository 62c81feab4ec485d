"""Every exception class redisvec defines lives in `redisvec.errors` and is exported from
`redisvec` (one place to read the whole tree, one import for callers)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import redis

import redisvec
import redisvec.errors as errors
from redisvec.errors import (
    IndexNotFoundError,
    PermissionDeniedError,
    QueryTimeoutError,
    ResultLimitError,
    SearchUnavailableError,
    already_exists,
    is_missing_index,
    translate_server_error,
)

SRC = Path(redisvec.__file__).parent


def _is_exception_base(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name.endswith(("Error", "Exception", "Warning")) or name in {"BaseException"}


def _exception_classes_outside_errors() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(_is_exception_base(b) for b in node.bases):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    return found


def test_no_exception_class_is_defined_outside_errors_py() -> None:
    assert _exception_classes_outside_errors() == []


def test_every_error_class_is_exported_from_redisvec() -> None:
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == errors.__name__
    }
    assert defined, "errors.py defines no exception"
    assert defined <= set(redisvec.__all__), sorted(defined - set(redisvec.__all__))
    for name in defined:
        assert getattr(redisvec, name) is getattr(errors, name)
        cls = getattr(errors, name)
        # errors derive from RedisVecError; warnings (HybridFallbackWarning) from Warning
        assert issubclass(cls, errors.RedisVecError) or issubclass(cls, Warning), name
    assert "ConnectionConfig" in redisvec.__all__


def test_old_import_locations_still_work() -> None:
    from redisvec.cli.files import FileError
    from redisvec.connection import ConnectionFailedError

    assert FileError is errors.FileError
    assert ConnectionFailedError is errors.ConnectionFailedError


def test_server_errors_translate_by_their_text() -> None:
    missing = translate_server_error(redis.ResponseError("Unknown index name"), "kb")
    assert isinstance(missing, IndexNotFoundError) and "'kb'" in str(missing)
    assert is_missing_index(redis.ResponseError("kb: no such index"))
    assert not is_missing_index(redis.ResponseError("Syntax error at offset 3"))
    denied = translate_server_error(redis.exceptions.NoPermissionError("no permissions"), "kb")
    assert isinstance(denied, PermissionDeniedError) and "ACL SETUSER" in str(denied)
    nosearch = translate_server_error(redis.ResponseError("unknown command 'FT.SEARCH'"), "kb")
    assert isinstance(nosearch, SearchUnavailableError)
    limit = translate_server_error(
        redis.ResponseError("LIMIT exceeds maximum of 10000"),
        "kb",
        ("FT.SEARCH", "kb", "*", "LIMIT", 0, 20000, "DIALECT", 2),
    )
    assert isinstance(limit, ResultLimitError) and "20000" in str(limit) and "10000" in str(limit)
    # a KNN query's command is sent as bytes (VectorQuery.wire_args); a vector could spell LIMIT
    wire = (b"kb", b"*=>[KNN 20000 @v $vector]", b"PARAMS", b"2", b"vector", b"LIMIT",
            b"LIMIT", b"0", b"20000", b"DIALECT", b"2")  # fmt: skip
    limit = translate_server_error(
        redis.ResponseError("LIMIT exceeds maximum of 10000"), "kb", wire
    )
    assert "asks for 20000 results" in str(limit)
    # A query that timed out before it had partial results (or under ON_TIMEOUT FAIL): an error
    # reply, the same event as RESP3's timeout warning.
    timeout = translate_server_error(redis.ResponseError("Timeout limit was reached"), "kb")
    assert isinstance(timeout, QueryTimeoutError) and "'kb'" in str(timeout)
    other = redis.ResponseError("Syntax error at offset 3")
    assert translate_server_error(other, "kb") is other
    assert already_exists(redis.ResponseError("Index already exists"))
    assert not already_exists(other)

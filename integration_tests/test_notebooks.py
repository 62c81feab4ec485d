"""The framework notebooks (examples/notebooks/) run end to end in a real Jupyter kernel
(nbclient, ipykernel) against the test server, offline, and are committed without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "examples" / "notebooks").glob("*.ipynb")
)


def test_both_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "langchain_vectorstore.ipynb",
        "llama_index_vectorstore.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_in_a_kernel(path: Path, redis_url: str) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # The kernel gets the test server's URL; cells raise on any error (and their asserts check
    # the results), which nbclient reports as CellExecutionError with the cell's traceback.
    client.execute(env={**os.environ, "REDIS_URL": redis_url})
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"
    printed = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert redis_url in printed  # the notebook used the test server, not one of its own

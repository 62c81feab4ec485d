"""Building pydantic models without validation, for the adapters' per-hit objects.

A LangChain ``Document`` or a LlamaIndex ``TextNode`` per search hit is costly to build through
validation; values that need none can be set as ``model_construct`` sets them, without its
Python-level loop over the fields. That is pydantic's internal model state, so each adapter checks
`assemble` once against the validated way (`same_model`) and falls back to validation if they
differ. No pydantic import: the core does not depend on it.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["assemble", "same_model"]

M = TypeVar("M")
_new, _set = object.__new__, object.__setattr__


def assemble(cls: type[M], fields: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of the pydantic model ``cls`` holding ``fields`` as they are (every field, in
    the model's order), ``fields_set`` as the fields given, no extras, no private state."""
    model = _new(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def same_model(ours: Any, theirs: Any) -> bool:
    """Whether two models are the same to anyone who reads them: equal, the same fields in the
    same order, the same fields given."""
    return bool(
        ours == theirs
        and list(ours.__dict__.items()) == list(theirs.__dict__.items())
        and ours.model_fields_set == theirs.model_fields_set
    )

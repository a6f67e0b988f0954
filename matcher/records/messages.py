"""The one way a validation problem is told: "field 'trl': value 0: Input should be greater than or equal to 1".

    >>> try:
    ...     Proposal(text="x", trl=0)
    ... except ValidationError as exc:
    ...     describe(exc.errors()[0])
    "field 'trl': value 0: Input should be greater than or equal to 1"

Used by corpus loading, batch files, importers, the CLI and the service, so a user reads the same words everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

SHOWN_CHARS = 80  # longer values are cut, so one line stays one line


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """`repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(err: Mapping[str, Any], skip: int = 0, default_field: str = "(record)") -> str:
    """One problem of `ValidationError.errors()`; `skip` drops leading parts of the location (e.g. 'body')."""
    path: Sequence[Any] = err["loc"][skip:]
    msg = str(err["msg"]).removeprefix("Value error, ")
    field = ".".join(str(p) for p in path) or default_field
    if err["type"] == "missing":
        return f"field '{field}': {msg}"
    value = err.get("input")
    if isinstance(value, dict | list):
        return f"field '{field}': {msg}"
    return f"field '{field}': value {shown(value)}: {msg}"


def describe_all(exc: ValidationError, default_field: str = "(record)") -> list[str]:
    """Every problem of `exc`, one line each."""
    return [describe(err, default_field=default_field) for err in exc.errors()]

"""Uploaded proposal files, read the same way by `POST /v1/triage/upload` and the adviser page.

    >>> [p.id for p in read_upload(b"id,text\\nq1,Een waterstof pilot\\n", "ideas.csv")]
    ['q1']

The file type comes from the name's extension (.csv or .jsonl); every error names the file, and a file of more than
`MAX_PROPOSALS` rows is refused (the CLI has no such limit).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from matcher import InputError, Proposal
from matcher.io.batch import parse_proposals

from .schemas import MAX_PROPOSALS


def read_upload(data: bytes, name: str) -> list[Proposal]:
    """The validated proposals of an uploaded file's bytes; `InputError` names the file, row, field and value."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    proposals = parse_proposals(text, name, PurePosixPath(name).suffix)
    if len(proposals) > MAX_PROPOSALS:
        raise InputError(
            f"{name}: {len(proposals)} rows; at most {MAX_PROPOSALS} per upload (use `matcher triage` for more)"
        )
    return proposals

"""Uploaded proposal files, read the same way by `POST /v1/triage/upload` and the adviser page.

    >>> [p.id for p in read_upload(b"id,text\\nq1,Een waterstof pilot\\n", "ideas.csv")]
    ['q1']

The file type comes from the name's extension (.csv or .tsv, .jsonl, .xlsx), and a file is read as `matcher triage`
reads it: a CSV's delimiter (comma, semicolon, tab) and encoding (UTF-8 with or without BOM, else cp1252) detected,
a workbook's first sheet. Every error names the file (and row, sheet or line), and a file of more than
`MAX_PROPOSALS` rows is refused as soon as row `MAX_PROPOSALS + 1` is read (the CLI's limit is 100,000).
"""

from __future__ import annotations

from matcher import Proposal, app

from .schemas import MAX_PROPOSALS


def read_upload(data: bytes, name: str) -> list[Proposal]:
    """The validated proposals of an uploaded file's bytes; `InputError` names the file, row, field and value."""
    return app.parse_batch(data, name, max_rows=MAX_PROPOSALS)  # reading stops at the first row past the limit

"""The names a batch file's header may give its columns: ours, and the Dutch and English ones advisers' sheets use.

    >>> column_name(" Omschrijving "), column_name("Type aanvrager"), column_name("notes")
    ('text', 'applicant_type', 'notes')

Read the same way for CSV and workbooks (`io.batch`, `io.workbook`); a name we do not know stays as it is (and is
ignored as an extra column).
"""

from __future__ import annotations

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("nummer", "kenmerk", "referentie", "dossiernummer"),
    "text": (
        "tekst", "omschrijving", "beschrijving", "projectomschrijving", "projectbeschrijving", "description",
        "project description", "proposal",
    ),
    "region": ("regio", "provincie", "province"),
    "applicant_type": ("type aanvrager", "aanvrager", "soort aanvrager", "applicant type"),
    "budget_eur": ("budget", "projectbudget", "begroting", "projectbudget (euro)", "budget (euro)", "budget_euro"),
    "partners": ("aantal partners", "number of partners"),
    "stage": ("fase", "projectfase"),
    "as_of": ("peildatum",),
}  # fmt: skip
_CANONICAL = {alias: column for column, names in ALIASES.items() for alias in names}


def column_name(header: str) -> str:
    """A header cell's column: stripped and lower-cased, a known Dutch or English name read as ours."""
    name = " ".join(header.split()).lower()
    return _CANONICAL.get(name, name)

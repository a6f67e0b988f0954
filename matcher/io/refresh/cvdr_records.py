"""The answer of the CVDR SRU search service read into `Regulation` records, one per version of a regulation.

    >>> total, regulations, next_start = parse_page(response.content, url)

An SRU `searchRetrieveResponse` (`numberOfRecords`, `records/record/recordData/gzd`, `nextRecordPosition`), each
record with `originalData/meta/{owmskern,owmsmantel,cvdripm}` and `enrichedData` (organisation type, URLs). Elements
are read by their local names: the namespaces differ between SRU versions and between the service's record and
document forms. An answer in another form, or an SRU diagnostic, is a `RefreshError` naming the URL.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from matcher.io.refresh.http import RefreshError

PAGE_URL = "https://lokaleregelgeving.overheid.nl/"
_ID = re.compile(r"^(?:CVDR)?(\d+)(?:_(\d+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Regulation:
    """One version of a regulation, as the SRU record gives it ('' or None where it gives nothing)."""

    work: str  # CVDR357364
    version: int
    title: str
    creator: str
    organisation_type: str  # "provincie", "gemeente", "waterschap", ... (lower case)
    subject: str
    issued: dt.date | None
    modified: dt.date | None
    in_force: dt.date | None
    out_of_force: dt.date | None
    url: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c.tag) == name), None)


def _path(element: ET.Element | None, *names: str) -> ET.Element | None:
    for name in names:
        element = _child(element, name)
    return element


def _texts(element: ET.Element | None, name: str) -> list[str]:
    if element is None:
        return []
    return [" ".join("".join(c.itertext()).split()) for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, name: str) -> str:
    return next((t for t in _texts(element, name) if t), "")


def _date(value: str, field: str, where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise RefreshError(f"{where}: {field} {value!r} is not a date (YYYY-MM-DD)") from None


def parse_page(content: bytes, url: str) -> tuple[int, list[Regulation], int | None]:
    """(numberOfRecords, the records, nextRecordPosition) of one answer; RefreshError naming `url` when it is not an
    SRU answer with CVDR records, or when the service reports a problem (an SRU diagnostic)."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise RefreshError(f"{url}: the answer is not XML ({exc})") from None
    if _local(root.tag) != "searchRetrieveResponse":
        raise RefreshError(f"{url}: not an SRU searchRetrieveResponse (the answer is <{_local(root.tag)}>)")
    diagnostic = next((e for e in root.iter() if _local(e.tag) == "diagnostic"), None)
    if diagnostic is not None:
        said = "; ".join(filter(None, [_text(diagnostic, "message"), _text(diagnostic, "details")]))
        raise RefreshError(f"{url}: the service reports: {said or _text(diagnostic, 'uri')}")
    total = _text(root, "numberOfRecords")
    if not total.isdigit():
        raise RefreshError(f"{url}: not an SRU answer: numberOfRecords is {total!r}")
    records = []
    for n, record in enumerate(list(_child(root, "records") or []), 1):
        records.append(_regulation(record, f"{url}: record {n}"))
    following = _text(root, "nextRecordPosition")
    return int(total), records, int(following) if following.isdigit() else None


def _regulation(record: ET.Element, where: str) -> Regulation:
    gzd = _path(record, "recordData", "gzd")
    meta = _path(gzd, "originalData", "meta")
    kern, mantel, ipm = _child(meta, "owmskern"), _child(meta, "owmsmantel"), _child(meta, "cvdripm")
    if kern is None:
        raise RefreshError(f"{where}: not a CVDR record (no recordData/gzd/originalData/meta/owmskern)")
    identifier = _text(kern, "identifier")
    match = _ID.match(identifier)
    if match is None:
        raise RefreshError(f"{where}: identifier {identifier!r} is not a CVDR identifier (CVDR<number>_<version>)")
    enriched = _child(gzd, "enrichedData")
    creator = _child(kern, "creator")
    scheme = (creator.get("scheme", "") if creator is not None else "").rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    work, version = f"CVDR{match.group(1)}", int(match.group(2) or 1)
    return Regulation(
        work=work,
        version=version,
        title=_text(kern, "title"),
        creator=_text(kern, "creator"),
        organisation_type=(_text(enriched, "organisatietype") or scheme).lower(),
        subject=", ".join(t for t in _texts(mantel, "subject") if t),
        issued=_date(_text(mantel, "issued"), "issued", where),
        modified=_date(_text(kern, "modified"), "modified", where),
        in_force=_date(_text(ipm, "inwerkingtredingDatum"), "inwerkingtredingDatum", where),
        out_of_force=_date(_text(ipm, "uitwerkingtredingDatum"), "uitwerkingtredingDatum", where),
        url=_text(enriched, "preferred_url") or _text(enriched, "preferredUrl") or f"{PAGE_URL}{work}/{version}",
    )

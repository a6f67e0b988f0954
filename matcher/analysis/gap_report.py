"""The gap report on disk: one self-contained HTML file (inline CSS, charts as base64 PNG) and CSVs beside it.

    >>> write_report(report, Path("q3/gaps.html"))
    [PosixPath('q3/gaps.html'), PosixPath('q3/gaps-demand_supply.csv'), ...]

Every file is written into a temporary folder beside the target first and moved into place only when all of them
were written, so a failure leaves the earlier files (or none), never part of a report.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.analysis.gaps import Cell, GapReport, InstrumentGap
from matcher.errors import InputError
from matcher.text.language import euro

CSV_NAMES = ("demand_supply", "unmet", "clusters", "unmatched_instruments", "closing_soon")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}td.n{text-align:right}tr.gap td{background:#fdecea}
.note{color:#555;font-size:.85rem}img{max-width:100%;height:auto;margin:.5rem 0}.kpi{display:inline-block;
margin:0 1.5rem .5rem 0}.kpi b{font-size:1.4rem;display:block}
"""


# -- tables ----------------------------------------------------------------------------------------------------------
def tables(report: GapReport) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each CSV of the report as (header, rows); the HTML shows the same rows."""

    def instruments(rows: Sequence[InstrumentGap]) -> tuple[list[str], list[list[Any]]]:
        head = ["instrument_id", "name", "level", "regions", "themes", "availability", "closes", "days_left"]
        head += ["max_amount_eur", "matching_proposals", "proposal_ids"]
        body = [
            [i.instrument_id, i.name, i.level, ";".join(i.regions), ";".join(i.themes), i.availability]
            + [i.closes or "", "" if i.days_left is None else i.days_left, i.max_amount_eur or ""]
            + [len(i.matching_proposals), ";".join(i.matching_proposals)]
            for i in rows
        ]
        return head, body

    cells = [
        [c.theme, c.theme_name, c.region, c.demand, c.demand_budget_eur, c.unmet, c.supply, c.supply_open]
        + [c.max_award_sum_eur, int(c.gap), ";".join(c.instruments)]
        for c in report.cells
    ]
    return {
        "demand_supply": (
            ["theme", "theme_name", "region", "demand", "demand_budget_eur", "unmet", "supply", "supply_open"]
            + ["max_award_sum_eur", "gap", "instruments"],
            cells,
        ),
        "unmet": (
            ["proposal_id", "cluster", "region", "themes", "best_instrument", "best_score", "text"],
            [
                [u.proposal_id, u.cluster, u.region, ";".join(u.themes), u.best_instrument or "", u.best_score, u.text]
                for u in report.unmet
            ],
        ),
        "clusters": (
            ["cluster", "size", "label", "themes", "regions", "members"],
            [
                [c.cluster, c.size, ", ".join(c.label), ";".join(c.themes), ";".join(c.regions), ";".join(c.members)]
                for c in report.clusters
            ],
        ),
        "unmatched_instruments": instruments(report.unmatched),
        "closing_soon": instruments(report.closing),
    }


def _csv(head: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(rows)
    return buf.getvalue()


# -- charts ----------------------------------------------------------------------------------------------------------
def charts(report: GapReport) -> dict[str, bytes]:
    """The report's charts as PNG bytes: demand and unmet-demand heatmaps, unmet demand per theme and per region."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe to call again
    rows = [t for t in report.themes if any(c.demand for c in report.cells if c.theme == t)]
    grid = {(c.theme, c.region): c for c in report.cells}
    out = {}
    if rows and report.regions:
        demand = np.array([[grid[t, r].demand for r in report.regions] for t in rows], dtype=float)
        unmet = np.array([[grid[t, r].unmet for r in report.regions] for t in rows], dtype=float)
        gaps = np.array([[grid[t, r].gap for r in report.regions] for t in rows], dtype=bool)
        labels = [report.theme_names.get(t, t) for t in rows]
        out["demand_heatmap"] = _heatmap(
            demand, gaps, labels, report.regions, "Proposals per theme and region", "Blues"
        )
        out["unmet_heatmap"] = _heatmap(
            unmet, gaps, labels, report.regions, "Weak matches per theme and region (red frame: no instrument)", "Reds"
        )
    per_theme = {report.theme_names.get(t, t): sum(c.unmet for c in report.cells if c.theme == t) for t in rows}
    per_region = {r: sum(u.region == r for u in report.unmet) for r in report.regions}
    out["unmet_by_theme"] = _bars(per_theme, "Weak matches per theme (a proposal counts for each of its themes)")
    out["unmet_by_region"] = _bars(per_region, "Weak matches per region")
    return out


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _heatmap(
    values: np.ndarray, marked: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str, cmap: str
) -> bytes:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(1.2 + 0.62 * len(cols) + 2.2, 1.2 + 0.36 * len(rows)))
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=0, vmax=max(1.0, float(values.max())))
    ax.set_xticks(range(len(cols)), labels=list(cols), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), labels=list(rows))
    top = float(values.max()) or 1.0
    for (i, j), v in np.ndenumerate(values):
        if v:
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8, color="white" if v > top * 0.6 else "black")
        if marked[i, j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#c00", linewidth=2))
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.6, ticks=MaxNLocator(integer=True))
    return _png(fig)


def _bars(counts: dict[str, int], title: str) -> bytes:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.32 * max(1, len(items))))
    if items:
        names, values = zip(*items, strict=True)
        ax.barh(range(len(items)), values, color="#c0504d")
        ax.set_yticks(range(len(items)), labels=list(names))
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return _png(fig)


# -- HTML ------------------------------------------------------------------------------------------------------------
def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], classes: Sequence[str] = ()) -> str:
    def cell(v: Any) -> str:
        numeric = isinstance(v, int | float) and not isinstance(v, bool)
        return f'<td class="n">{v:,}</td>' if numeric else f"<td>{html.escape(str(v))}</td>"

    if not rows:
        return '<p class="note">none</p>'
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = [
        f'<tr class="{classes[n] if n < len(classes) else ""}">' + "".join(cell(v) for v in row) + "</tr>"
        for n, row in enumerate(rows)
    ]
    return f"<table><tr>{th}</tr>{''.join(trs)}</table>"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_html(report: GapReport, pngs: dict[str, bytes], files: dict[str, str]) -> str:
    t, o = report.threshold, report.options
    filters = ", ".join(f"{k} {v}" for k, v in (("theme", o.theme), ("region", o.region)) if v) or "none"
    demand_cells: list[Cell] = [c for c in report.cells if c.demand]
    gap_cells = report.gap_cells()
    closing_demand = [i for i in report.closing if i.matching_proposals]
    kpis = [
        (report.proposals, "proposals"),
        (len(report.unmet), "weak matches"),
        (len(gap_cells), "gap cells"),
        (len(report.unmatched), "instruments unmatched"),
        (len(closing_demand), f"closing in {o.window_days} days with demand"),
    ]
    calib = (
        f"Weak match: best score (of instruments not ineligible) below <b>{t.value:.3f}</b>. Method: "
        f"{html.escape(t.method)}."
    )
    if t.positive_p05 is not None:
        calib += (
            f" 5th percentile of relevant-match scores {t.positive_p05:.3f}; highest off-topic score "
            f"{t.negative_max:.3f}."
        )
    calib += " The triage's <code>weak_match</code> flag uses the same threshold."
    parts = [
        f"<h1>Gap analysis, {report.as_of.isoformat()}</h1>",
        f'<p class="note">Filters: {html.escape(filters)}. Each proposal counts once for each of its themes '
        f"(at most four); a proposal without a region counts under NL. Supply: instruments not closed on "
        f"{report.as_of.isoformat()} that cover the theme and the region; <i>open</i> counts only those whose call "
        "window includes the date or that are rolling. The corpus holds no call budgets: the euro column sums the "
        "per-project maximum of the instruments that state one.</p>",
        "".join(f'<span class="kpi"><b>{v}</b>{html.escape(k)}</span>' for v, k in kpis),
        f'<p class="note">{calib}</p>',
        "<h2>Demand and supply by theme and region</h2>",
        *(_img(pngs[k], k) for k in ("demand_heatmap", "unmet_heatmap") if k in pngs),
        "<h3>Cells with demand and no instrument</h3>",
        _table(
            ["theme", "region", "proposals", "budget asked"],
            [[c.theme_name, c.region, c.demand, euro(c.demand_budget_eur)] for c in gap_cells],
        ),
        "<h3>All cells with demand</h3>",
        _table(
            ["theme", "region", "proposals", "weak", "instruments", "open", "max per project, summed"],
            [
                [c.theme_name, c.region, c.demand, c.unmet, c.supply, c.supply_open, euro(c.max_award_sum_eur)]
                for c in demand_cells
            ],
            ["gap" if c.gap else "" for c in demand_cells],
        ),
        "<h2>Unmet demand</h2>",
        *(_img(pngs[k], k) for k in ("unmet_by_theme", "unmet_by_region")),
        "<h3>Clusters of weak matches</h3>",
        _table(
            ["cluster", "size", "distinctive terms", "themes", "regions", "proposals"],
            [
                [c.cluster, c.size, ", ".join(c.label) or "-", ", ".join(c.themes), ", ".join(c.regions)]
                + [", ".join(c.members)]
                for c in report.clusters
            ],
        ),
        "<h3>Proposals with a weak best match</h3>",
        _table(
            ["proposal", "cluster", "region", "themes", "best instrument", "score", "text"],
            [
                [u.proposal_id, u.cluster, u.region, ", ".join(u.themes), u.best_instrument or "-", u.best_score]
                + [u.text]
                for u in report.unmet
            ],
        ),
        f"<h2>Closing within {o.window_days} days</h2>",
        _table(
            ["instrument", "name", "closes", "days left", "matching proposals", "proposals"],
            [
                [i.instrument_id, i.name, i.closes or "", i.days_left or 0, len(i.matching_proposals)]
                + [", ".join(i.matching_proposals)]
                for i in report.closing
            ],
        ),
        "<h2>Instruments nobody matched</h2>",
        '<p class="note">Not closed, and in no proposal\'s top matches at or above the threshold.</p>',
        _table(
            ["instrument", "name", "level", "regions", "availability", "closes"],
            [
                [i.instrument_id, i.name, i.level, ", ".join(i.regions), i.availability, i.closes or ""]
                for i in report.unmatched
            ],
        ),
        "<h2>Files</h2>",
        "<ul>" + "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in files.items()) + "</ul>",
    ]
    body = "\n".join(parts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Gap analysis {report.as_of.isoformat()}</title><style>{CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


# -- terminal --------------------------------------------------------------------------------------------------------
def summary(report: GapReport, top: int = 5) -> str:
    """A few lines for the terminal: counts, the largest gap cells, the clusters with their labels."""
    t, o = report.threshold, report.options
    gaps = report.gap_cells()
    closing = [i for i in report.closing if i.matching_proposals]
    lines = [
        f"gap analysis as of {report.as_of}: {report.proposals} proposals, weak-match threshold {t.value:.3f} "
        f"({t.method.split(' between')[0]})",
        f"demand/supply: {sum(c.demand > 0 for c in report.cells)} theme x region cells with demand, "
        f"{len(gaps)} without any instrument",
    ]
    lines += [f"  {c.theme} x {c.region}: {c.demand} proposal(s), no instrument" for c in gaps[:top]]
    lines.append(
        f"unmet demand: {len(report.unmet)} proposal(s) below {t.value:.3f} in {len(report.clusters)} cluster(s)"
    )
    lines += [
        f"  {c.cluster}. ({c.size}) {', '.join(c.label) or '-'}: {', '.join(c.members[:8])}"
        + (" ..." if c.size > 8 else "")
        for c in report.clusters
    ]
    lines.append(f"instruments nobody matched: {len(report.unmatched)}")
    lines.append(f"closing within {o.window_days} days: {len(report.closing)}, {len(closing)} with matching demand")
    lines += [
        f"  {i.instrument_id} closes {i.closes} ({i.days_left} days): {len(i.matching_proposals)} proposal(s)"
        for i in closing[:top]
    ]
    return "\n".join(lines)


# -- writing ---------------------------------------------------------------------------------------------------------
def check_target(out: Path) -> None:
    """Fail early, before any matching, when the report cannot be written where asked."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{out}: output folder {folder} does not exist")
    if out.is_dir():
        raise InputError(f"{out}: report is a folder, expected a file name such as report.html")


def csv_paths(out: Path) -> dict[str, Path]:
    """`q3/gaps.html` -> {'demand_supply': q3/gaps-demand_supply.csv, ...}."""
    stem = out.with_suffix("") if out.suffix else out
    return {name: stem.parent / f"{stem.name}-{name}.csv" for name in CSV_NAMES}


def write_report(report: GapReport, out: Path, draw: Callable[[GapReport], dict[str, bytes]] = charts) -> list[Path]:
    """Write OUT.html and its CSVs into a temporary folder, then move them all into place; return the paths."""
    check_target(out)
    folder = out.parent if str(out.parent) else Path(".")
    targets = csv_paths(out)
    contents: dict[Path, bytes] = {}
    for name, (head, rows) in tables(report).items():
        contents[targets[name]] = _csv(head, rows).encode("utf-8")
    files = {name: str(path) for name, path in targets.items()}
    contents[out] = render_html(report, draw(report), files).encode("utf-8")
    _publish(folder, contents)
    return [out, *targets.values()]


def _publish(folder: Path, contents: dict[Path, bytes]) -> None:
    """Write every file to a temporary folder in `folder`; move them into place only when all were written."""
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".gaps-", suffix=".tmp"))
    moved: list[Path] = []
    try:
        staged = []
        for n, (path, data) in enumerate(contents.items()):
            part = tmp / f"{n}.part"
            with part.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            staged.append((part, path))
        for part, path in staged:
            os.replace(part, path)
            moved.append(path)
    except BaseException:
        for path in moved:  # a move failed half-way: take back the ones already in place
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

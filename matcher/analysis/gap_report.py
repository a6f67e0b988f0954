"""The gap report on disk: one self-contained HTML file (inline CSS, charts as base64 PNG) and CSVs beside it.

    >>> write_report(report, Path("q3/gaps.html"), lang="en", theme_names=corpus.theme_names("en"))
    [PosixPath('q3/gaps.html'), PosixPath('q3/gaps-demand_supply.csv'), ...]

The page is `templates/gap_report.html.j2`, rendered in Dutch or English with Jinja2's i18n extension and the
catalogues of `matcher/locales` (chart titles too); the CSV headers are field names, the same in both languages.

Every file is written into a temporary folder beside the target first and moved into place only when all of them
were written; a manifest (`OUT.manifest.json`, each file with its SHA-256) is written last, so the set is one unit:
a failure half-way puts the earlier files back (or none), and a kill between renames leaves no manifest, which
`published` tells from a complete report.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import PackageLoader, StrictUndefined, Template

from matcher.analysis.gaps import GapReport, InstrumentGap
from matcher.errors import InputError
from matcher.io.atomic import atomic_path, remove_stale
from matcher.io.sheets import csv_text
from matcher.text.i18n import DEFAULT_LANGUAGE, amount, environment, gettext, label

CSV_NAMES = ("demand_supply", "unmet", "clusters", "unmatched_instruments", "closing_soon")
TEMPLATE = "gap_report.html.j2"


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
    return csv_text(head, rows)


# -- charts ----------------------------------------------------------------------------------------------------------
def charts(
    report: GapReport,
    lang: str = DEFAULT_LANGUAGE,
    theme_names: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
) -> dict[str, bytes]:
    """The report's charts as PNG bytes: demand and unmet-demand heatmaps, unmet demand per theme and per region,
    labelled in `lang` with theme and region names (codes where no name is given)."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe to call again
    names = report.theme_names if theme_names is None else theme_names
    places = [(region_names or {}).get(r, r) for r in report.regions]
    axes = Axes(
        gettext(lang, "gaps.chart.axis.region"),
        gettext(lang, "gaps.chart.axis.theme"),
        gettext(lang, "gaps.chart.axis.proposals"),
    )
    rows = [t for t in report.themes if any(c.demand for c in report.cells if c.theme == t)]
    grid = {(c.theme, c.region): c for c in report.cells}
    out = {}
    if rows and report.regions:
        demand = np.array([[grid[t, r].demand for r in report.regions] for t in rows], dtype=float)
        unmet = np.array([[grid[t, r].unmet for r in report.regions] for t in rows], dtype=float)
        gaps = np.array([[grid[t, r].gap for r in report.regions] for t in rows], dtype=bool)
        labels = [names.get(t, t) for t in rows]
        title = gettext(lang, "gaps.chart.demand")
        out["demand_heatmap"] = _heatmap(demand, gaps, labels, places, title, "Blues", axes)
        title = gettext(lang, "gaps.chart.unmet")
        out["unmet_heatmap"] = _heatmap(unmet, gaps, labels, places, title, "Reds", axes)
    per_theme = {names.get(t, t): sum(c.unmet for c in report.cells if c.theme == t) for t in rows}
    per_region = {p: sum(u.region == r for u in report.unmet) for r, p in zip(report.regions, places, strict=True)}
    none = gettext(lang, "gaps.none")
    out["unmet_by_theme"] = _bars(per_theme, gettext(lang, "gaps.chart.unmet_by_theme"), none, axes.count)
    out["unmet_by_region"] = _bars(per_region, gettext(lang, "gaps.chart.unmet_by_region"), none, axes.count)
    return out


@dataclass(frozen=True)
class Axes:
    """The charts' axis titles in the report's language."""

    region: str
    theme: str
    count: str


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _heatmap(
    values: np.ndarray,
    marked: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    cmap: str,
    axes: Axes,
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
    ax.set_xlabel(axes.region)
    ax.set_ylabel(axes.theme)
    bar = fig.colorbar(image, ax=ax, shrink=0.6, ticks=MaxNLocator(integer=True))
    bar.set_label(axes.count)
    return _png(fig)


def _bars(counts: dict[str, int], title: str, none: str, count: str) -> bytes:
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
        ax.set_xlabel(count)
    else:
        ax.text(0.5, 0.5, none, ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return _png(fig)


# -- HTML ------------------------------------------------------------------------------------------------------------
@functools.cache
def template(lang: str) -> Template:
    """The report's template with `_()` reading the catalogue of `lang`."""
    loader = PackageLoader("matcher.analysis", "templates")
    env = environment(loader, lang, autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    return env.get_template(TEMPLATE)


def render_html(
    report: GapReport,
    pngs: Mapping[str, bytes],
    files: Mapping[str, str],
    lang: str = DEFAULT_LANGUAGE,
    theme_names: Mapping[str, str] | None = None,
) -> str:
    """The report page in `lang` (nl or en); `theme_names` in that language (default: the report's own names)."""
    names = report.theme_names if theme_names is None else theme_names
    demand_cells = [c for c in report.cells if c.demand]
    rows: dict[str, list[list[Any]]] = {
        "gap_cells": [
            [names.get(c.theme, c.theme_name), c.region, c.demand, amount(lang, c.demand_budget_eur)]
            for c in report.gap_cells()
        ],
        "demand_cells": [
            [names.get(c.theme, c.theme_name), c.region, c.demand, c.unmet, c.supply, c.supply_open]
            + [amount(lang, c.max_award_sum_eur)]
            for c in demand_cells
        ],
        "clusters": [
            [c.cluster, c.size, ", ".join(c.label) or "-", ", ".join(c.themes), ", ".join(c.regions)]
            + [", ".join(c.members)]
            for c in report.clusters
        ],
        "unmet": [
            [u.proposal_id, u.cluster, u.region, ", ".join(u.themes), u.best_instrument or "-", u.best_score, u.text]
            for u in report.unmet
        ],
        "closing": [
            [i.instrument_id, i.name, i.closes or "", i.days_left or 0, len(i.matching_proposals)]
            + [", ".join(i.matching_proposals)]
            for i in report.closing
        ],
        "unmatched": [
            [i.instrument_id, i.name, label(lang, "level", i.level), ", ".join(i.regions)]
            + [label(lang, "availability", i.availability), i.closes or ""]
            for i in report.unmatched
        ],
    }
    return template(lang).render(
        report=report,
        rows=rows,
        gap_classes=["gap" if c.gap else "" for c in demand_cells],
        gap_cells=report.gap_cells(),
        closing_with_demand=sum(bool(i.matching_proposals) for i in report.closing),
        images={k: "data:image/png;base64," + base64.b64encode(png).decode() for k, png in pngs.items()},
        files=files,
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


def write_report(
    report: GapReport,
    out: Path,
    lang: str = DEFAULT_LANGUAGE,
    theme_names: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
    draw: Callable[[GapReport], dict[str, bytes]] | None = None,
) -> list[Path]:
    """Write OUT.html (in `lang`) and its CSVs into a temporary folder, then move them all into place; return the paths.

    `draw` makes the charts (default: `charts` in `lang`).
    """
    check_target(out)
    folder = out.parent if str(out.parent) else Path(".")
    targets = csv_paths(out)
    contents: dict[Path, bytes] = {}
    for name, (head, rows) in tables(report).items():
        contents[targets[name]] = _csv(head, rows).encode("utf-8")
    files = {name: str(path) for name, path in targets.items()}
    pngs = charts(report, lang, theme_names, region_names) if draw is None else draw(report)
    contents[out] = render_html(report, pngs, files, lang, theme_names).encode("utf-8")
    _publish(folder, contents, manifest_path(out))
    return [out, *targets.values()]


def manifest_path(out: Path) -> Path:
    """`q3/gaps.html` -> `q3/gaps.manifest.json`: written last, it names the files of the complete report."""
    stem = out.with_suffix("") if out.suffix else out
    return stem.parent / f"{stem.name}.manifest.json"


def published(out: Path) -> bool:
    """Whether the report at `out` is one complete set: its manifest exists and every file it names has the
    SHA-256 it lists (a run killed between renames leaves no manifest, so a mixed set reads as unpublished)."""
    try:
        manifest = json.loads(manifest_path(out).read_text(encoding="utf-8"))
        folder = out.parent
        return bool(manifest["files"]) and all(
            hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
            for name, digest in manifest["files"].items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _publish(folder: Path, contents: dict[Path, bytes], manifest: Path) -> None:
    """Publish the files as one unit, the manifest last (as the index's artefacts are).

    Every file is written to a temporary folder in `folder` first. Then the old manifest is removed (from here on
    the set on disk reads as unpublished), each file renamed into place, and the new manifest, naming each file with
    its SHA-256, written last: the set is published when it appears. A failure half-way puts the old files (and
    manifest) back from hard links kept in the temporary folder, and removes the new files that had none; a kill
    leaves no manifest, which `published` reports. Temporary folders of killed runs are removed at the next start.
    """
    remove_stale(folder, ".gaps-*.tmp")
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".gaps-", suffix=".tmp"))
    targets = [*contents, manifest]
    backups: dict[Path, Path | None] = {}
    try:
        staged = []
        for n, (path, data) in enumerate(contents.items()):
            part = tmp / f"{n}.part"
            with part.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            staged.append((part, path))
        for n, path in enumerate(targets):
            backups[path] = _keep(path, tmp / f"{n}.old")
        manifest.unlink(missing_ok=True)
        for part, path in staged:
            os.replace(part, path)
        files = {path.name: hashlib.sha256(data).hexdigest() for path, data in contents.items()}
        with atomic_path(manifest) as part:
            part.write_text(json.dumps({"files": files}, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        _restore(backups)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _keep(path: Path, backup: Path) -> Path | None:
    """A hard link to the file at `path` (a copy where links are not possible), or None when there is none."""
    if not path.is_file():
        return None
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _restore(backups: dict[Path, Path | None]) -> None:
    """Put every file back as it was before publishing began: the old version, or nothing where there was none."""
    for path, backup in backups.items():
        try:
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        except OSError:
            continue  # the error that brought us here is the one to report

"""Load and validate the corpora (themes, instruments, regions, reference tables, dev cases) from YAML files.

Everything is checked here, at the edge: schema (unknown fields rejected), unique ids, and references between
files (a theme, region or instrument that does not exist). Problems are collected and raised together as one
`CorpusError` whose lines name file, line, record id, field, value and what is expected. The reference tables
(`places.yaml`, the gazetteer; `mappings.yaml`) are optional: without them the corpus has an empty gazetteer and no
mappings. Their references are checked once their schema passes.

    >>> corpus = load_corpus(Path("corpora"))
    >>> corpus.instrument("nl-wbso").name
    'WBSO'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from matcher.errors import CorpusError, UnknownIdError
from matcher.records import (
    NEIGHBOURS,
    PROVINCES,
    REGION_CODES,
    Collaboration,
    DevCase,
    FundedProject,
    Gazetteer,
    Instrument,
    JointProject,
    Mappings,
    OutOfScopeCase,
    PartnerCase,
    Region,
    Theme,
)
from matcher.records.messages import describe, describe_all
from matcher.text.themes import fold

M = TypeVar("M", bound=BaseModel)
# libyaml's loader when PyYAML was built with it: imported corpora run to thousands of records.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The regions partners can come from: the provinces and the neighbour regions (not NL or EU as a whole).
PARTNER_REGION_CODES = {**PROVINCES, **NEIGHBOURS}


@dataclass(frozen=True)
class Corpus:
    """Validated corpus records plus a hash of the files they came from."""

    themes: tuple[Theme, ...]
    instruments: tuple[Instrument, ...]
    regions: tuple[Region, ...]
    collaborations: tuple[Collaboration, ...]
    hash: str
    projects: tuple[FundedProject, ...] = ()  # funded projects from `matcher import operations`, as evidence
    places: Gazetteer = field(default_factory=Gazetteer)  # places.yaml
    mappings: Mappings = field(default_factory=Mappings)  # mappings.yaml
    joint_projects: tuple[JointProject, ...] = ()  # partner_evidence.yaml: real projects across regions
    _by_id: dict[str, Instrument] = field(default_factory=dict, repr=False, compare=False)
    _calls: dict[str, tuple[Instrument, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({i.id: i for i in self.instruments})
        calls: dict[str, list[Instrument]] = {}
        for inst in self.instruments:
            if inst.parent is not None:
                calls.setdefault(inst.parent, []).append(inst)
        self._calls.update({k: tuple(v) for k, v in calls.items()})

    def calls_of(self, instrument_id: str) -> tuple[Instrument, ...]:
        """The calls (records whose `parent` is `instrument_id`) of a programme, in corpus order; () for others."""
        return self._calls.get(instrument_id, ())

    def instrument(self, instrument_id: str) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownIdError(f"unknown instrument id {instrument_id!r}; `matcher instruments` lists them") from None

    def theme_names(self, lang: str = "nl") -> dict[str, str]:
        return {t.id: (t.name_en if lang == "en" else t.name) for t in self.themes}

    def region_names(self, lang: str = "nl") -> dict[str, str]:
        return {r.code: (r.name_en if lang == "en" and r.name_en else r.name) for r in self.regions}

    def region(self, code: str) -> Region | None:
        return next((r for r in self.regions if r.code == code), None)


def _read_yaml(path: Path) -> tuple[Any, list[int]]:
    """Parse a YAML file; return the data and the 1-based line of each top-level list item."""
    data, node = _read_tree(path)
    lines: list[int] = []
    if isinstance(node, yaml.SequenceNode):
        lines = [item.start_mark.line + 1 for item in node.value]
    return data, lines


def _read_tree(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; return the data and its node tree (which knows the line of every key and item)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorpusError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    loader = _LOADER(text)
    try:  # one pass: the node tree gives the line numbers, the document is built from it
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: invalid YAML: {exc}".replace("\n", " ")) from None
    finally:
        loader.dispose()
    return data, node


def _line(node: yaml.Node | None, loc: Sequence[str | int]) -> int:
    """1-based line of the key or item at `loc` (a path of keys and indexes), or of the deepest one found on it."""
    line = node.start_mark.line + 1 if node is not None else 0
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _parse_list(path: Path, items: Any, lines: Sequence[int], model: type[M], problems: list[str]) -> list[M]:
    if items is None:
        return []
    if not isinstance(items, list):
        problems.append(f"{path}: expected a list of records, got {type(items).__name__}")
        return []
    records: list[M] = []
    for n, item in enumerate(items):
        line = lines[n] if n < len(lines) else 0
        rid = item.get("id", item.get("code", "?")) if isinstance(item, dict) else "?"
        where = f"{path}:{line}: record {n + 1} (id {rid})"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping, got {type(item).__name__}")
            continue
        try:
            records.append(model.model_validate(item))
        except ValidationError as exc:
            problems.extend(f"{where}: {msg}" for msg in describe_all(exc))
    return records


def _check_refs(
    where: str, field_name: str, values: Iterable[str], known: Iterable[str], expected: str, problems: list[str]
) -> None:
    known_set = set(known)
    for value in values:
        if value not in known_set:
            problems.append(f"{where}: field '{field_name}': value {value!r} does not exist; expected {expected}")


def _duplicates(path_of: dict[str, Path], ids: Iterable[tuple[str, Path]], problems: list[str]) -> None:
    for rid, path in ids:
        if rid in path_of:
            problems.append(f"{path}: duplicate id {rid!r} (also in {path_of[rid]})")
        path_of[rid] = path


def _hash_files(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def instrument_files(root: Path) -> list[Path]:
    folder = root / "instruments"
    if not folder.is_dir():
        raise CorpusError(
            f"{folder}: folder not found (corpora root must hold instruments/, themes.yaml, regions.yaml)"
        )
    return sorted(folder.glob("*.yaml"))


PROJECTS_FILE = "projects.jsonl"
PLACES_FILE, MAPPINGS_FILE, EVIDENCE_FILE = "places.yaml", "mappings.yaml", "partner_evidence.yaml"
# Country parts of the region codes ("BE" of "BE-VLG"): the keys country words may have in places.yaml.
COUNTRIES = tuple(dict.fromkeys(code.split("-")[0] for code in REGION_CODES if "-" in code))


def extra_files(folders: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Instrument files (*.yaml) and projects files (projects.jsonl) of imported corpus folders (`--extra DIR`)."""
    inst: list[Path] = []
    projects: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise CorpusError(f"{folder}: extra corpus folder not found (make one with `matcher import ... --out DIR`)")
        found = sorted(folder.glob("*.yaml")), [folder / PROJECTS_FILE] if (folder / PROJECTS_FILE).is_file() else []
        if not found[0] and not found[1]:
            raise CorpusError(f"{folder}: no *.yaml instrument file and no {PROJECTS_FILE} in this extra folder")
        inst += found[0]
        projects += found[1]
    return inst, projects


def _parse_jsonl(path: Path, model: type[M], problems: list[str]) -> list[M]:
    records: list[M] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return records
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            rid = "?"
            try:
                rid = json.loads(line).get("id", "?")
            except (ValueError, AttributeError):
                pass
            problems.extend(f"{path}:{n}: record (id {rid}): {msg}" for msg in describe_all(exc))
    return records


def _load_table(path: Path, model: type[M], problems: list[str]) -> tuple[M, yaml.Node | None]:
    """A reference file (one mapping of sections) as one record; an empty one when the file is absent or invalid."""
    if not path.is_file():
        return model(), None
    data, node = _read_tree(path)
    try:
        return model.model_validate({} if data is None else data), node
    except ValidationError as exc:
        for err in exc.errors():
            line = _line(node, err["loc"])
            problems.append(f"{path}:{line}: {describe(err)}")
        return model(), node


def _check_ref(
    path: Path,
    node: yaml.Node | None,
    loc: tuple[str | int, ...],
    value: str,
    known: Iterable[str],
    expected: str,
    problems: list[str],
) -> None:
    if value not in known:
        where = f"{path}:{_line(node, loc)}: field '{'.'.join(map(str, loc))}'"
        problems.append(f"{where}: value {value!r} does not exist; expected {expected}")


def _check_places(path: Path, node: yaml.Node | None, places: Gazetteer, problems: list[str]) -> None:
    for section in ("regions", "compounds", "towns"):
        for code in getattr(places, section):
            _check_ref(path, node, (section, code), code, REGION_CODES, "a region code such as NL-GE", problems)
    for country in places.countries:
        expected = f"a country of the region codes ({', '.join(COUNTRIES)})"
        _check_ref(path, node, ("countries", country), country, COUNTRIES, expected, problems)
    listed = {fold(w) for code in places.towns for w in places.cities_of(code)}
    for at, name in enumerate(places.in_context):
        _check_ref(path, node, ("in_context", at), fold(name), listed, "a name listed under `towns`", problems)


def _check_mappings(
    path: Path,
    node: yaml.Node | None,
    mappings: Mappings,
    theme_ids: Sequence[str],
    instruments: dict[str, Instrument],
    problems: list[str],
) -> None:
    expected = "an id from themes.yaml"
    for name, programme in mappings.ft_programmes.items():
        if programme.theme is not None:
            _check_ref(path, node, ("ft_programmes", name, "theme"), programme.theme, theme_ids, expected, problems)
    for code, part in mappings.h2020_parts.items():
        for n, theme in enumerate(part.themes):
            _check_ref(path, node, ("h2020_parts", code, "themes", n), theme, theme_ids, expected, problems)
    for prefix, parent in mappings.ft_parents.items():
        if parent is not None:
            _check_ref(path, node, ("ft_parents", prefix), parent, instruments, "an instrument id", problems)
    for fund, ids in mappings.fund_routing.items():
        for n, instrument_id in enumerate(ids):
            loc = ("fund_routing", fund, n)
            _check_ref(path, node, loc, instrument_id, instruments, "an instrument id", problems)
            if instrument_id in instruments and fund not in instruments[instrument_id].funds:
                where = f"{path}:{_line(node, loc)}: field 'fund_routing.{fund}.{n}'"
                problems.append(
                    f"{where}: value {instrument_id!r} is not paid from {fund}; expected an instrument whose "
                    f"`funds` list {fund}"
                )


def _check_parents(instruments: Sequence[Instrument], path_of: dict[str, Path], problems: list[str]) -> None:
    """A call's `parent` is a programme of the corpus that is not itself a call."""
    by_id = {i.id: i for i in instruments}
    for inst in instruments:
        if inst.parent is None:
            continue
        parent = by_id.get(inst.parent)
        if parent is None:
            problems.append(
                f"{path_of[inst.id]}: record {inst.id}: field 'parent': value {inst.parent!r} does not exist; "
                "expected the id of a programme instrument of the corpus"
            )
        elif parent.parent is not None:
            problems.append(
                f"{path_of[inst.id]}: record {inst.id}: field 'parent': value {inst.parent!r} is itself a call "
                f"(of {parent.parent!r}); expected a programme"
            )


def load_corpus(root: Path, extra_instrument_files: Sequence[Path] = (), extra: Sequence[Path] = ()) -> Corpus:
    """Load and validate every corpus file under `root` and the `extra` folders; raise CorpusError listing all problems.

    An extra folder holds what `matcher import` wrote: instrument files (*.yaml), validated and indexed like the
    bundled ones, and/or a `projects.jsonl` of funded projects.
    """
    problems: list[str] = []
    more_instruments, project_paths = extra_files(extra)
    extra_instrument_files = [*extra_instrument_files, *more_instruments]
    theme_path, region_path = root / "themes.yaml", root / "regions.yaml"
    data, lines = _read_yaml(theme_path)
    themes = _parse_list(theme_path, data, lines, Theme, problems)
    theme_ids = [t.id for t in themes]

    inst_paths = [*instrument_files(root), *extra_instrument_files]
    if not inst_paths:
        problems.append(f"{root / 'instruments'}: no *.yaml instrument files")
    instruments: list[Instrument] = []
    seen: dict[str, Path] = {}
    for path in inst_paths:
        data, lines = _read_yaml(path)
        parsed = _parse_list(path, data, lines, Instrument, problems)
        _duplicates(seen, ((i.id, path) for i in parsed), problems)
        for inst in parsed:
            where = f"{path}: record {inst.id}"
            _check_refs(where, "themes", inst.themes, theme_ids, "an id from themes.yaml", problems)
            _check_refs(where, "regions", inst.regions, REGION_CODES, "a region code such as NL-GE or NL", problems)
        instruments.extend(parsed)

    _check_parents(instruments, seen, problems)

    data, lines = _read_yaml(region_path)
    if not isinstance(data, dict) or set(data) - {"regions", "collaborations"}:
        problems.append(f"{region_path}: expected a mapping with keys 'regions' and 'collaborations'")
        data = {}
    regions = _parse_list(region_path, data.get("regions"), [], Region, problems)
    collaborations = _parse_list(region_path, data.get("collaborations"), [], Collaboration, problems)
    inst_ids = [i.id for i in instruments]
    for reg in regions:
        where = f"{region_path}: region {reg.code}"
        _check_refs(where, "code", [reg.code], REGION_CODES, "a region code of CONTRACT.md", problems)
        _check_refs(where, "themes", reg.themes, theme_ids, "an id from themes.yaml", problems)
        _check_refs(where, "neighbours", reg.neighbours, REGION_CODES, "a region code", problems)
        programmes = [*reg.interreg_programmes, *([reg.efro_programme] if reg.efro_programme else [])]
        _check_refs(where, "programmes", programmes, inst_ids, "an instrument id", problems)
    for col in collaborations:
        where = f"{region_path}: collaboration {col.id}"
        _check_refs(where, "regions", col.regions, REGION_CODES, "a region code", problems)
        _check_refs(where, "themes", col.themes, theme_ids, "an id from themes.yaml", problems)
    _duplicates({}, ((r.code, region_path) for r in regions), problems)
    projects: list[FundedProject] = []
    seen_projects: dict[str, Path] = {}
    for path in project_paths:
        parsed_projects = _parse_jsonl(path, FundedProject, problems)
        _duplicates(seen_projects, ((p.id, path) for p in parsed_projects), problems)
        projects.extend(parsed_projects)

    places_path, mappings_path = root / PLACES_FILE, root / MAPPINGS_FILE
    places, node = _load_table(places_path, Gazetteer, problems)
    _check_places(places_path, node, places, problems)
    mappings, node = _load_table(mappings_path, Mappings, problems)
    _check_mappings(mappings_path, node, mappings, theme_ids, {i.id: i for i in instruments}, problems)

    evidence_path = root / EVIDENCE_FILE
    joint = _load_joint_projects(evidence_path, theme_ids, inst_ids, problems) if evidence_path.is_file() else []

    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the corpora:\n" + "\n".join(problems))
    tables = [path for path in (places_path, mappings_path, evidence_path) if path.is_file()]
    files = [theme_path, region_path, *inst_paths, *project_paths, *tables]
    return Corpus(
        tuple(themes),
        tuple(instruments),
        tuple(regions),
        tuple(collaborations),
        _hash_files(files),
        tuple(projects),
        places,
        mappings,
        joint_projects=tuple(joint),
    )


def _load_joint_projects(
    path: Path, theme_ids: Sequence[str], inst_ids: Sequence[str], problems: list[str]
) -> list[JointProject]:
    """partner_evidence.yaml: every region a code of the 16, every theme and programme known, no project twice."""
    data, lines = _read_yaml(path)
    found = _parse_list(path, data, lines, JointProject, problems)
    for n, jp in enumerate(found, 1):
        where = f"{path}: project {n} ({jp.project!r})"
        _check_refs(where, "regions", jp.regions, PARTNER_REGION_CODES, "a province or neighbour region code", problems)
        _check_refs(where, "themes", jp.themes, theme_ids, "an id from themes.yaml", problems)
        _check_refs(where, "programme", [jp.programme], inst_ids, "an instrument id", problems)
    _duplicates({}, ((f"{jp.project} ({jp.programme})", path) for jp in found), problems)
    return found


def load_partner_cases(path: Path, corpus: Corpus) -> list[PartnerCase]:
    """Real partner dev cases (`corpora/partner_cases_real.yaml`): regions of the 16, the paying instrument known,
    the applicant's own region not among its partners'."""
    problems: list[str] = []
    data, lines = _read_yaml(path)
    cases = _parse_list(path, data, lines, PartnerCase, problems)
    known = [i.id for i in corpus.instruments]
    evidence = {j.project for j in corpus.joint_projects}
    for case in cases:
        where = f"{path}: case {case.id}"
        codes = [case.region, *case.partner_regions]
        _check_refs(where, "regions", codes, PARTNER_REGION_CODES, "a province or neighbour region code", problems)
        _check_refs(where, "programme", [case.programme], known, "an instrument id of the corpus", problems)
        for name in case.projects:
            if name not in evidence:
                problems.append(f"{where}: field 'projects': value {name!r}: not a project of partner_evidence.yaml")
        if case.region in case.partner_regions:
            problems.append(f"{where}: field 'partner_regions': value {case.region!r}: is the applicant's own region")
    _duplicates({}, ((c.id, path) for c in cases), problems)
    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the partner cases:\n" + "\n".join(problems))
    return cases


def load_dev_cases(path: Path, corpus: Corpus) -> list[DevCase]:
    """Load labelled dev cases; every relevant instrument id must exist in the corpus."""
    problems: list[str] = []
    data, lines = _read_yaml(path)
    cases = _parse_list(path, data, lines, DevCase, problems)
    known = [i.id for i in corpus.instruments]
    for case in cases:
        where = f"{path}: case {case.id}"
        _check_refs(where, "relevant", case.relevant, known, "an instrument id of the corpus", problems)
        _check_refs(where, "partner_regions", case.partner_regions, REGION_CODES, "a region code", problems)
        if case.paid_by is not None:
            _check_refs(where, "paid_by", [case.paid_by], known, "an instrument id of the corpus", problems)
            if case.relevant.get(case.paid_by) != 2:
                problems.append(f"{where}: field 'paid_by': value {case.paid_by!r}: must be in 'relevant' with grade 2")
    _duplicates({}, ((c.id, path) for c in cases), problems)
    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the dev cases:\n" + "\n".join(problems))
    return cases


def load_out_of_scope(path: Path) -> list[OutOfScopeCase]:
    """Real requests that no instrument is for (`corpora/out_of_scope_real.yaml`), for the weak-match checks."""
    problems: list[str] = []
    data, lines = _read_yaml(path)
    cases = _parse_list(path, data, lines, OutOfScopeCase, problems)
    _duplicates({}, ((c.id, path) for c in cases), problems)
    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the out-of-scope cases:\n" + "\n".join(problems))
    return cases

"""End to end: the real `matcher` command on the bundled corpora with the real default model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED

MATCHER = shutil.which("matcher", path=str(Path(sys.executable).parent)) or "matcher"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    art = tmp_path_factory.mktemp("artefacts")
    return {**os.environ, "MATCHER_ARTEFACTS": str(art), "MATCHER_MODEL": "use-multilingual-v3"}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MATCHER, *args], capture_output=True, text=True, env=env, input=stdin, timeout=600)


def test_validate_bundled(env: dict[str, str]) -> None:
    proc = run(env, "validate")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ")


def test_match_dutch_proposal_from_stdin(env: dict[str, str]) -> None:
    text = "Wij willen zonnepanelen en een warmtepomp op ons bedrijfspand zetten en zoeken een fiscale regeling."
    proc = run(env, "match", "-", "--region", "NL-GE", "--applicant-type", "sme", "--json", stdin=text)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    top5 = [m["instrument_id"] for m in data["matches"][:5]]
    assert "nl-eia" in top5
    assert data["language"] == "nl"
    assert all(p["region"] != "NL-GE" for p in data["partner_regions"])


def test_triage_jsonl_in_order(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        {"id": "r1", "text": "Omscholing van werknemers in de bouw naar banen in de energietransitie."},
        {
            "id": "r2",
            "text": "A start-up wants a loan to test whether its medical device idea is feasible.",
            "applicant_type": "startup",
        },
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    proc = run(env, "triage", str(src), "--output", str(out), "--top", "5")
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["proposal_id"] for r in results] == ["r1", "r2"]
    assert all(len(r["matches"]) == 5 for r in results)


def test_bad_input_exits_2_without_traceback(env: dict[str, str], tmp_path: Path) -> None:
    proc = run(env, "match", "x", "--trl", "0")
    assert proc.returncode == 2 and "TRL '0' must be between 1 and 9" in proc.stderr
    src = tmp_path / "bad.csv"
    src.write_text("text,budget_eur\nok,-1\n")
    proc = run(env, "triage", str(src), "--output", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2 and "row 1: field 'budget_eur': value '-1'" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o.jsonl").exists()


@pytest.mark.skipif(not (SHARED / "tools" / "check_contract.py").exists(), reason="../shared/tools is absent")
def test_shared_contract_check(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "check_contract.py"), MATCHER], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "contract ok" in proc.stdout


def test_evaluate_engine_beats_both_baselines(env: dict[str, str]) -> None:
    proc = run(env, "evaluate")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.split("\n\n")[0].splitlines()  # the written dev cases; the real cases' tables follow
    rows = {line.split("|")[1].strip(): line.split("|")[2:6] for line in first[3:]}
    ndcg = {name: float(cells[3]) for name, cells in rows.items()}
    assert ndcg["hybrid (engine)"] > ndcg["lexical only"]
    assert ndcg["hybrid (engine)"] > ndcg["dense only"]
    assert "Real funded projects (dev_cases_real.yaml), with the form fields:" in proc.stdout
    assert "| out of scope (should be flagged) | 63 |" in proc.stdout
    # Partner regions on real collaborations: the engine beats the map (the neighbour baseline) on hit@1.
    table = proc.stdout.split("Partner regions (real collaborative projects")[1].split("\n\n")[0].splitlines()
    cells = {line.split("|")[1].strip(): [float(c) for c in line.split("|")[2:5]] for line in table[4:]}
    engine = next(v for k, v in cells.items() if k.startswith("engine as users get it"))
    learned = next(v for k, v in cells.items() if k.startswith("learned weights"))
    baseline = cells["neighbour baseline (neighbours, foreign first)"]
    assert engine[0] > baseline[0] and learned[0] > baseline[0] + 0.1 and learned[1] >= 0.85, cells


def test_triage_large_batch_uses_the_worker_path(env: dict[str, str], tmp_path: Path) -> None:
    # More rows than one encoding chunk, so encoding runs in forked workers while ranking goes on.
    topics = ["waterstof", "scholing van personeel", "een oogstrobot voor kassen", "medische hulpmiddelen"]
    src = tmp_path / "in.csv"
    src.write_text("id,text\n" + "".join(f"r{n},Wij werken aan {topics[n % 4]} (project {n})\n" for n in range(150)))
    out = tmp_path / "out.jsonl"
    proc = run(env, "triage", str(src), "--output", str(out), "--top", "3")
    assert proc.returncode == 0, proc.stderr
    assert "triage" in proc.stderr  # the progress bar
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["proposal_id"] for r in results] == [f"r{n}" for n in range(150)]
    single = run(env, "match", "Wij werken aan waterstof (project 0)", "--top", "3", "--json")
    expected = [m["instrument_id"] for m in json.loads(single.stdout)["matches"]]
    assert [m["instrument_id"] for m in results[0]["matches"]] == expected

"""Property-based fuzzing of the OpenAPI schema with schemathesis: no server errors, and every answer as documented.

The app runs in-process (ASGI, no network) over the tiny corpus of conftest with the hashing encoder, a store in a
temporary file, the rate limit out of the way and one valid API key. Bounded for CI: 20 examples per operation,
derandomized (the same cases on every run), no deadline. The routes that take an API key (stored runs, feedback,
gaps, triage) are fuzzed twice: with the keys that schemathesis makes up (401) and with the valid key (so bodies
reach validation and the store).

The stateful phase (`test_stored_runs_follow_their_links`) runs schemathesis's state machine over the operations of
stored runs with the valid key: it chains them along the schema's OpenAPI links (a triage's X-Triage-Run header to
reading and deleting that run, a listed run to reading or deleting it, a read one to deleting it, a delete to reading
it again: 404) and the one schemathesis infers (a 202 to its job). 40 scenarios of at most 6 calls, derandomized.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matcher import Settings
from matcher.io.batch import COLUMNS
from service.app import create_app
from service.config import ServiceSettings
from service.deps import get_store
from service.security import Caller
from service.storage import FeedbackStore

from .conftest import write_corpus

KEY = "fuzz-key"
ADMIN = Caller("admin", "default", "")  # sees every job
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The stateful phase chains the operations that store, list, read and delete triage runs (and a triage's job); an
# upload is left out, as schemathesis sends its multipart file without a file name (always 422).
STATEFUL_PATHS = {"/v1/triage", "/v1/triage/runs", "/v1/triage/runs/{run_id}", "/v1/jobs/{job_id}"}
STATEFUL_CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def not_stateful(ctx: Any) -> bool:
    return ctx.operation.path not in STATEFUL_PATHS  # a second `include` would widen the first one, not narrow it


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("fuzz")
    settings = Settings(corpora=write_corpus(root / "corpora"), artefacts=root / "artefacts", model="hashing")
    service = ServiceSettings(
        db=root / "feedback.sqlite3",
        api_key_digests=(hashlib.sha256(KEY.encode()).hexdigest(),),
        rate_per_minute=1_000_000,
    )
    # Loading the schema starts the app's lifespan, which builds the tiny hashing matcher and opens the store.
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, service)).include(
        path_regex=r"^/(v1/|health$)"
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's fixture-loaded schemas read `node._nodeid`, which pytest 9 no longer sets.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_api_answers_as_documented(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
    if case.operation.path.startswith(("/v1/feedback", "/v1/triage", "/v1/gaps")):
        case.call_and_validate(headers={"X-API-Key": KEY}, checks=CHECKS)


def test_every_error_answer_is_documented(api_schema: Any) -> None:
    raw = api_schema.raw_schema
    assert set(raw["paths"]) >= {
        "/v1/match",
        "/v1/triage",
        "/v1/triage/upload",
        "/v1/triage/runs",
        "/v1/triage/runs/{run_id}",
        "/v1/instruments",
        "/v1/instruments/{instrument_id}",
        "/v1/regions",
        "/v1/feedback",
        "/health",
        "/v1/jobs/{job_id}",
    }
    responses = raw["paths"]["/v1/triage"]["post"]["responses"]
    assert set(responses) == {"200", "202", "400", "401", "413", "422", "429", "503", "507"}
    assert responses["200"]["headers"]["X-Triage-Run"]["schema"] == {"type": "string"}
    assert set(responses["202"]["headers"]) == {"Location", "Retry-After"}  # a background job (service.jobs)
    assert set(raw["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]) == {"200", "401", "404", "422"}
    run = raw["paths"]["/v1/triage/runs/{run_id}"]
    assert set(run) == {"get", "delete"} and set(run["delete"]["responses"]) == {"204", "401", "404", "422", "503"}
    assert responses["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(raw["paths"]["/v1/feedback"]["post"]["responses"]) == {"201", "400", "401", "404", "413", "422", "503"}
    assert set(raw["components"]["schemas"]["TriageRow"]["properties"]) == set(COLUMNS)  # a triage file's columns
    links = responses["200"]["links"]
    assert {name: link["parameters"] for name, link in links.items()} == {
        "GetRun": {"run_id": "$response.header.X-Triage-Run"},
        "DeleteRun": {"run_id": "$response.header.X-Triage-Run"},
    }


def test_stored_runs_follow_their_links(api_schema: Any, tmp_path: Path) -> None:
    """Sequences of calls with the valid key along the schema's links: each answer as documented, no server error,
    and at least one triage stored, read back and deleted through its X-Triage-Run link."""
    app, service = api_schema.app, api_schema.app.state.service
    stores: list[FeedbackStore] = []
    seen: set[tuple[str, int]] = set()
    # Positive cases only: negative ones (no key, a malformed id) end a chain at its first step, and the stateless
    # test above sends them to every operation already.
    api_schema.config.phases.stateful.generation.update(modes=[GenerationMode.POSITIVE])

    class Workflow(api_schema.exclude(not_stateful).as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from an empty store, so the same steps get the same answers when Hypothesis
            # replays them (runs or idempotency keys an earlier scenario stored would change what can be drawn).
            db = tmp_path / f"scenario-{len(stores)}.sqlite3"
            stores.append(
                FeedbackStore.open(db, retention_days=service.retention_days, quota_bytes=service.quota_bytes)
            )
            app.dependency_overrides[get_store] = lambda: stores[-1]

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"X-API-Key": KEY}}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            seen.add((case.operation.label, response.status_code))
            if response.status_code == 202:  # the job's run is stored before the next step, not at some later one
                job, until = app.state.jobs.get(response.json()["id"], ADMIN), time.monotonic() + 30
                while job.status in ("queued", "running") and time.monotonic() < until:
                    time.sleep(0.01)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs or None)

    try:
        Workflow.run(
            settings=settings(
                max_examples=40,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    finally:
        app.dependency_overrides.clear()
        for store in stores:
            store.close()
    assert {
        ("POST /v1/triage", 200),
        ("GET /v1/triage/runs/{run_id}", 200),
        ("DELETE /v1/triage/runs/{run_id}", 204),
    } <= seen, sorted(seen)

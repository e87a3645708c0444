"""Generated OpenAPI clients work: a TypeScript client generated from the live
service's /openapi.json with openapi-typescript, called through openapi-fetch
(clients/typescript/, `make typescript-client` installs it), type-checks under
`tsc --strict` and runs the whole flow against gunicorn on PostgreSQL:
an idempotent create, a walk through the pages, conditional updates, the trash
and an incremental sync (clients/typescript/src/flow.ts)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest

from e2e import typescript_client as ts
from e2e.live import LiveService
from testing.tokens import mint

if not ts.client_installed():
    if os.environ.get("CI"):
        pytest.fail("the TypeScript client test needs Node and `make typescript-client`", pytrace=False)
    pytest.skip("run `make typescript-client` (npm) for the TypeScript client test", allow_module_level=True)

STEPS = ["idempotent-create", "list-pages", "conditional-update", "trash-and-restore", "incremental-sync"]


@pytest.fixture(scope="module")
def generated_types(live_service: LiveService) -> None:
    result = ts.generate_types(live_service.url("/openapi.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "export interface paths" in ts.GENERATED.read_text()


@pytest.fixture(scope="module")
def built_flow(generated_types: None) -> None:
    """dist/flow.js, compiled by tsc (nothing is emitted when the types do not check)."""
    result = ts.build()
    assert result.returncode == 0, f"tsc found calls the schema does not type:\n{result.stdout}{result.stderr}"


def test_tools_are_the_pinned_versions():
    pinned = ts.pinned_versions()

    assert {name: ts.installed_version(name) for name in pinned} == pinned


def test_generated_types_check_the_flow_under_tsc_strict(generated_types):
    result = ts.typecheck()

    assert result.returncode == 0, f"tsc found calls the schema does not type:\n{result.stdout}{result.stderr}"


# A module that lists tasks sending a request header and reads a response
# header the schema does not declare, and uses the generated types otherwise
# as the flow does.
UNDECLARED_HEADERS = """
import createClient from "openapi-fetch";
import { header } from "../src/expect.js";
import type { paths } from "../src/generated/openapi.js";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:9" });
const listed = await client.GET("/api/tasks", {
  params: { query: { limit: 1 }, header: { "X-Not-In-The-Schema": "sent" } },
});
export const link: string | null = header<paths["/api/tasks"]["get"], 200>(listed.response, "Link");
export const value: string | null = header<paths["/api/tasks"]["get"], 200>(listed.response, "X-Not-In-The-Schema");
"""


def test_tsc_refuses_headers_the_schema_does_not_declare(generated_types):
    """What makes the type check mean something: the headers the flow sends
    and reads are checked against the schema's declarations, not taken on
    trust. The two undeclared ones are the only errors."""
    result = ts.typecheck_module(UNDECLARED_HEADERS)

    errors = [line for line in result.stdout.splitlines() if ": error TS" in line]
    undeclared = [n for n, line in enumerate(UNDECLARED_HEADERS.splitlines(), 1) if "X-Not-In-The-Schema" in line]
    assert result.returncode != 0
    assert [int(line.split("(", 1)[1].split(",")[0]) for line in errors] == undeclared, result.stdout
    assert all("X-Not-In-The-Schema" in line for line in errors), result.stdout


def test_flow_runs_against_the_live_service(built_flow, live_service: LiveService, token_for: Callable[..., str]):
    # A user of its own: the flow expects the caller's tasks to be its own.
    token = token_for(f"ts-client-{uuid.uuid4().hex}")

    result = ts.run_flow(live_service.base_url, token)

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":", 1)[0] for line in lines] == [f"ok {n} {step}" for n, step in enumerate(STEPS, 1)]


def test_flow_stops_at_the_first_mismatch_and_says_what_it_was(built_flow, live_service: LiveService):
    """What makes a green run mean something: an answer other than the
    contract's (here a 401 for a token signed with another secret) ends the
    flow at once, non-zero, with what was expected and what came back."""
    result = ts.run_flow(live_service.base_url, mint("not-the-service-secret-" + "x" * 20, "mallory"))

    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(
        "FAIL 1 idempotent-create: POST /api/tasks with an Idempotency-Key: expected status 201, got 401 "
        '{"detail":"Invalid token'
    ), line

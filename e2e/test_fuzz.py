"""Schemathesis against the live service, driven by the service's own
`/openapi.json`: every operation, every check, with a valid token and without
one. Zero 5xx and zero answers the schema does not describe.

Settings (seed, examples per operation, checks) are in e2e/schemathesis.toml,
and a hook that keeps Idempotency-Keys apart in e2e/schemathesis_hooks.py;
each run writes a HAR file to e2e/artifacts/, which is what the requests are
counted from: one entry per request schemathesis actually sent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.live import ARTIFACTS, LiveService
from testing.tokens import mint

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
MIN_REQUESTS = 1000
# A bound on each run so a hung service fails the test instead of stalling CI;
# the whole module takes under a minute on two cores.
RUN_TIMEOUT_SECONDS = 300
# The operations in /openapi.json, as (method, templated path).
API_OPERATIONS = {
    ("GET", "/api/tasks"),
    ("POST", "/api/tasks"),
    ("GET", "/api/tasks/{id}"),
    ("PUT", "/api/tasks/{id}"),
    ("PATCH", "/api/tasks/{id}"),
    ("DELETE", "/api/tasks/{id}"),
    ("PATCH", "/api/tasks/{id}/complete"),
}
OPERATIONS = {("GET", "/"), ("GET", "/health"), *API_OPERATIONS}


@dataclass
class FuzzRun:
    """One `st run`: its exit code, console output and the requests it sent."""

    name: str
    returncode: int
    output: str
    entries: list[dict[str, Any]]
    seconds: float

    def operations_answered(self, status_class: int) -> set[tuple[str, str]]:
        """The documented operations that got at least one `status_class`xx answer."""
        return {
            operation
            for entry in self.entries
            if entry["response"]["status"] // 100 == status_class and (operation := operation_of(entry)) in OPERATIONS
        }


def operation_of(entry: dict[str, Any]) -> tuple[str, str]:
    """(method, templated path) of a HAR entry: /api/tasks/17 -> /api/tasks/{id}."""
    path = re.sub(r"^https?://[^/]+", "", entry["request"]["url"]).split("?")[0]
    return entry["request"]["method"], re.sub(r"^/api/tasks/[^/]+", "/api/tasks/{id}", path)


def run_schemathesis(
    service: LiveService, workdir: Path, name: str, *, phases: str, authorization: str | None
) -> FuzzRun:
    har = ARTIFACTS / f"fuzz-{name}.har"
    har.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        service.url("/openapi.json"),
        "--phases",
        phases,
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
    ]
    if authorization is not None:
        command += ["--header", f"Authorization: {authorization}"]
    started = time.monotonic()
    # The working directory holds whatever state schemathesis writes, away from the repository.
    result = subprocess.run(
        command,
        cwd=workdir,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    seconds = time.monotonic() - started
    # The console report, for whoever reads a CI failure (the token is masked in it).
    (ARTIFACTS / f"fuzz-{name}.log").write_text(result.stdout + result.stderr)
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    return FuzzRun(name, result.returncode, result.stdout + result.stderr, entries, seconds)


@pytest.fixture(scope="module")
def fuzz_runs(
    live_service: LiveService,
    token_for: Callable[..., str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, FuzzRun]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    return {
        # Every phase, stateful included: tasks created, read, changed, flipped and deleted through the schema's links.
        "valid-token": run_schemathesis(
            live_service,
            workdir,
            "valid-token",
            phases="examples,coverage,fuzzing,stateful",
            authorization=f"Bearer {token_for('schemathesis')}",
        ),
        # Without a usable token nothing is created, so there is nothing stateful to follow.
        "no-token": run_schemathesis(
            live_service, workdir, "no-token", phases="examples,coverage,fuzzing", authorization=None
        ),
        "token-signed-with-another-secret": run_schemathesis(
            live_service,
            workdir,
            "token-signed-with-another-secret",
            phases="examples,coverage,fuzzing",
            authorization=f"Bearer {mint('another-secret-of-at-least-32-characters', 'schemathesis')}",
        ),
    }


def test_fuzzing_with_a_valid_token_finds_no_failure(fuzz_runs: dict[str, FuzzRun]) -> None:
    run = fuzz_runs["valid-token"]

    assert run.returncode == 0, run.output
    # Every operation really succeeded at least once: a run of only 401s and
    # 404s would pass the checks and prove little.
    assert run.operations_answered(2) == OPERATIONS, run.output


@pytest.mark.parametrize("name", ["no-token", "token-signed-with-another-secret"])
def test_fuzzing_without_a_usable_token_gets_a_documented_401_from_every_api_operation(
    fuzz_runs: dict[str, FuzzRun], name: str
) -> None:
    run = fuzz_runs[name]
    api_entries = [entry for entry in run.entries if operation_of(entry) in API_OPERATIONS]

    # Schemathesis checked every answer against the schema, 401s included.
    assert run.returncode == 0, run.output
    assert {operation_of(entry) for entry in api_entries} == API_OPERATIONS
    assert {entry["response"]["status"] for entry in api_entries} == {401}
    for entry in api_entries:
        headers = {header["name"].lower(): header["value"] for header in entry["response"]["headers"]}
        # Present; its value is masked in the HAR by schemathesis's sanitizer, which also keeps the token out.
        assert "www-authenticate" in headers, entry
        assert set(json.loads(entry["response"]["content"]["text"])) == {"detail"}, entry


def test_fuzzing_gets_no_server_error_in_any_run(fuzz_runs: dict[str, FuzzRun]) -> None:
    """Counted from the HAR files too, whatever schemathesis's own checks say."""
    server_errors = [
        (run.name, *operation_of(entry), entry["response"]["status"])
        for run in fuzz_runs.values()
        for entry in run.entries
        if entry["response"]["status"] >= 500
    ]

    assert server_errors == []


def test_fuzzing_sends_at_least_1000_requests(
    fuzz_runs: dict[str, FuzzRun], report_figure: Callable[[str], None]
) -> None:
    total = sum(len(run.entries) for run in fuzz_runs.values())
    seconds = sum(run.seconds for run in fuzz_runs.values())

    for run in fuzz_runs.values():
        report_figure(f"schemathesis {run.name}: {len(run.entries)} requests in {run.seconds:.1f}s")
    report_figure(f"schemathesis total: {total} requests in {seconds:.1f}s, no 5xx, no schema violation")
    assert total >= MIN_REQUESTS

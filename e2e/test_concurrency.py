"""Many people at once, through gunicorn on PostgreSQL.

The workloads and their checks live in e2e/concurrency.py, shared with
e2e/test_scale_out.py, which runs them through nginx in front of two
instances. Figures are reported, never asserted on: speed is not what is tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from e2e.concurrency import (
    EXPLICIT_COMPLETIONS,
    FLIPS,
    assert_concurrent_explicit_completions_change_the_task_once,
    assert_concurrent_flips_alternate_and_cancel_out,
    assert_every_acknowledged_write_kept_and_listings_private,
    run_parallel_users,
)
from e2e.live import LiveService


def test_fifty_users_in_parallel_lose_no_acknowledged_write_and_see_only_their_own_tasks(
    live_service: LiveService,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    load = run_parallel_users(live_service, token_for)
    report_figure(load.summary())
    assert_every_acknowledged_write_kept_and_listings_private(load, pg)


def test_concurrent_flips_of_one_task_are_never_lost(
    live_service: LiveService,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    in_order = assert_concurrent_flips_alternate_and_cancel_out(live_service, token_for, pg)
    report_figure(f"{FLIPS} concurrent flips of one task: {in_order.count(True)} answered true, final state unchanged")


def test_concurrent_explicit_completions_are_idempotent(
    live_service: LiveService,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    assert_concurrent_explicit_completions_change_the_task_once(live_service, token_for, pg)
    report_figure(
        f"{EXPLICIT_COMPLETIONS} concurrent completed=true, then {EXPLICIT_COMPLETIONS} completed=false: "
        "one change each"
    )

"""Where the planning backfill puts tasks without a position among one user's
tasks listed newest first (tasks/planning_backfill.py); the migration itself
is tested with data in test_migrations.py."""

import pytest

from tasks.planning_backfill import keys_for_missing


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        pytest.param([None, None, None], {0: "a0", 1: "a1", 2: "a2"}, id="none-yet-ascending-newest-first"),
        pytest.param([None, None, "a0", "a1"], {0: "Zy", 1: "Zz"}, id="newer-stragglers-go-first"),
        pytest.param(["a0", "a1", None], {2: "a2"}, id="a-resumed-run-goes-last"),
        pytest.param(["a0", None, "a1"], {1: "a0V"}, id="between-its-neighbours"),
        pytest.param(["a1", "a5", None, "a3"], {2: "a0"}, id="neighbours-out-of-order-go-first"),
        pytest.param(
            [None, "a1", "a5", None, "a3"], {0: "a0", 3: "Zz"}, id="out-of-order-run-goes-before-the-first-run-too"
        ),
        pytest.param(["a0", "a1"], {}, id="nothing-missing"),
        pytest.param([], {}, id="no-tasks"),
    ],
)
def test_keys_for_missing(positions: list[str | None], expected: dict[int, str]) -> None:
    assert keys_for_missing(positions) == expected

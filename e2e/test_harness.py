"""The harness itself: a production-mode gunicorn on a migrated PostgreSQL database."""

from typing import Any

import psycopg
import requests

from e2e.live import LiveService


def test_live_service_stores_an_acknowledged_task_in_postgresql(
    live_service: LiveService, token_for: Any, pg: psycopg.Connection[Any]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('harness-user')}"}
    response = requests.post(
        live_service.url("/api/tasks"), json={"title": "From the harness"}, headers=headers, timeout=5
    )
    assert response.status_code == 201, response.text
    row = pg.execute("SELECT user_id, title FROM tasks_task WHERE id = %s", [response.json()["id"]]).fetchone()
    assert row == ("harness-user", "From the harness")

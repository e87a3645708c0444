"""Reading GET /api/sync the way a client does, for tests of what a change
tells the other devices."""

from __future__ import annotations

from typing import Any


def sync_token(client: Any) -> str:
    """The caller's sync token as of now (a full sync's)."""
    response = client.get("/api/sync")
    assert response.status_code == 200, response.content
    return response.json()["sync_token"]


def changes_since(client: Any, token: str) -> tuple[list[int], list[int]]:
    """(ids of the tasks in `items`, `deleted`) of a sync from `token`."""
    response = client.get("/api/sync", {"token": token})
    assert response.status_code == 200, response.content
    body = response.json()
    return [item["id"] for item in body["items"]], body["deleted"]

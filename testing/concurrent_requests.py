"""Requests sent at once from threads, each with its own API client and so
its own database connection (for tests of row locks on PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from rest_framework.test import APIClient

Request = Callable[[APIClient], Any]


def send_concurrently(token: str, requests: list[Request], timeout: float = 120) -> list[Any]:
    """Run each request(client) in its own thread, all released together;
    returns their responses in the order of `requests`."""
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)
    errors: list[BaseException] = []

    def worker(index: int, request: Request) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(timeout=30)
            responses[index] = request(client)
        except Exception as error:  # reported by the caller, not swallowed
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == [], errors
    return responses

"""The sync headers across origins, in Chromium: a page on an allowed origin
sends If-Match, If-None-Match, Idempotency-Key and X-Request-ID with its
bearer token through fetch() (each call preflighted, since none of them is
CORS-safelisted), and its script reads ETag, Idempotent-Replayed, Location,
Link and X-Request-ID from the answers. A header the service sends but does
not expose stays unreadable: the control that shows exposure is what makes
the others readable."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import requests
from playwright.sync_api import Page

from e2e.browser.static_site import serve_static
from e2e.live import LiveService
from testing.processes import free_port

# Every call names its step, so a call the browser blocked says which one.
SCRIPT = """
async ({api, token, createKey, flipKey, requestId}) => {
  const auth = {Authorization: `Bearer ${token}`};
  const json = {"Content-Type": "application/json"};
  async function call(step, path, init) {
    let response;
    try {
      response = await fetch(api + path, init);
    } catch (error) {
      throw new Error(`${step}: ${error}`);
    }
    const read = (name) => response.headers.get(name);
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : null,
      etag: read("ETag"),
      replayed: read("Idempotent-Replayed"),
      location: read("Location"),
      link: read("Link"),
      requestId: read("X-Request-ID"),
      unexposed: read("X-Content-Type-Options"),
    };
  }
  const create = {
    method: "POST",
    headers: {...auth, ...json, "Idempotency-Key": createKey},
    body: JSON.stringify({title: "From the browser"}),
  };
  const out = {};
  out.created = await call("create", "/api/tasks", create);
  out.createReplayed = await call("create again", "/api/tasks", create);
  const task = `/api/tasks/${out.created.body.id}`;
  out.notModified = await call("get if-none-match", task, {headers: {...auth, "If-None-Match": out.created.etag}});
  const edit = (etag) => ({
    method: "PATCH",
    headers: {...auth, ...json, "If-Match": etag, "X-Request-ID": requestId},
    body: JSON.stringify({title: "Edited in the browser"}),
  });
  out.updated = await call("patch if-match", task, edit(out.created.etag));
  out.stale = await call("patch stale if-match", task, edit(out.created.etag));
  const flip = {method: "PATCH", headers: {...auth, "If-Match": out.updated.etag, "Idempotency-Key": flipKey}};
  out.flipped = await call("flip", `${task}/complete`, flip);
  out.flipReplayed = await call("flip again", `${task}/complete`, flip);
  await call("second create", "/api/tasks", {method: "POST", headers: {...auth, ...json}, body: '{"title": "Two"}'});
  out.page = await call("first page", "/api/tasks?limit=1", {headers: auth});
  return out;
}
"""


def test_a_page_on_an_allowed_origin_sends_the_sync_headers_and_reads_the_answers(
    page: Page,
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    service = start_service(name="browser-sync", CORS_ALLOWED_ORIGINS=origin)
    user = f"browser-sync-{uuid.uuid4().hex[:8]}"
    token = token_for(user)
    request_id = f"browser-{uuid.uuid4().hex}"

    with serve_static("127.0.0.1", port):
        page.add_init_script(f"window.FRONTEND_CONFIG = {json.dumps({'api': service.base_url, 'token': token})};")
        page.goto(f"{origin}/frontend.html")
        out = page.evaluate(
            SCRIPT,
            {
                "api": service.base_url,
                "token": token,
                "createKey": f"create-{uuid.uuid4()}",
                "flipKey": f"flip-{uuid.uuid4()}",
                "requestId": request_id,
            },
        )

    created, task_id = out["created"], out["created"]["body"]["id"]
    assert created["status"] == 201
    assert created["etag"] == created["body"]["etag"]
    assert created["location"] == f"/api/tasks/{task_id}"
    assert created["replayed"] is None
    assert out["createReplayed"]["status"] == 201
    assert out["createReplayed"]["replayed"] == "true"
    assert (out["createReplayed"]["location"], out["createReplayed"]["etag"]) == (created["location"], created["etag"])

    assert (out["notModified"]["status"], out["notModified"]["etag"]) == (304, created["etag"])
    updated = out["updated"]
    assert updated["status"] == 200
    assert updated["requestId"] == request_id
    assert updated["etag"] == updated["body"]["etag"] != created["etag"]
    assert out["stale"]["status"] == 412
    assert out["stale"]["etag"] == updated["etag"]
    assert out["stale"]["body"] == {"detail": "Precondition failed: the task has changed"}

    assert (out["flipped"]["status"], out["flipped"]["body"]["completed"]) == (200, True)
    assert out["flipped"]["replayed"] is None
    assert out["flipReplayed"]["replayed"] == "true"
    assert out["flipReplayed"]["body"] == out["flipped"]["body"]
    assert out["page"]["link"] is not None and out["page"]["link"].endswith('rel="next"')

    # The control: the service sends this header, but does not expose it.
    assert requests.get(service.url("/health"), timeout=15).headers["X-Content-Type-Options"] == "nosniff"
    assert {answer["unexposed"] for answer in out.values()} == {None}
    rows = pg.execute("SELECT title, completed FROM tasks_task WHERE user_id = %s ORDER BY id", [user]).fetchall()
    assert rows == [("Edited in the browser", True), ("Two", False)]

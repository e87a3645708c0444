// The whole client flow against a running service, through openapi-fetch and
// the types openapi-typescript generated from the service's own /openapi.json
// (src/generated/openapi.ts; docs/testing.md says how to run it). Every call,
// parameter, request header, body and response header below is checked
// against that schema by `tsc --strict`: a schema that stops describing one of
// them fails the type check, not just this run.
//
//   TODO_API_URL=http://127.0.0.1:8000 TODO_API_TOKEN=<jwt> node dist/flow.js [step ...]
//
// Prints one line per step; exits 1 on the first mismatch, with what was
// expected and what came back. The steps are independent of each other (each
// makes the tasks it needs), so one can be run alone by name. Use a fresh user
// id: the sync and clear-completed steps expect the caller's tasks to be the
// flow's own.

import { randomUUID } from "node:crypto";

import createClient from "openapi-fetch";

import { answered, check, expectEqual, header, Mismatch, refused, show } from "./expect.js";
import type { components, paths } from "./generated/openapi.js";

type Task = components["schemas"]["Task"];

// The operations whose response headers the flow reads.
type CreateTask = paths["/api/tasks"]["post"];
type ListTasks = paths["/api/tasks"]["get"];
type GetTask = paths["/api/tasks/{id}"]["get"];
type PatchTask = paths["/api/tasks/{id}"]["patch"];
type RestoreTask = paths["/api/trash/{id}/restore"]["post"];

function byId(tasks: readonly { id: number }[]): number[] {
  return tasks.map((task) => task.id);
}

function sortedIds(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

const baseUrl = process.env.TODO_API_URL;
const token = process.env.TODO_API_TOKEN;
if (!baseUrl || !token) {
  console.error("usage: TODO_API_URL=<service URL> TODO_API_TOKEN=<JWT> node dist/flow.js [step ...]");
  process.exit(2);
}

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

async function createTask(title: string, completed = false): Promise<Task> {
  const result = await client.POST("/api/tasks", { body: { title, completed } });
  return answered(result, 201, `POST /api/tasks ${show(title)}`);
}

async function liveTasks(): Promise<Task[]> {
  return answered(await client.GET("/api/tasks"), 200, "GET /api/tasks").items;
}

// 1. POST /api/tasks with an Idempotency-Key, twice: the second answer is the
//    first one again, marked Idempotent-Replayed, and no second task exists.
async function idempotentCreate(): Promise<string> {
  const key = `ts-flow-${randomUUID()}`;
  const title = `Idempotent ${key}`;
  const send = () =>
    client.POST("/api/tasks", {
      params: { header: { "Idempotency-Key": key } },
      body: { title, description: "sent twice with one key" },
    });

  const first = await send();
  const task = answered(first, 201, "POST /api/tasks with an Idempotency-Key");
  const location = header<CreateTask, 201>(first.response, "Location");
  const etag = header<CreateTask, 201>(first.response, "ETag");
  expectEqual(task.title, title, "the created task's title");
  expectEqual(location && new URL(location, baseUrl).pathname, `/api/tasks/${task.id}`, "Location of the create");
  expectEqual(etag, task.etag, "ETag header of the create (the task's etag field)");
  const firstReplayed = header<CreateTask, 201>(first.response, "Idempotent-Replayed");
  expectEqual(firstReplayed, null, "Idempotent-Replayed on the first answer");

  const again = await send();
  const replayed = answered(again, 201, "the same POST /api/tasks again");
  const replayedHeader = header<CreateTask, 201>(again.response, "Idempotent-Replayed");
  expectEqual(replayedHeader, "true", "Idempotent-Replayed on the repeat");
  expectEqual(replayed, task, "the repeat's body");
  expectEqual(header<CreateTask, 201>(again.response, "Location"), location, "the repeat's Location");
  expectEqual(header<CreateTask, 201>(again.response, "ETag"), etag, "the repeat's ETag");

  const search = await client.GET("/api/tasks", { params: { query: { q: key } } });
  const found = answered(search, 200, "GET /api/tasks?q=<the key>");
  expectEqual(byId(found.items), [task.id], "tasks with the key in their title (the repeat created none)");
  return `POST /api/tasks twice with one Idempotency-Key -> task ${task.id}, the repeat replayed, no second task`;
}

// 2. GET /api/tasks?limit=N, following next_cursor until it is null: every
//    task appears exactly once, and Link is there exactly when a page follows.
async function listPages(): Promise<string> {
  const created: Task[] = [];
  for (let n = 1; n <= 5; n++) created.push(await createTask(`Page walk ${n}`));
  const live = await liveTasks();

  const limit = 2;
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: NonNullable<ListTasks["parameters"]["query"]> = cursor === null ? { limit } : { limit, cursor };
    const result = await client.GET("/api/tasks", { params: { query } });
    const page = answered(result, 200, `GET /api/tasks page ${pages + 1}`);
    pages += 1;
    check(page.items.length <= limit, `page ${pages} holds ${page.items.length} items, over limit=${limit}`);
    expectEqual(page.count, page.items.length, `page ${pages}: count`);
    const link = header<ListTasks, 200>(result.response, "Link");
    check(
      (link !== null) === (page.next_cursor !== null),
      `page ${pages}: Link ${show(link)} with next_cursor ${show(page.next_cursor)}`,
    );
    for (const item of page.items) {
      check(typeof item.etag === "string" && item.etag.length > 0, `page ${pages}: task ${item.id} has no etag`);
    }
    seen.push(...byId(page.items));
    cursor = page.next_cursor;
    check(pages <= live.length + 1, `still a next_cursor after ${pages} pages of ${limit}`);
  } while (cursor !== null);

  expectEqual(seen, byId(live), "the tasks of the walk, in order (the list without limit)");
  for (const task of created) {
    expectEqual(seen.filter((id) => id === task.id).length, 1, `times task ${task.id} was seen`);
  }
  return `${seen.length} tasks in ${pages} pages of limit=${limit}, each once, next_cursor null on the last`;
}

// 3. ETag / If-Match / If-None-Match on one task.
async function conditionalUpdate(): Promise<string> {
  const { id } = await createTask("Conditional update");
  const path = { id };

  const read = await client.GET("/api/tasks/{id}", { params: { path } });
  const task = answered(read, 200, "GET /api/tasks/{id}");
  const etag = header<GetTask, 200>(read.response, "ETag");
  check(etag !== null && /^"[^"]+"$/.test(etag), `GET /api/tasks/{id}: ETag ${show(etag)} is not a strong ETag`);
  expectEqual(task.etag, etag, "the etag field (the ETag header)");

  const patched = await client.PATCH("/api/tasks/{id}", {
    params: { path, header: { "If-Match": etag } },
    body: { title: "Conditional update, changed" },
  });
  const changed = answered(patched, 200, "PATCH with If-Match: the current ETag");
  const newEtag = header<PatchTask, 200>(patched.response, "ETag");
  expectEqual(changed.title, "Conditional update, changed", "the patched title");
  check(newEtag !== null && newEtag !== etag, `the PATCH's ETag ${show(newEtag)} should differ from ${etag}`);
  expectEqual(changed.etag, newEtag, "the patched task's etag field (its ETag header)");

  const stale = await client.PATCH("/api/tasks/{id}", {
    params: { path, header: { "If-Match": etag } },
    body: { title: "Lost update" },
  });
  const error = refused(stale, 412, "PATCH with If-Match: a stale ETag");
  expectEqual(error?.detail, "Precondition failed: the task has changed", "the 412's detail");
  expectEqual(header<PatchTask, 412>(stale.response, "ETag"), newEtag, "the 412's ETag (the current one)");

  const unchanged = answered(await client.GET("/api/tasks/{id}", { params: { path } }), 200, "GET after the 412");
  expectEqual(unchanged, changed, "the task after the refused PATCH");

  const cached = await client.GET("/api/tasks/{id}", { params: { path, header: { "If-None-Match": newEtag } } });
  expectEqual(cached.response.status, 304, "GET with If-None-Match: the current ETag, status");
  expectEqual(header<GetTask, 304>(cached.response, "ETag"), newEtag, "the 304's ETag");
  return `task ${id}: If-Match -> 200 with a new ETag, stale If-Match -> 412, If-None-Match -> 304`;
}

// 4. DELETE moves a task to the trash, restore brings it back, clear-completed
//    trashes every completed task.
async function trashAndRestore(): Promise<string> {
  const task = await createTask("Trash and restore");
  const done = [await createTask("Completed one", true), await createTask("Completed two", true)];
  const path = { id: task.id };

  const deleted = await client.DELETE("/api/tasks/{id}", { params: { path } });
  expectEqual(deleted.response.status, 204, "DELETE /api/tasks/{id}, status");
  const gone = refused(await client.GET("/api/tasks/{id}", { params: { path } }), 404, "GET a trashed task");
  expectEqual(gone?.detail, "Task not found", "the trashed task's 404 detail");

  const trash = answered(await client.GET("/api/trash"), 200, "GET /api/trash");
  expectEqual(trash.count, trash.items.length, "the trash's count");
  const trashed = trash.items.find((item) => item.id === task.id);
  check(trashed !== undefined, `GET /api/trash: task ${task.id} missing from ${show(byId(trash.items))}`);
  check(
    typeof trashed.deleted_at === "string" && !Number.isNaN(Date.parse(trashed.deleted_at)),
    `GET /api/trash: task ${task.id} has deleted_at ${show(trashed.deleted_at)}`,
  );

  const restore = await client.POST("/api/trash/{id}/restore", { params: { path } });
  const restored = answered(restore, 200, "POST /api/trash/{id}/restore");
  const { updated_at: _before, etag: _oldEtag, ...kept } = task;
  const { updated_at: _after, etag: _newEtag, ...back } = restored;
  expectEqual(back, kept, "the restored task, updated_at and etag aside");
  expectEqual(header<RestoreTask, 200>(restore.response, "ETag"), restored.etag, "the restore's ETag");
  const live = answered(await client.GET("/api/tasks/{id}", { params: { path } }), 200, "GET the restored task");
  expectEqual(live, restored, "the restored task, read again");
  const after = answered(await client.GET("/api/trash"), 200, "GET /api/trash after the restore");
  check(!byId(after.items).includes(task.id), `task ${task.id} is still in the trash after its restore`);

  const cleared = answered(await client.POST("/api/tasks/clear-completed"), 200, "POST /api/tasks/clear-completed");
  expectEqual(cleared, { trashed: 2, ids: sortedIds(byId(done)) }, "the clear-completed answer");
  const completed = answered(
    await client.GET("/api/tasks", { params: { query: { status: "completed" } } }),
    200,
    "GET /api/tasks?status=completed",
  );
  expectEqual(completed.items, [], "completed tasks after clear-completed");
  const trashNow = answered(await client.GET("/api/trash"), 200, "GET /api/trash after clear-completed");
  for (const task of done) {
    check(byId(trashNow.items).includes(task.id), `task ${task.id} is not in the trash after clear-completed`);
  }
  return `task ${task.id} trashed at ${trashed.deleted_at} and restored; clear-completed trashed ${show(cleared.ids)}`;
}

// 5. A full sync, some changes, then the delta since its token: applying the
//    delta to the full copy gives exactly the caller's live tasks.
async function incrementalSync(): Promise<string> {
  const kept = await createTask("Sync: will be changed");
  const doomed = await createTask("Sync: will be trashed");

  const full = answered(await client.GET("/api/sync"), 200, "GET /api/sync");
  expectEqual(full.deleted, [], "the full sync's deleted");
  const everyLiveTask = sortedIds(byId(await liveTasks()));
  expectEqual(sortedIds(byId(full.items)), everyLiveTask, "the full sync's items (every live task)");
  check(typeof full.sync_token === "string" && full.sync_token.length > 0, "the full sync has no sync_token");
  const copy = new Map(full.items.map((task) => [task.id, task]));

  const added = await createTask("Sync: created after the full sync");
  const changed = answered(
    await client.PATCH("/api/tasks/{id}", { params: { path: { id: kept.id } }, body: { priority: "high" } }),
    200,
    "PATCH a task after the full sync",
  );
  const trashed = await client.DELETE("/api/tasks/{id}", { params: { path: { id: doomed.id } } });
  expectEqual(trashed.response.status, 204, "DELETE a task after the full sync, status");

  const delta = answered(
    await client.GET("/api/sync", { params: { query: { token: full.sync_token } } }),
    200,
    "GET /api/sync?token=",
  );
  expectEqual(byId(delta.items), sortedIds([added.id, changed.id]), "the delta's items (changed since the token)");
  expectEqual(delta.items.find((task) => task.id === changed.id), changed, "the changed task in the delta");
  expectEqual(delta.items.find((task) => task.id === added.id), added, "the created task in the delta");
  expectEqual(delta.deleted, [doomed.id], "the delta's deleted");
  check(delta.sync_token !== full.sync_token, "the delta's sync_token is the full sync's");

  for (const task of delta.items) copy.set(task.id, task);
  for (const id of delta.deleted) copy.delete(id);
  const live = await liveTasks();
  expectEqual(
    [...copy.values()].sort((a, b) => a.id - b.id),
    [...live].sort((a, b) => a.id - b.id),
    "the full sync with the delta applied (the live tasks)",
  );

  const quiet = answered(
    await client.GET("/api/sync", { params: { query: { token: delta.sync_token } } }),
    200,
    "GET /api/sync?token= with no change since",
  );
  expectEqual([quiet.items, quiet.deleted], [[], []], "a delta with no change since its token");
  const { items, deleted } = delta;
  return `full sync of ${full.items.length}; the delta (${items.length} changed, ${deleted.length} deleted) syncs it`;
}

const steps: [name: string, run: () => Promise<string>][] = [
  ["idempotent-create", idempotentCreate],
  ["list-pages", listPages],
  ["conditional-update", conditionalUpdate],
  ["trash-and-restore", trashAndRestore],
  ["incremental-sync", incrementalSync],
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !steps.some(([step]) => step === name));
if (unknown.length > 0) {
  console.error(`unknown step ${unknown.join(", ")}: the steps are ${steps.map(([name]) => name).join(", ")}`);
  process.exit(2);
}

for (const [index, [name, run]] of steps.entries()) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const label = `${index + 1} ${name}`;
  try {
    console.log(`ok ${label}: ${await run()}`);
  } catch (error) {
    if (!(error instanceof Mismatch)) throw error;
    console.log(`FAIL ${label}: ${error.message}`);
    process.exit(1);
  }
}

/**
 * `createApiRuntime`, the apps' one server-side entry: its fetch handler (what the Next.js route
 * handler serves) driven by `@trpc/client` with httpBatchLink and superjson, its caller, its
 * background jobs; no Next.js process needed.
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { expect } from "vitest";
import * as Y from "yjs";

import { DOC_TEXT_NAME } from "@repo/schema";

import type { AppRouter } from "../src";
import type { ApiRuntime } from "../src/runtime";
import type { TestUser } from "./support";
import { MAX_REQUEST_BYTES } from "../src";
import { createApiRuntime } from "../src/runtime";
import { apiTest, createUser, newId, tick } from "./support";

/** A runtime of the file's database, closed after the file. */
const test = apiTest.extend(
  "runtime",
  { scope: "file" },
  async ({ database }, { onCleanup }) => {
    const runtime = createApiRuntime({ databaseUrl: database.url });
    onCleanup(() => runtime.close());
    return runtime;
  },
);

let alice: TestUser;
test.beforeAll(async ({ db }) => {
  alice = await createUser(db, "Alice");
});

function client(runtime: ApiRuntime, token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "http://web.test/api/trpc",
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
        fetch: (input, init) =>
          runtime.handleFetch(new Request(input as string, init), {
            endpoint: "/api/trpc",
          }),
      }),
    ],
  });
}

test("handleFetch runs a batch of one client's mutations in order and returns dates as dates", async ({
  runtime,
}) => {
  const trpc = client(runtime, alice.token);
  const projectId = newId();
  const at = tick();
  const [project, issue] = await Promise.all([
    trpc.projects.create.mutate({
      clientId: alice.clientId,
      mutationId: 1,
      args: { id: projectId, ownerMemberId: newId(), name: "Via fetch", at },
    }),
    trpc.issues.create.mutate({
      clientId: alice.clientId,
      mutationId: 2,
      args: { id: newId(), projectId, title: "Batched", sortKey: "a", at },
    }),
  ]);
  expect(project.data.project.createdAt).toEqual(at);
  expect(issue.data.createdAt).toBeInstanceOf(Date);
  expect(issue.txid).toBeGreaterThan(project.txid);
});

test("handleFetch answers bad input with BAD_REQUEST and field errors", async ({
  runtime,
}) => {
  const error = await client(runtime, alice.token)
    .issues.create.mutate({
      clientId: alice.clientId,
      mutationId: 3,
      args: {
        id: newId(),
        projectId: newId(),
        title: "",
        sortKey: "a",
        at: tick(),
      },
    })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCClientError);
  expect((error as TRPCClientError<AppRouter>).data).toMatchObject({
    code: "BAD_REQUEST",
    httpStatus: 400,
    reason: "invalid_input",
    zodError: { fieldErrors: { title: [expect.any(String)] } },
  });
});

test("handleFetch refuses a body over MAX_REQUEST_BYTES with 413 before parsing it", async ({
  runtime,
}) => {
  const response = await runtime.handleFetch(
    new Request("http://web.test/api/trpc/comments.create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(MAX_REQUEST_BYTES + 1),
    }),
    { endpoint: "/api/trpc" },
  );
  expect(response.status).toBe(413);
});

test("caller calls procedures as the user of the headers", async ({
  runtime,
}) => {
  const caller = await runtime.caller(
    new Headers({ authorization: `Bearer ${alice.token}` }),
  );
  const { data } = await caller.projects.create({
    clientId: alice.clientId,
    mutationId: 10,
    args: { id: newId(), ownerMemberId: newId(), name: "Caller", at: tick() },
  });
  expect(data.project.ownerId).toBe(alice.id);
  const anonymous = await runtime.caller(new Headers());
  expect((await anonymous.system.status()).walLevel).toBe("logical");
});

test("startBackgroundJobs starts the jobs once per runtime", ({ runtime }) => {
  const jobs = runtime.startBackgroundJobs();
  expect(runtime.startBackgroundJobs()).toBe(jobs);
});

test("handleFollow streams a document's committed edits to a member, but not the member's own", async ({
  runtime,
  db,
}) => {
  const owner = await createUser(db, "Fay");
  const trpc = client(runtime, owner.token);
  const projectId = newId();
  const issueId = newId();
  await trpc.projects.create.mutate({
    clientId: owner.clientId,
    mutationId: owner.nextMutationId++,
    args: { id: projectId, ownerMemberId: newId(), name: "Relay", at: tick() },
  });
  await trpc.issues.create.mutate({
    clientId: owner.clientId,
    mutationId: owner.nextMutationId++,
    args: { id: issueId, projectId, title: "Relay", sortKey: "a0", at: tick() },
  });
  const follow = (token: string | null, client = newId()) =>
    runtime.handleFollow(
      new Request(
        `http://web.test/api/docs/follow?field=issues.description&row=${issueId}&client=${client}`,
        { headers: token === null ? {} : { authorization: `Bearer ${token}` } },
      ),
    );
  const outsider = await createUser(db, "Olga");
  expect((await follow(null)).status).toBe(401);
  expect((await follow(outsider.token)).status).toBe(404);

  const writer = newId();
  const own = await follow(owner.token, writer);
  const other = await follow(owner.token);
  expect(other.headers.get("content-type")).toBe("text/event-stream");
  const edit = async (clientId: string, text: string) => {
    const doc = new Y.Doc();
    doc.getText(DOC_TEXT_NAME).insert(0, text);
    const update = Buffer.from(Y.encodeStateAsUpdate(doc)).toString("base64");
    const { data } = await trpc.docs.update.mutate({
      clientId,
      mutationId: 1,
      args: { field: "issues.description", rowId: issueId, update, at: tick() },
    });
    return `data: ${JSON.stringify({ id: data.id, clientId, update })}`;
  };
  const first = await edit(writer, "relayed");
  const second = await edit(newId(), "also ");
  // First `ready` (not complete: this runtime has no Electric to read the log from).
  const ready = `event: ready\ndata: ${JSON.stringify({ complete: false, pingMs: 15_000 })}`;
  expect(await readEvents(other, 4)).toEqual([ready, ": open", first, second]);
  // The writer's own update is not sent back: the next event after the open is the other's.
  expect(await readEvents(own, 3)).toEqual([ready, ": open", second]);
  await own.body?.cancel();
  // A client that goes away (the request's signal) stops its follow too.
  const aborter = new AbortController();
  await runtime.handleFollow(
    new Request(
      `http://web.test/api/docs/follow?field=issues.description&row=${issueId}`,
      {
        headers: { authorization: `Bearer ${owner.token}` },
        signal: aborter.signal,
      },
    ),
  );
  expect(runtime.collab.followers("issues.description", issueId)).toBe(2);
  aborter.abort();
  await other.body?.cancel();
  expect(runtime.collab.followers("issues.description", issueId)).toBe(0);
});

/** The first `count` events (without their blank line) of an SSE response. */
async function readEvents(response: Response, count: number) {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined =
    response.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  const events = () => text.split("\n\n").filter((event) => event !== "");
  while (events().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return events();
}

test("handleFollow answers 503 when the database is away, and logs why", async () => {
  const logged: string[] = [];
  const away = createApiRuntime({
    // Nothing listens on port 1.
    databaseUrl: "postgres://kit:kit@127.0.0.1:1/kit",
    onInternalError: (path) => logged.push(String(path)),
  });
  try {
    const response = await away.handleFollow(
      new Request(
        `http://web.test/api/docs/follow?field=issues.description&row=${newId()}`,
        { headers: { authorization: "Bearer no-such-session" } },
      ),
    );
    expect(response.status).toBe(503);
    expect(logged).toEqual(["/docs/follow"]);
  } finally {
    await away.close();
  }
});
